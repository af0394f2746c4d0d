"""Remediation workflows through the real engine on scenario profiles' clusters.

The profiles build the cluster, the engine runs Kubernetes actions against it through
the official asyncio client, and resource-aware admission reads the cluster's real room
(nodes, pods, quotas) through a capacity tracker. All in virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from engine import (
    Engine,
    EventKind,
    ExecutionStatus,
    StepStatus,
    WorkflowTemplate,
    default_registry,
)
from engine.admission import CapacityLedger
from engine.kube_actions import register_kube_actions
from engine.kube_actions.capacity import CapacityTracker
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage
from scenarios.builder import ScenarioCluster, build_cluster
from scenarios.loader import load_profile

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


@dataclass
class Setup:
    sim: ScenarioCluster
    engine: Engine
    ledger: CapacityLedger
    tracker: CapacityTracker


@asynccontextmanager
async def on_profile(name: str) -> AsyncIterator[Setup]:
    sim = await build_cluster(load_profile(name))
    client = sim.aio_api_client()
    registry = default_registry()
    register_kube_actions(registry, client)
    ledger = CapacityLedger()
    tracker = CapacityTracker(client, ledger, interval=30)
    await tracker.start()
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        actions=registry,
        admission=ledger,
        seed=3,
    )
    try:
        yield Setup(sim, engine, ledger, tracker)
    finally:
        await engine.aclose()
        await tracker.stop()
        await client.close()
        await sim.stop()


def grow_api(on_insufficient: str) -> WorkflowTemplate:
    return WorkflowTemplate.model_validate(
        {
            "name": f"grow-api-{on_insufficient}",
            "steps": [
                {
                    "id": "grow",
                    "action": "scale_deployment",
                    "params": {
                        "namespace": "default",
                        "name": "api",
                        "replicas": 4,
                        "timeout": 300,
                    },
                    "resources": {
                        "namespace": "default",
                        "replicas": 1,
                        "cpu": "100m",
                        "memory": "128Mi",
                    },
                    "on_insufficient": on_insufficient,
                }
            ],
        }
    )


async def test_a_full_quota_fails_a_scale_up_at_once_when_asked_to() -> None:
    async with on_profile("ResourceConstrained") as s:
        result = await s.engine.run(grow_api("fail"))
        step = result.step("grow")
        assert step.status is StepStatus.FAILED
        assert step.reason == "insufficient resources"
        assert step.error == (
            "cpu=100m, memory=128Mi, pods=1 in namespace default: not enough room in the quota "
            "of namespace default: cpu 100m > 0 free, pods 1 > 0 free"
        )
        assert s.sim.api.get("deployments", "api", "default")["spec"]["replicas"] == 3  # untouched


async def test_a_scale_up_waits_for_quota_room_and_then_runs() -> None:
    async with on_profile("ResourceConstrained") as s:
        throttled = []
        s.engine.events.subscribe(
            lambda e: throttled.append(e) if e.kind is EventKind.STEP_THROTTLED else None
        )
        execution_id = await s.engine.submit(grow_api("queue"))
        await asyncio.sleep(60)
        assert s.engine.get(execution_id).step("grow").status is StepStatus.PENDING
        assert len(throttled) == 1
        # An operator scales the worker down: two pod slots of the quota come free.
        s.sim.api.patch(
            "deployments", "worker", {"spec": {"replicas": 1}}, "default", patch_type="merge"
        )
        result = await s.engine.wait(execution_id)
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("grow").error
        outputs = result.step("grow").outputs
        assert (outputs["previous_replicas"], outputs["replicas"], outputs["ready_replicas"]) == (
            3,
            4,
            4,
        )
        assert s.ledger.reserved() == {}


async def test_waiting_for_a_rollout_rides_out_the_disaster_recovery_node_loss() -> None:
    async with on_profile("DisasterRecovery") as s:
        loop = asyncio.get_running_loop()
        victim = s.sim.node("last")
        template = WorkflowTemplate.model_validate(
            {
                "name": "after-node-loss",
                "steps": [
                    {"id": "let-it-break", "action": "sleep", "params": {"seconds": 150}},
                    {
                        "id": "drain",
                        "action": "drain_node",
                        "depends_on": ["let-it-break"],
                        "params": {"name": victim, "ignore_daemonsets": True, "timeout": 600},
                    },
                    {
                        "id": "gateway-ready",
                        "action": "wait_for_rollout",
                        "depends_on": ["drain"],
                        "params": {"namespace": "default", "name": "api-gateway", "timeout": 600},
                    },
                ],
            }
        )
        result = await s.engine.run(template)
        assert result.status is ExecutionStatus.SUCCEEDED, {
            k: v.error for k, v in result.steps.items()
        }
        assert result.step("gateway-ready").outputs["ready_replicas"] == 5
        assert loop.time() >= s.sim.t0 + 120
        assert s.sim.api.get("nodes", victim)["spec"]["unschedulable"] is True
        pods = s.sim.api.list("pods", "default", label_selector="app=api-gateway")
        assert all(
            p["spec"].get("nodeName") != victim
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
        )
