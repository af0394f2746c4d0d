"""Crash recovery in-process: a second engine resumes from a snapshot of the stores.

The snapshot is what a crashed process leaves behind: every committed transition and
nothing after. (tests/integration/test_crash_recovery.py does the same with a real
SIGKILL and the SQLite store.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine import ActionContext, Engine, EngineError, ExecutionStatus, StepStatus, WorkflowTemplate
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


def crash_snapshot(engine: Engine) -> tuple[InMemoryStateStorage, InMemoryExecutionRepository]:
    assert isinstance(engine.state, InMemoryStateStorage)
    assert isinstance(engine.repository, InMemoryExecutionRepository)
    return engine.state.snapshot(), engine.repository.snapshot()


def counting(engine: Engine, calls: list[str], *, idempotent: bool) -> None:
    async def work(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(ctx.step_id)
        await asyncio.sleep(float(params.get("seconds", 0)))
        return {"done": ctx.step_id}

    engine.actions.register("work", work, idempotent=idempotent)


async def restart(
    snapshot: tuple[InMemoryStateStorage, InMemoryExecutionRepository],
    templates: list[WorkflowTemplate],
    calls: list[str],
    *,
    idempotent: bool,
) -> Engine:
    state, repo = snapshot
    engine = Engine(state_storage=state, repository=repo, seed=7)
    counting(engine, calls, idempotent=idempotent)
    for t in templates:
        engine.register(t)
    return engine


def chain(wf: WF, **fields: Any) -> WorkflowTemplate:
    return wf(
        {"id": "a", "action": "work", "params": {"seconds": 10}},
        {"id": "b", "action": "work", "params": {"seconds": 10}, "depends_on": ["a"]},
        {"id": "c", "action": "work", "params": {"seconds": 10}, "depends_on": ["b"]},
        **fields,
    )


@pytest.mark.parametrize("idempotent", [True, False])
async def test_resume_after_a_crash_mid_step(wf: WF, idempotent: bool) -> None:
    first_calls: list[str] = []
    first = Engine(
        state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=7
    )
    counting(first, first_calls, idempotent=idempotent)
    template = chain(wf, failure_policy="continue")
    execution_id = await first.submit(template)
    await asyncio.sleep(15)  # a done, b running
    snapshot = crash_snapshot(first)
    await first.aclose()

    calls: list[str] = []
    second = await restart(snapshot, [template], calls, idempotent=idempotent)
    assert await second.recover() == [execution_id]
    result = await second.wait(execution_id)
    assert "a" not in calls  # completed steps never run again
    if idempotent:
        assert calls == ["b", "c"]
        assert result.status is ExecutionStatus.SUCCEEDED
        assert [a.error for a in result.step("b").attempts] == [None]
    else:
        assert calls == []
        b = result.step("b")
        assert (b.status, b.reason) == (StepStatus.FAILED, "interrupted")
        assert "not idempotent" in b.error
        assert result.step("c").status is StepStatus.SKIPPED
        assert result.status is ExecutionStatus.PARTIALLY_SUCCEEDED


async def test_paused_execution_stays_paused_after_recovery(wf: WF) -> None:
    first = Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())
    counting(first, [], idempotent=True)
    template = chain(wf)
    execution_id = await first.submit(template)
    await asyncio.sleep(1)
    first.pause(execution_id)
    await asyncio.sleep(20)  # a finished while paused; b not started
    snapshot = crash_snapshot(first)
    await first.aclose()

    calls: list[str] = []
    second = await restart(snapshot, [template], calls, idempotent=True)
    await second.recover()
    await asyncio.sleep(100)
    assert second.get(execution_id).status is ExecutionStatus.PAUSED
    assert calls == []
    second.resume(execution_id)
    assert (await second.wait(execution_id)).status is ExecutionStatus.SUCCEEDED
    assert calls == ["b", "c"]


async def test_workflow_deadline_keeps_counting_from_the_original_start(wf: WF) -> None:
    first = Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())
    counting(first, [], idempotent=True)
    template = chain(wf, timeout=25)
    execution_id = await first.submit(template)
    await asyncio.sleep(15)
    snapshot = crash_snapshot(first)
    await first.aclose()
    second = await restart(snapshot, [template], [], idempotent=True)
    await second.recover()
    result = await second.wait(execution_id)
    assert result.status is ExecutionStatus.FAILED
    assert result.execution.finished_at == pytest.approx(25)


async def test_recovery_needs_the_templates_and_keeps_idempotency_keys(wf: WF) -> None:
    first = Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())
    counting(first, [], idempotent=True)
    template = chain(wf)
    execution_id = await first.submit(template, idempotency_key="k1")
    snapshot = crash_snapshot(first)
    await first.aclose()
    second = Engine(state_storage=snapshot[0], repository=snapshot[1])
    with pytest.raises(EngineError, match="wf v1"):
        await second.recover()
    counting(second, [], idempotent=True)
    second.register(template)
    await second.recover()
    assert await second.submit(template, idempotency_key="k1") == execution_id
    assert (await second.wait(execution_id)).status is ExecutionStatus.SUCCEEDED


async def test_a_restarted_engine_with_the_same_seed_does_not_reuse_ids(wf: WF) -> None:
    first = Engine(
        state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=5
    )
    template = wf({"id": "a", "action": "noop"})
    done = [(await first.run(template)).execution.execution_id for _ in range(3)]
    state, repo = crash_snapshot(first)
    second = Engine(state_storage=state, repository=repo, seed=5)
    again = (await second.run(template)).execution.execution_id
    assert again not in done
    assert len(repo.list()) == 4


def undoing(engine: Engine, undone: list[str]) -> None:
    async def undo(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        undone.append(params["what"])
        await asyncio.sleep(10)
        return {"undone": params["what"]}

    engine.actions.register("undo", undo, idempotent=True)
    engine.actions.register("work", _instant, idempotent=True)


async def _instant(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"done": ctx.step_id}


async def test_a_crash_mid_rollback_resumes_without_repeating_finished_compensations(
    wf: WF,
) -> None:
    def step(sid: str, *deps: str) -> dict[str, Any]:
        return {
            "id": sid,
            "action": "work",
            "depends_on": list(deps),
            "compensation": {"action": "undo", "params": {"what": sid}},
        }

    template = wf(
        step("a"),
        step("b", "a"),
        step("c", "b"),
        {
            "id": "boom",
            "action": "fail_with_probability",
            "params": {"probability": 1, "retryable": False},
            "depends_on": ["c"],
        },
        rollback_on_failure=True,
    )
    first = Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())
    before: list[str] = []
    undoing(first, before)
    execution_id = await first.submit(template)
    await asyncio.sleep(15)  # c undone (0-10 s), b's undo half way (10-20 s)
    assert first.get(execution_id).status is ExecutionStatus.ROLLING_BACK
    assert before == ["c", "b"]
    snapshot = crash_snapshot(first)
    await first.aclose()

    after: list[str] = []
    second = Engine(state_storage=snapshot[0], repository=snapshot[1], seed=7)
    undoing(second, after)
    second.register(template)
    assert await second.recover() == [execution_id]
    result = await second.wait(execution_id)
    assert result.status is ExecutionStatus.ROLLED_BACK, result.execution.error
    assert after == ["b", "a"]  # c's recorded compensation is not repeated
    for sid in ("a", "b", "c"):
        assert (result.step(sid).compensation or {}).get("status") == "Succeeded"
