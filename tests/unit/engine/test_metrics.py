"""Prometheus metrics follow what real workflows do in the engine, in a registry of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from engine import (
    ActionContext,
    Engine,
    Event,
    EventKind,
    ExecutionStatus,
    TransientError,
    WorkflowTemplate,
)
from engine.circuit_breaker import BreakerState, breaker_event
from engine.metrics import EngineMetrics
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]
NS = "workflow_engine"


@pytest.fixture
def metrics(engine: Engine) -> EngineMetrics:
    return EngineMetrics(engine)


def sample(metrics: EngineMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(f"{NS}_{name}", labels)


async def flaky(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    if ctx.attempt < 3:
        raise TransientError("apiserver said 503")
    return {}


async def test_retried_skipped_and_succeeded_steps(
    engine: Engine, metrics: EngineMetrics, wf: WF
) -> None:
    engine.actions.register("flaky", flaky)
    result = await engine.run(
        wf(
            {
                "id": "rollout",
                "action": "flaky",
                "retry": {"max_attempts": 5, "delay": 2, "backoff": "linear"},
            },
            {"id": "verify", "action": "sleep", "params": {"seconds": 0.003}},
            {"id": "notify", "action": "noop", "when": "false", "depends_on": ["rollout"]},
            name="restart",
        )
    )
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert sample(metrics, "executions_total", workflow="restart", status="Succeeded") == 1
    assert sample(metrics, "steps_total", workflow="restart", status="Succeeded") == 2
    assert sample(metrics, "steps_total", workflow="restart", status="Skipped") == 1
    assert sample(metrics, "step_retries_total", workflow="restart") == 2
    # Skipped steps never started: they have no duration.
    assert (
        sample(metrics, "step_duration_seconds_count", workflow="restart", status="Succeeded") == 2
    )
    assert (
        sample(metrics, "step_duration_seconds_count", workflow="restart", status="Skipped") is None
    )
    assert sample(metrics, "active_executions") == 0


async def test_step_durations_fill_the_histogram_buckets(
    engine: Engine, metrics: EngineMetrics, wf: WF
) -> None:
    await engine.run(
        wf(
            {"id": "instant", "action": "noop"},
            {"id": "quick", "action": "sleep", "params": {"seconds": 0.003}},
            {"id": "rollout", "action": "sleep", "params": {"seconds": 7}},
            {"id": "drain", "action": "sleep", "params": {"seconds": 1500}},
        )
    )
    labels = {"workflow": "wf", "status": "Succeeded"}
    assert sample(metrics, "step_duration_seconds_count", **labels) == 4
    assert sample(metrics, "step_duration_seconds_sum", **labels) == pytest.approx(1507.003)
    cumulative = {
        le: sample(metrics, "step_duration_seconds_bucket", le=le, **labels)
        for le in ("0.001", "0.005", "5.0", "10.0", "1200.0", "1800.0", "+Inf")
    }
    assert cumulative == {
        "0.001": 1,
        "0.005": 2,
        "5.0": 2,
        "10.0": 3,
        "1200.0": 3,
        "1800.0": 4,
        "+Inf": 4,
    }


async def test_failed_execution_and_failed_steps(
    engine: Engine, metrics: EngineMetrics, wf: WF
) -> None:
    failing = wf(
        {
            "id": "drain",
            "action": "fail_with_probability",
            "params": {"probability": 1},
            "retry": {"max_attempts": 3, "delay": 1, "retry_on": ["any"]},
        },
        name="drain-node",
    )
    for _ in range(2):
        result = await engine.run(failing)
        assert result.execution.status is ExecutionStatus.FAILED
    await engine.run(wf({"id": "a", "action": "noop"}, name="drain-node", version=2))
    assert sample(metrics, "executions_total", workflow="drain-node", status="Failed") == 2
    assert sample(metrics, "executions_total", workflow="drain-node", status="Succeeded") == 1
    assert sample(metrics, "steps_total", workflow="drain-node", status="Failed") == 2
    assert sample(metrics, "step_retries_total", workflow="drain-node") == 4
    assert (
        sample(metrics, "step_duration_seconds_count", workflow="drain-node", status="Failed") == 2
    )


async def test_queue_depth_running_and_active_are_read_on_scrape(wf: WF) -> None:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        max_concurrency=2,
    )
    metrics = EngineMetrics(engine)
    try:
        fan = wf(*({"id": f"s{i}", "action": "sleep", "params": {"seconds": 10}} for i in range(5)))
        first = await engine.submit(fan)
        await engine.submit(fan)
        await asyncio.sleep(1)
        assert sample(metrics, "running_steps") == 2
        assert sample(metrics, "ready_steps") == 8
        assert sample(metrics, "active_executions") == 2
        await engine.wait(first)
        # At t=30 the second execution has one step done and two running.
        assert sample(metrics, "active_executions") == 1
        assert sample(metrics, "running_steps") == 2
        assert sample(metrics, "ready_steps") == 2
    finally:
        await engine.aclose()
    assert sample(metrics, "running_steps") == 0
    assert sample(metrics, "ready_steps") == 0
    assert sample(metrics, "active_executions") == 0
    assert sample(metrics, "executions_total", workflow="wf", status="Cancelled") == 1


async def test_breaker_state_gauge_follows_breaker_events(
    engine: Engine, metrics: EngineMetrics
) -> None:
    web = "scale:prod/web"
    transitions = [
        (BreakerState.CLOSED, BreakerState.OPEN, 2),
        (BreakerState.OPEN, BreakerState.HALF_OPEN, 1),
        (BreakerState.HALF_OPEN, BreakerState.OPEN, 2),
        (BreakerState.OPEN, BreakerState.HALF_OPEN, 1),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED, 0),
    ]
    for old, new, level in transitions:
        engine.events.emit(breaker_event(web, old, new, "test", time=0.0))
        assert sample(metrics, "breaker_state", key=web) == level
    assert sample(metrics, "breaker_state", key="scale:prod/db") is None
    assert sample(metrics, "breaker_transitions_total", key=web, state="open") == 2
    assert sample(metrics, "breaker_transitions_total", key=web, state="half_open") == 2
    assert sample(metrics, "breaker_transitions_total", key=web, state="closed") == 1


async def test_malformed_event_is_skipped_without_losing_the_subscription(
    engine: Engine, metrics: EngineMetrics, wf: WF
) -> None:
    bad = Event(EventKind.BREAKER_STATE_CHANGED, "", 0.0, "", data={"key": "k", "state": "ajar"})
    engine.events.emit(bad)
    engine.events.emit(Event(EventKind.BREAKER_STATE_CHANGED, "", 0.0, "", data={}))
    assert metrics.malformed_events == 2
    assert engine.events.errors == []
    await engine.run(wf({"id": "a", "action": "noop"}))
    assert sample(metrics, "executions_total", workflow="wf", status="Succeeded") == 1


async def test_dead_letters_are_counted(engine: Engine, metrics: EngineMetrics) -> None:
    for _ in range(3):
        engine.events.emit(Event(EventKind.DEAD_LETTERED, "e-1", 0.0, "rollback", status="Failed"))
    assert sample(metrics, "dead_letters_total", workflow="rollback") == 3


async def test_render_gives_the_text_exposition(
    engine: Engine, metrics: EngineMetrics, wf: WF
) -> None:
    await engine.run(wf({"id": "a", "action": "noop"}, name="probe"))
    text = metrics.render()
    assert f"# TYPE {NS}_executions_total counter" in text
    assert f'{NS}_executions_total{{status="Succeeded",workflow="probe"}} 1.0' in text
    assert f"# TYPE {NS}_step_duration_seconds histogram" in text
    assert f"{NS}_ready_steps 0.0" in text
    assert metrics.content_type.startswith("text/plain")


async def test_durations_at_the_edges_land_in_the_first_and_overflow_buckets(
    engine: Engine, metrics: EngineMetrics, wf: WF
) -> None:
    """A 1 ms step is in the first bucket (le is inclusive); one past 30 min only in +Inf."""
    await engine.run(
        wf(
            {"id": "edge", "action": "sleep", "params": {"seconds": 0.001}},
            {"id": "long", "action": "sleep", "params": {"seconds": 1800.5}},
            name="edges",
        )
    )
    labels = {"workflow": "edges", "status": "Succeeded"}
    buckets = {
        le: sample(metrics, "step_duration_seconds_bucket", le=le, **labels)
        for le in ("0.001", "0.0025", "1800.0", "+Inf")
    }
    assert buckets == {"0.001": 1, "0.0025": 1, "1800.0": 1, "+Inf": 2}


async def test_registries_are_isolated_and_the_global_one_untouched(wf: WF) -> None:
    engines = [
        Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())
        for _ in range(2)
    ]
    first, second = (EngineMetrics(e) for e in engines)
    shared = CollectorRegistry()
    named = EngineMetrics(engines[0], shared, namespace="team_a")
    await engines[0].run(wf({"id": "a", "action": "noop"}))
    assert sample(first, "executions_total", workflow="wf", status="Succeeded") == 1
    assert sample(second, "executions_total", workflow="wf", status="Succeeded") is None
    assert (
        shared.get_sample_value(
            "team_a_executions_total", {"workflow": "wf", "status": "Succeeded"}
        )
        == 1
    )
    assert named.registry is shared
    assert (
        REGISTRY.get_sample_value(
            f"{NS}_executions_total", {"workflow": "wf", "status": "Succeeded"}
        )
        is None
    )


async def test_close_stops_counting(engine: Engine, metrics: EngineMetrics, wf: WF) -> None:
    await engine.run(wf({"id": "a", "action": "noop"}))
    metrics.close()
    metrics.close()
    assert not engine.events.active
    await engine.run(wf({"id": "a", "action": "noop"}))
    assert sample(metrics, "executions_total", workflow="wf", status="Succeeded") == 1
