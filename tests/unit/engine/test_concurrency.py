"""Concurrency limits: engine-wide and per-workflow caps on running steps are never exceeded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine import Engine, Event, EventKind, ExecutionStatus, WorkflowTemplate
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


def peak_running(events: list[Event], execution_id: str | None = None) -> int:
    running = peak = 0
    for e in events:
        if execution_id is not None and e.execution_id != execution_id:
            continue
        if e.kind is EventKind.STEP_STARTED:
            running += 1
            peak = max(peak, running)
        elif e.kind is EventKind.STEP_FINISHED and e.attempt:
            running -= 1
    return peak


def fan(wf: WF, width: int, **fields: object) -> WorkflowTemplate:
    return wf(
        *({"id": f"s{i}", "action": "sleep", "params": {"seconds": 10}} for i in range(width)),
        **fields,
    )


async def test_per_workflow_limit_holds_and_paces_the_work(
    engine: Engine, events: list[Event], wf: WF
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(fan(wf, 12, max_concurrency=3))
    assert result.status is ExecutionStatus.SUCCEEDED
    assert peak_running(events) == 3
    assert loop.time() - start == pytest.approx(40)  # 12 steps, 3 at a time, 10 s each


async def test_engine_wide_limit_holds_across_executions(wf: WF) -> None:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        max_concurrency=4,
    )
    events: list[Event] = []
    engine.events.subscribe(events.append)
    ids = [await engine.submit(fan(wf, 5, max_concurrency=3)) for _ in range(6)]
    for i in ids:
        assert (await engine.wait(i)).status is ExecutionStatus.SUCCEEDED
    assert peak_running(events) == 4
    assert max(peak_running(events, i) for i in ids) <= 3
    assert engine.running_steps == 0


async def test_higher_priority_executions_are_dispatched_first(wf: WF) -> None:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        max_concurrency=1,
    )
    order: list[str] = []
    engine.events.subscribe(
        lambda e: order.append(e.execution_id) if e.kind is EventKind.STEP_STARTED else None
    )
    one, two = fan(wf, 1, name="one"), fan(wf, 2, name="two")
    blocker = await engine.submit(one, execution_id="blocker")
    low = await engine.submit(two, execution_id="low", priority=1)
    high = await engine.submit(two, execution_id="high", priority=5)
    low2 = await engine.submit(one, execution_id="low2", priority=1)
    for i in (blocker, low, high, low2):
        await engine.wait(i)
    assert order == ["blocker", "high", "high", "low", "low", "low2"]


async def test_invalid_engine_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_concurrency must be at least 1"):
        Engine(
            state_storage=InMemoryStateStorage(),
            repository=InMemoryExecutionRepository(),
            max_concurrency=0,
        )
