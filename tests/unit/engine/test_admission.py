"""Resource-aware admission: steps that declare resources wait for room, never over-commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine import (
    Engine,
    Event,
    EventKind,
    ExecutionStatus,
    StepStatus,
    TemplateError,
    WorkflowTemplate,
)
from engine.admission import CapacityLedger, Demand
from engine.metrics import EngineMetrics
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

WF = Callable[..., WorkflowTemplate]


def test_demand_multiplies_per_replica_sizes() -> None:
    demand = Demand.parse({"namespace": "prod", "replicas": 4, "cpu": "250m", "memory": "512Mi"})
    assert demand.describe() == "cpu=1, memory=2Gi, pods=4 in namespace prod"
    with pytest.raises(ValueError, match=r"resources\.cpu"):
        Demand.parse({"cpu": "lots"})
    with pytest.raises(ValueError, match=r"resources\.replicas"):
        Demand.parse({"replicas": -1})


def test_ledger_checks_cluster_and_quota_and_counts_reservations() -> None:
    ledger = CapacityLedger()
    ledger.set_cluster(
        {"cpu": "4", "memory": "8Gi", "pods": 50}, {"cpu": "3", "memory": "2Gi", "pods": 10}
    )
    ledger.set_quota(
        "prod", {"requests.cpu": "3", "pods": "12"}, {"requests.cpu": "1", "pods": "10"}
    )
    one = Demand.parse({"namespace": "prod", "cpu": "1"})
    assert ledger.try_reserve("a", one) is None
    assert ledger.try_reserve("b", one) == "not enough room in the cluster: cpu 1 > 0 free"
    ledger.release("a")
    assert ledger.try_reserve(
        "b", Demand.parse({"namespace": "prod", "cpu": "100m", "replicas": 3})
    ) == ("not enough room in the quota of namespace prod: pods 3 > 2 free")
    assert (
        ledger.try_reserve("c", Demand.parse({"namespace": "other", "cpu": "100m", "replicas": 3}))
        is None
    )


def scale_steps(
    wf: WF, count: int, *, policy: str = "fail_fast", **step: object
) -> WorkflowTemplate:
    return wf(
        *(
            {
                "id": f"scale-{i}",
                "action": "sleep",
                "params": {"seconds": 60},
                "resources": {"namespace": "prod", "replicas": 2, "cpu": "500m", "memory": "256Mi"},
                **step,
            }
            for i in range(count)
        ),
        failure_policy=policy,
    )


@pytest.fixture
def ledger() -> CapacityLedger:
    ledger = CapacityLedger()
    ledger.set_cluster(
        {"cpu": "4", "memory": "8Gi", "pods": 50}, {"cpu": "2", "memory": "1Gi", "pods": 4}
    )
    return ledger


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_steps_that_do_not_fit_wait_and_never_over_commit(
    ledger: CapacityLedger, wf: WF
) -> None:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        admission=ledger,
    )
    events: list[Event] = []
    engine.events.subscribe(events.append)
    peak = 0

    def watch(_: Event) -> None:
        nonlocal peak
        peak = max(peak, sum(d.cpu for d in ledger.reserved().values()))

    engine.events.subscribe(watch)
    metrics = EngineMetrics(engine)
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(scale_steps(wf, 5))  # 1 CPU each, 2 CPUs free: two at a time
    assert result.status is ExecutionStatus.SUCCEEDED
    assert peak == 2
    assert loop.time() - start == pytest.approx(180)  # 5 steps, 2 at a time, 60 s each
    throttled = [e for e in events if e.kind is EventKind.STEP_THROTTLED]
    assert {e.step_id for e in throttled} == {"scale-2", "scale-3", "scale-4"}
    assert metrics.registry.get_sample_value(
        "workflow_engine_steps_throttled_total", {"workflow": "wf"}
    ) == len(throttled)
    assert throttled[0].data["reason"] == "not enough room in the cluster: cpu 1 > 0 free"
    assert ledger.reserved() == {}
    assert engine.throttled_steps == 0


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_fail_policy_fails_at_once_naming_what_is_short(
    ledger: CapacityLedger, wf: WF
) -> None:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        admission=ledger,
    )
    result = await engine.run(scale_steps(wf, 3, policy="continue", on_insufficient="fail"))
    assert [s.status for s in result.steps.values()] == [
        StepStatus.SUCCEEDED,
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
    ]
    [refused] = [s for s in result.steps.values() if s.status is StepStatus.FAILED]
    assert refused.reason == "insufficient resources"
    assert refused.error == (
        "cpu=1, memory=512Mi, pods=2 in namespace prod: not enough room in the cluster: cpu 1 > 0 free"
    )
    assert result.status is ExecutionStatus.PARTIALLY_SUCCEEDED


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_measured_room_growing_releases_waiting_steps(wf: WF) -> None:
    ledger = CapacityLedger()
    ledger.set_cluster(
        {"cpu": "1", "memory": "1Gi", "pods": 5}, {"cpu": "1", "memory": "0", "pods": 0}
    )
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        admission=ledger,
    )
    execution_id = await engine.submit(scale_steps(wf, 1))
    await asyncio.sleep(100)
    assert engine.get(execution_id).step("scale-0").status is StepStatus.PENDING
    ledger.set_cluster(
        {"cpu": "8", "memory": "8Gi", "pods": 50}, {"cpu": "1", "memory": "0", "pods": 0}
    )
    result = await engine.wait(execution_id)
    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.step("scale-0").started_at == pytest.approx(100)


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_templated_resources_and_bad_resources(wf: WF, ledger: CapacityLedger) -> None:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        admission=ledger,
    )
    template = wf(
        {"id": "s", "action": "noop", "resources": {"replicas": "${{ inputs.n }}", "cpu": "1"}},
        inputs={"n": {"type": "integer"}},
    )
    assert (await engine.run(template, {"n": 2})).status is ExecutionStatus.SUCCEEDED
    waiting = await engine.submit(template, {"n": 3})  # 3 CPUs, 2 free: waits for room
    await asyncio.sleep(600)
    assert engine.get(waiting).step("s").status is StepStatus.PENDING
    assert engine.throttled_steps == 1
    engine.cancel(waiting)
    assert (await engine.wait(waiting)).status is ExecutionStatus.CANCELLED
    assert engine.throttled_steps == 0
    assert ledger.reserved() == {}
    with pytest.raises(TemplateError, match="unknown resource field"):
        engine.register(wf({"id": "s", "action": "noop", "resources": {"gpus": 1}}, name="bad"))
    with pytest.raises(TemplateError, match=r"resources\.cpu"):
        engine.register(
            wf({"id": "s", "action": "noop", "resources": {"cpu": "many"}}, name="bad2")
        )


@pytest.mark.parametrize(
    ("hard", "used", "demand", "short"),
    [
        # A quota that limits only pods leaves cpu and memory alone.
        ({"pods": "10"}, {"pods": "3"}, {"cpu": "2", "memory": "4Gi", "replicas": 7}, None),
        ({"pods": "10"}, {"pods": "3"}, {"cpu": "1", "replicas": 8}, "pods 8 > 7 free"),
        # Only cpu: memory and pods are not limited.
        ({"requests.cpu": "2"}, {"requests.cpu": "1"}, {"cpu": "1", "memory": "64Gi"}, None),
        ({"requests.cpu": "2"}, {"requests.cpu": "1"}, {"cpu": "1500m"}, "cpu 1500m > 1 free"),
        # Only memory.
        ({"requests.memory": "1Gi"}, {}, {"cpu": "8", "memory": "512Mi", "replicas": 2}, None),
        ({"memory": "1Gi"}, {"memory": "768Mi"}, {"memory": "512Mi"}, "memory 512Mi > 256Mi free"),
        # limits.* alone bounds nothing a request-sized demand can be checked against.
        ({"limits.cpu": "1", "limits.memory": "1Gi"}, {}, {"cpu": "4", "memory": "8Gi"}, None),
        # A fresh quota: status.used not written yet, so nothing is used.
        ({"requests.cpu": "2", "requests.memory": "2Gi", "pods": "4"}, {}, {"cpu": "2"}, None),
    ],
)
def test_a_resource_the_quota_does_not_name_does_not_constrain(
    hard: dict[str, str], used: dict[str, str], demand: dict[str, object], short: str | None
) -> None:
    ledger = CapacityLedger()
    ledger.set_quota("team", hard, used)
    reason = ledger.try_reserve("step", Demand.parse({"namespace": "team", **demand}))
    if short is None:
        assert reason is None
    else:
        assert reason == f"not enough room in the quota of namespace team: {short}"
