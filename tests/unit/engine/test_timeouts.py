"""Step and workflow timeouts, and how they interact with retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine import Engine, ExecutionStatus, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


async def test_step_past_its_timeout_is_cancelled_and_timed_out(engine: Engine, wf: WF) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(
        wf({"id": "a", "action": "sleep", "params": {"seconds": 600}, "timeout": 30})
    )
    step = result.step("a")
    assert step.status is StepStatus.TIMED_OUT
    assert step.error == "StepTimeoutError: attempt 1 exceeded the step timeout of 30.0s"
    assert loop.time() - start == pytest.approx(30)
    assert result.status is ExecutionStatus.FAILED


async def test_timeout_applies_per_attempt_and_timeouts_are_retried(engine: Engine, wf: WF) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "sleep",
                "params": {"seconds": 600},
                "timeout": 10,
                "retry": {"max_attempts": 3, "delay": 5, "backoff": "fixed"},
            }
        )
    )
    step = result.step("a")
    assert step.status is StepStatus.TIMED_OUT
    assert [a.retry_delay for a in step.attempts] == [5, 5, None]
    assert loop.time() - start == pytest.approx(10 + 5 + 10 + 5 + 10)


async def test_timeouts_are_not_retried_when_retry_on_excludes_them(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "sleep",
                "params": {"seconds": 600},
                "timeout": 10,
                "retry": {"max_attempts": 3, "retry_on": ["retryable"]},
            }
        )
    )
    assert len(result.step("a").attempts) == 1


async def test_workflow_timeout_stops_everything(engine: Engine, wf: WF) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(
        wf(
            {"id": "fast", "action": "noop"},
            {"id": "slow", "action": "sleep", "params": {"seconds": 3600}, "depends_on": ["fast"]},
            {"id": "after", "action": "noop", "depends_on": ["slow"]},
            timeout=120,
        )
    )
    assert loop.time() - start == pytest.approx(120)
    assert result.status is ExecutionStatus.FAILED
    assert result.execution.error == "the workflow timeout of 120.0s passed"
    assert result.statuses() == {
        "fast": StepStatus.SUCCEEDED,
        "slow": StepStatus.TIMED_OUT,
        "after": StepStatus.CANCELLED,
    }


async def test_workflow_timeout_interrupts_a_backoff_wait(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "fail_with_probability",
                "params": {"probability": 1},
                "retry": {"max_attempts": 5, "delay": 100},
            },
            timeout=50,
        )
    )
    step = result.step("a")
    assert step.status is StepStatus.TIMED_OUT
    assert len(step.attempts) == 1


async def test_a_step_finishing_in_time_is_not_affected(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf({"id": "a", "action": "sleep", "params": {"seconds": 5}, "timeout": 30}),
    )
    assert result.step("a").status is StepStatus.SUCCEEDED
