"""Every transition goes through the stores; the event stream reports what happened."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import pytest

from engine import (
    Engine,
    EngineError,
    Event,
    EventKind,
    ExecutionRecord,
    ExecutionStatus,
    StepRecord,
    StepStatus,
    UnknownExecutionError,
    WorkflowTemplate,
)
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


class RecordingStorage(InMemoryStateStorage):
    """Keeps the sequence of statuses written, to check no transition is skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, str]] = []

    def save(
        self, execution_id: str, execution: ExecutionRecord | None, steps: Iterable[StepRecord]
    ) -> None:
        steps = list(steps)
        if execution is not None:
            self.writes.append(("execution", execution.status))
        self.writes.extend((s.step_id, s.status) for s in steps)
        super().save(execution_id, execution, steps)

    def save_step(self, execution_id: str, step: StepRecord) -> None:
        self.writes.append((step.step_id, step.status))
        super().save_step(execution_id, step)


async def test_every_transition_is_persisted_in_order(wf: WF) -> None:
    storage = RecordingStorage()
    engine = Engine(state_storage=storage, repository=InMemoryExecutionRepository())
    await engine.run(
        wf(
            {
                "id": "a",
                "action": "fail_with_probability",
                "params": {"probability": 1},
                "retry": {"max_attempts": 2, "delay": 1},
            },
            {"id": "b", "action": "noop", "depends_on": ["a"]},
            failure_policy="continue",
        )
    )
    assert storage.writes == [
        ("execution", "Pending"),
        ("execution", "Running"),
        ("a", "Running"),
        ("a", "Running"),  # the failed first attempt, with its retry delay
        ("a", "Failed"),
        ("b", "Skipped"),
        ("execution", "Failed"),
    ]


async def test_repository_lists_by_workflow_status_and_time_window(engine: Engine, wf: WF) -> None:
    ok = wf({"id": "a", "action": "sleep", "params": {"seconds": 10}}, name="ok")
    bad = wf(
        {"id": "a", "action": "fail_with_probability", "params": {"probability": 1}}, name="bad"
    )
    first = await engine.run(ok)
    second = await engine.run(bad)
    await asyncio.sleep(1)
    third = await engine.run(ok)
    repo = engine.repository
    assert [r.execution_id for r in repo.list(workflow="ok")] == [
        first.execution.execution_id,
        third.execution.execution_id,
    ]
    assert [r.execution_id for r in repo.list(status=ExecutionStatus.FAILED)] == [
        second.execution.execution_id
    ]
    assert repo.list(since=third.execution.created_at) == [third.execution]
    assert repo.list(until=second.execution.created_at) == [first.execution]
    assert len(repo.list(limit=2)) == 2


async def test_get_reports_unstarted_steps_as_pending_and_unknown_ids_clearly(
    engine: Engine, wf: WF
) -> None:
    execution_id = await engine.submit(
        wf(
            {"id": "a", "action": "sleep", "params": {"seconds": 5}},
            {"id": "b", "action": "noop", "depends_on": ["a"]},
        )
    )
    state = engine.get(execution_id)
    assert state.status is ExecutionStatus.RUNNING
    assert state.step("b").status is StepStatus.PENDING
    with pytest.raises(UnknownExecutionError, match="no execution with id 'nope'"):
        engine.get("nope")
    with pytest.raises(KeyError, match="execution has no step 'zz'"):
        state.step("zz")
    await engine.wait(execution_id)


async def test_duplicate_execution_id_is_refused_without_touching_the_first(
    engine: Engine, wf: WF
) -> None:
    template = wf({"id": "a", "action": "noop"})
    first = await engine.run(template, execution_id="x1")
    with pytest.raises(EngineError, match="already exists"):
        await engine.submit(template, execution_id="x1")
    assert engine.get("x1") == first


async def test_reregistering_a_version_with_other_content_is_refused(
    engine: Engine, wf: WF
) -> None:
    engine.register(wf({"id": "a", "action": "noop"}, name="t"))
    engine.register(wf({"id": "a", "action": "noop"}, name="t"))  # identical: fine
    with pytest.raises(EngineError, match="register it as a new version"):
        engine.register(wf({"id": "b", "action": "noop"}, name="t"))
    engine.register(wf({"id": "b", "action": "noop"}, name="t", version=2))
    assert engine.template("t").version == 2
    assert engine.template("t", 1).steps[0].id == "a"


async def test_event_stream_reports_steps_retries_and_the_outcome(
    engine: Engine, events: list[Event], wf: WF
) -> None:
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "fail_with_probability",
                "params": {"probability": 1},
                "retry": {"max_attempts": 2, "delay": 3},
            }
        )
    )
    kinds = [(e.kind, e.step_id, e.status) for e in events]
    assert kinds == [
        (EventKind.EXECUTION_SUBMITTED, None, "Pending"),
        (EventKind.EXECUTION_STARTED, None, "Running"),
        (EventKind.STEP_STARTED, "a", "Running"),
        (EventKind.STEP_RETRYING, "a", "Running"),
        (EventKind.STEP_FINISHED, "a", "Failed"),
        (EventKind.DEAD_LETTERED, "a", "Failed"),
        (EventKind.EXECUTION_FINISHED, None, "Failed"),
    ]
    retry = events[3]
    assert retry.data["delay"] == 3
    assert retry.attempt == 1
    assert {e.execution_id for e in events} == {result.execution.execution_id}


async def test_async_event_stream_and_a_broken_subscriber(engine: Engine, wf: WF) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    engine.events.subscribe(broken)
    stream = engine.events.stream(until=lambda e: e.kind is EventKind.EXECUTION_FINISHED)
    execution_id = await engine.submit(wf({"id": "a", "action": "sleep", "params": {"seconds": 1}}))
    seen = [e.kind async for e in stream]
    assert seen[-1] is EventKind.EXECUTION_FINISHED
    assert (await engine.wait(execution_id)).status is ExecutionStatus.SUCCEEDED
    assert [str(e) for e in engine.events.errors] == ["listener bug"]


async def test_finished_returns_the_outcome_without_loading_steps(engine: Engine, wf: WF) -> None:
    execution_id = await engine.submit(wf({"id": "a", "action": "sleep", "params": {"seconds": 3}}))
    record = await engine.finished(execution_id)
    assert record.status is ExecutionStatus.SUCCEEDED
    assert record == engine.get(execution_id).execution
    with pytest.raises(UnknownExecutionError):
        await engine.finished("nope")
