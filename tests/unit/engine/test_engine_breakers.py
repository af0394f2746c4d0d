"""The engine's own circuit breakers, end to end: open, fail fast, probe, close.

``Engine(breakers=...)`` guards every action call; these tests drive a target that is
down for a while through the real dispatch path and read what an operator would see:
which calls reached the target, each attempt's error and timing, the breaker's events
and its Prometheus metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from engine import (
    ActionContext,
    BreakerPolicy,
    BreakerRegistry,
    Engine,
    EngineMetrics,
    EventKind,
    ExecutionStatus,
    TransientError,
    WorkflowTemplate,
)
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

DOWN_UNTIL = 35.0


async def test_a_failing_target_opens_its_breaker_and_calls_fail_fast_until_it_recovers() -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        breakers=BreakerRegistry(BreakerPolicy(failure_threshold=2, cool_down=30)),
    )
    metrics = EngineMetrics(engine)
    changes: list[tuple[float, str]] = []
    engine.events.subscribe(
        lambda e: (
            changes.append((round(e.time - t0, 3), str(e.data["state"])))
            if e.kind is EventKind.BREAKER_STATE_CHANGED
            else None
        )
    )
    calls: list[float] = []

    async def target(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(round(loop.time() - t0, 3))
        if loop.time() - t0 < DOWN_UNTIL:
            raise TransientError("503 from the target")
        return {"ok": True}

    engine.actions.register("target", target)
    template = WorkflowTemplate.model_validate(
        {
            "name": "guarded",
            "steps": [
                {
                    "id": "call",
                    "action": "target",
                    "retry": {"max_attempts": 10, "backoff": "fixed", "delay": 1},
                }
            ],
        }
    )
    result = await engine.run(template)
    assert result.status is ExecutionStatus.SUCCEEDED
    attempts = [
        (round(a.started_at - t0, 3), (a.error or "").split(":")[0], a.retry_delay)
        for a in result.step("call").attempts
    ]
    assert attempts == [
        (0.0, "TransientError", 1.0),
        (1.0, "TransientError", 1.0),  # the second failure in a row opens the breaker
        (2.0, "CircuitOpenError", 29.0),  # fails fast, and the retry waits out the cool-down
        (31.0, "TransientError", 1.0),  # the half-open probe reaches the target, still down
        (32.0, "CircuitOpenError", 29.0),  # open again for a new cool-down
        (61.0, "", None),  # the next probe succeeds
    ]
    assert calls == [0.0, 1.0, 31.0, 61.0]  # open means the target is not called at all
    assert changes == [
        (1.0, "open"),
        (31.0, "half_open"),
        (31.0, "open"),
        (61.0, "half_open"),
        (61.0, "closed"),
    ]
    sample = metrics.registry.get_sample_value
    name = "workflow_engine_breaker_transitions_total"
    assert sample(name, {"key": "target", "state": "open"}) == 2
    assert sample(name, {"key": "target", "state": "closed"}) == 1
    assert sample("workflow_engine_breaker_state", {"key": "target"}) == 0
    await engine.aclose()
    metrics.close()
