"""Pause, resume and cancel of a running execution."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine import Engine, EngineError, ExecutionStatus, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


def chain(wf: WF) -> WorkflowTemplate:
    return wf(
        {"id": "a", "action": "sleep", "params": {"seconds": 10}},
        {"id": "b", "action": "sleep", "params": {"seconds": 10}, "depends_on": ["a"]},
    )


async def test_pause_lets_running_steps_finish_and_starts_nothing_new(
    engine: Engine, wf: WF
) -> None:
    execution_id = await engine.submit(chain(wf))
    await asyncio.sleep(5)
    engine.pause(execution_id)
    assert engine.get(execution_id).status is ExecutionStatus.PAUSED
    await asyncio.sleep(100)
    state = engine.get(execution_id)
    assert state.step("a").status is StepStatus.SUCCEEDED
    assert state.step("b").status is StepStatus.PENDING
    engine.resume(execution_id)
    result = await engine.wait(execution_id)
    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.step("b").started_at == pytest.approx(105)


async def test_cancel_stops_running_steps_promptly(engine: Engine, wf: WF) -> None:
    execution_id = await engine.submit(chain(wf))
    await asyncio.sleep(3)
    engine.cancel(execution_id)
    result = await engine.wait(execution_id)
    assert result.status is ExecutionStatus.CANCELLED
    assert result.statuses() == {"a": StepStatus.CANCELLED, "b": StepStatus.CANCELLED}
    assert result.step("a").finished_at == pytest.approx(3)
    assert result.step("b").reason == "execution cancelled"


async def test_cancel_a_paused_execution(engine: Engine, wf: WF) -> None:
    execution_id = await engine.submit(chain(wf))
    engine.pause(execution_id)
    engine.cancel(execution_id)
    assert (await engine.wait(execution_id)).status is ExecutionStatus.CANCELLED


async def test_lifecycle_calls_on_finished_or_unknown_executions(engine: Engine, wf: WF) -> None:
    done = await engine.run(wf({"id": "a", "action": "noop"}))
    with pytest.raises(EngineError, match="has already finished"):
        engine.cancel(done.execution.execution_id)
    with pytest.raises(EngineError, match="no execution with id"):
        engine.pause("missing")


async def test_closing_the_engine_cancels_active_executions(wf: WF) -> None:
    from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

    engine = Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())
    execution_id = await engine.submit(chain(wf))
    await engine.aclose()
    assert engine.get(execution_id).status is ExecutionStatus.CANCELLED
    with pytest.raises(EngineError, match="closed"):
        await engine.submit(chain(wf))
