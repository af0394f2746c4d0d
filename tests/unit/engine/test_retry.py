"""Retries are applied: attempts, backoff shapes, caps, seeded jitter, retryable classes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine import (
    ActionContext,
    Engine,
    ExecutionStatus,
    PermanentError,
    RetryPolicy,
    StepStatus,
    TransientError,
    WorkflowTemplate,
)
from engine.retry import backoff_delay, is_retryable

WF = Callable[..., WorkflowTemplate]


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        (RetryPolicy(backoff="fixed", delay=5), [5, 5, 5, 5]),
        (RetryPolicy(backoff="linear", delay=5), [5, 10, 15, 20]),
        (RetryPolicy(backoff="exponential", delay=5), [5, 10, 20, 40]),
        (RetryPolicy(backoff="exponential", delay=5, multiplier=3, max_delay=50), [5, 15, 45, 50]),
        (RetryPolicy(backoff="linear", delay=30, max_delay=70), [30, 60, 70, 70]),
    ],
)
def test_backoff_shapes_and_cap(policy: RetryPolicy, delays: list[float]) -> None:
    assert [backoff_delay(policy, n) for n in range(1, 5)] == delays


def test_exponential_backoff_does_not_overflow() -> None:
    policy = RetryPolicy(max_attempts=1000, delay=1, multiplier=100, max_delay=600)
    assert backoff_delay(policy, 999) == 600


def test_jitter_stays_within_its_fraction_and_is_seeded() -> None:
    policy = RetryPolicy(backoff="fixed", delay=100, jitter=0.2)
    first = [backoff_delay(policy, 1, random.Random(i)) for i in range(200)]
    again = [backoff_delay(policy, 1, random.Random(i)) for i in range(200)]
    assert first == again
    assert all(80 <= d <= 120 for d in first)
    assert min(first) < 90


def test_jitter_spreads_both_ways_below_the_cap() -> None:
    policy = RetryPolicy(backoff="fixed", delay=100, jitter=0.2, max_delay=1000)
    delays = [backoff_delay(policy, 1, random.Random(i)) for i in range(200)]
    assert 80 <= min(delays) < 90
    assert 110 < max(delays) <= 120


def test_retry_on_classes() -> None:
    default = RetryPolicy(max_attempts=3)
    assert is_retryable(default, TransientError("x"), ())
    assert not is_retryable(default, PermanentError("x"), ())
    assert not is_retryable(default, KeyError("x"), ())
    assert is_retryable(default, ConnectionError("x"), (ConnectionError,))
    assert is_retryable(RetryPolicy(retry_on=("any",)), KeyError("x"), ())
    assert not is_retryable(RetryPolicy(retry_on=("timeout",)), TransientError("x"), ())


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_retries_until_success_and_records_attempts_and_delays(
    engine: Engine, wf: WF
) -> None:
    calls: list[int] = []

    async def flaky(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(ctx.attempt)
        if ctx.attempt < 3:
            raise TransientError("apiserver said 503")
        return {"attempt": ctx.attempt}

    engine.actions.register("flaky", flaky)
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "flaky",
                "retry": {"max_attempts": 5, "delay": 2, "backoff": "linear"},
            }
        )
    )
    step = result.step("a")
    assert step.status is StepStatus.SUCCEEDED
    assert calls == [1, 2, 3]
    assert [(a.number, a.error, a.retry_delay) for a in step.attempts] == [
        (1, "TransientError: apiserver said 503", 2),
        (2, "TransientError: apiserver said 503", 4),
        (3, None, None),
    ]
    assert step.outputs == {"attempt": 3}
    assert loop.time() - start == pytest.approx(6)


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_non_retryable_error_is_not_retried(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "fail_with_probability",
                "params": {"probability": 1, "retryable": False},
                "retry": {"max_attempts": 5},
            }
        )
    )
    step = result.step("a")
    assert step.status is StepStatus.FAILED
    assert len(step.attempts) == 1
    assert result.status is ExecutionStatus.FAILED


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_declared_retryable_exception_types_are_retried(engine: Engine, wf: WF) -> None:
    async def connects(ctx: ActionContext, params: Mapping[str, Any]) -> None:
        raise ConnectionResetError("peer went away")

    engine.actions.register("connects", connects, retryable=(ConnectionError,))
    result = await engine.run(
        wf({"id": "a", "action": "connects", "retry": {"max_attempts": 3, "delay": 1}})
    )
    step = result.step("a")
    assert len(step.attempts) == 3
    assert step.reason == "gave up after 3 attempts"


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_template_default_retry_policy_applies_to_steps(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "fail_with_probability", "params": {"probability": 1}},
            retry={"max_attempts": 4, "delay": 1, "backoff": "fixed"},
        )
    )
    assert len(result.step("a").attempts) == 4


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_minutes_of_backoff_finish_in_virtual_time(engine: Engine, wf: WF) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "fail_with_probability",
                "params": {"probability": 1},
                "retry": {"max_attempts": 6, "delay": 30, "max_delay": 120},
            }
        )
    )
    assert [a.retry_delay for a in result.step("a").attempts] == [30, 60, 120, 120, 120, None]
    assert loop.time() - start == pytest.approx(450)
