from __future__ import annotations

import asyncio

import pytest

from engine import Engine, ExecutionStatus, RetryPolicy, StepSpec, StepStatus, WorkflowTemplate


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_retry_with_backoff_in_virtual_time(engine: Engine) -> None:
    t = WorkflowTemplate(
        name="w",
        steps=[
            StepSpec(
                id="a",
                action="fail_with_probability",
                params={"probability": 1.0},
                retry=RetryPolicy(max_attempts=4, delay=60, backoff="exponential"),
            ),
        ],
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(t)
    assert result.status is ExecutionStatus.FAILED
    a = result.step("a")
    assert a.status is StepStatus.FAILED
    assert [x.retry_delay for x in a.attempts] == [60, 120, 240, None]
    assert loop.time() - start == pytest.approx(420)
