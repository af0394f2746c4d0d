"""Dependency-ordered execution: steps start only after their dependencies finish."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine import Engine, Event, EventKind, ExecutionStatus, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


def timeline(events: list[Event], kind: EventKind) -> dict[str, float]:
    return {e.step_id: e.time for e in events if e.kind is kind and e.step_id is not None}


async def test_linear_chain_runs_in_order_and_records_results(
    engine: Engine, events: list[Event], wf: WF
) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "sleep", "params": {"seconds": 5}},
            {"id": "b", "action": "sleep", "params": {"seconds": 3}, "depends_on": ["a"]},
            {"id": "c", "action": "noop", "params": {"done": True}, "depends_on": ["b"]},
        )
    )
    assert result.status is ExecutionStatus.SUCCEEDED
    started, finished = (
        timeline(events, EventKind.STEP_STARTED),
        timeline(events, EventKind.STEP_FINISHED),
    )
    assert started["b"] >= finished["a"]
    assert started["c"] >= finished["b"]
    assert result.step("a").outputs == {"slept": 5.0}
    assert result.step("c").outputs == {"done": True}
    assert result.step("b").finished_at - result.step("b").started_at == pytest.approx(3)
    assert result.execution.finished_at - result.execution.started_at == pytest.approx(8)


async def test_diamond_joins_after_both_branches(
    engine: Engine, events: list[Event], wf: WF
) -> None:
    result = await engine.run(
        wf(
            {"id": "top", "action": "noop"},
            {"id": "left", "action": "sleep", "params": {"seconds": 10}, "depends_on": ["top"]},
            {"id": "right", "action": "sleep", "params": {"seconds": 2}, "depends_on": ["top"]},
            {"id": "join", "action": "noop", "depends_on": ["left", "right"]},
        )
    )
    assert set(result.statuses().values()) == {StepStatus.SUCCEEDED}
    started, finished = (
        timeline(events, EventKind.STEP_STARTED),
        timeline(events, EventKind.STEP_FINISHED),
    )
    assert started["left"] == started["right"]  # independent branches run concurrently
    assert started["join"] == pytest.approx(finished["left"])
    assert started["join"] >= finished["right"]


async def test_wide_fan_out_fan_in_runs_branches_concurrently(
    engine: Engine, events: list[Event], wf: WF
) -> None:
    width = 200
    steps = [{"id": "src", "action": "noop"}]
    steps += [
        {"id": f"b{i}", "action": "sleep", "params": {"seconds": 30}, "depends_on": ["src"]}
        for i in range(width)
    ]
    steps.append({"id": "sink", "action": "noop", "depends_on": [f"b{i}" for i in range(width)]})
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(wf(*steps))
    assert result.status is ExecutionStatus.SUCCEEDED
    assert loop.time() - start == pytest.approx(30)  # 200 × 30 s in parallel, not in series
    started = timeline(events, EventKind.STEP_STARTED)
    finished = timeline(events, EventKind.STEP_FINISHED)
    assert started["sink"] >= max(finished[f"b{i}"] for i in range(width))


async def test_several_executions_run_side_by_side(engine: Engine, wf: WF) -> None:
    template = wf({"id": "a", "action": "sleep", "params": {"seconds": 60}})
    loop = asyncio.get_running_loop()
    start = loop.time()
    ids = [await engine.submit(template) for _ in range(50)]
    results = [await engine.wait(i) for i in ids]
    assert {r.status for r in results} == {ExecutionStatus.SUCCEEDED}
    assert loop.time() - start == pytest.approx(60)
    assert len(set(ids)) == 50


async def test_same_workflow_gives_same_result_every_run(wf: WF) -> None:
    from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

    template = wf(
        {
            "id": "a",
            "action": "fail_with_probability",
            "params": {"probability": 0.5},
            "retry": {"max_attempts": 6, "delay": 10, "jitter": 0.5},
        },
        {
            "id": "b",
            "action": "fail_with_probability",
            "params": {"probability": 0.5},
            "retry": {"max_attempts": 6, "delay": 10, "jitter": 0.5},
        },
        {"id": "c", "action": "noop", "depends_on": ["a", "b"], "trigger_rule": "all_done"},
    )
    outcomes = []
    for _ in range(2):
        engine = Engine(
            state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=42
        )
        result = await engine.run(template, execution_id="fixed-id")
        outcomes.append(
            {
                sid: (r.status, [(a.error, a.retry_delay) for a in r.attempts])
                for sid, r in result.steps.items()
            }
        )
    assert outcomes[0] == outcomes[1]
