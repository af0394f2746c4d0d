"""PodDisruptionBudgets as kube counts them: terminating pods are not healthy, and
``maxUnavailable``/percentages count the controller's replicas, not the pods left."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient
from kubernetes.aio.client.exceptions import ApiException

from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.messages import Request
from fakes.kube.simulation import SimulatedCluster
from tests.unit.kube.controllers.test_sim_nodes import deployment, pods_of

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

# Slow enough that an evicted pod is still terminating, and its replacement not yet
# Ready, while the test looks at the budget.
SLOW = SimulationConfig(termination_latency=Delay.fixed(60.0), start_latency=Delay.fixed(30.0))


def evict(sim: SimulatedCluster, name: str) -> int:
    body = b'{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "%s"}}' % (
        name.encode()
    )
    path = f"/api/v1/namespaces/default/pods/{name}/eviction"
    return sim.cluster.router.dispatch(Request.from_url("POST", path, body=body)).status


def budget(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "db"},
        "spec": {**spec, "selector": {"matchLabels": {"app": "db"}}},
    }


@pytest.mark.parametrize("spec", [{"maxUnavailable": 1}, {"minAvailable": "50%"}])
async def test_back_to_back_evictions_cannot_exceed_the_budget(spec: dict[str, Any]) -> None:
    async with SimulatedCluster(seed=11, config=SLOW) as sim:
        sim.api.create("deployments", deployment("db", 3), "default")
        sim.api.create("poddisruptionbudgets", budget(spec), "default")
        await sim.settle()
        first, second, _ = sorted(p["metadata"]["name"] for p in pods_of(sim, "db"))
        assert evict(sim, first) == 201
        # The first pod is terminating: 2 of the 3 replicas are healthy and the budget
        # wants 2, so a second eviction would leave only one.
        assert evict(sim, second) == 429


async def test_status_counts_terminating_pods_out_of_healthy_but_in_expected() -> None:
    async with SimulatedCluster(seed=12, config=SLOW) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        policy = aclient.PolicyV1Api(api_client)
        sim.api.create("deployments", deployment("db", 3), "default")
        await policy.create_namespaced_pod_disruption_budget(
            "default", budget({"maxUnavailable": 1})
        )
        await sim.settle()
        status = (await policy.read_namespaced_pod_disruption_budget("db", "default")).status
        assert (status.expected_pods, status.current_healthy, status.desired_healthy) == (3, 3, 2)
        assert status.disruptions_allowed == 1

        first, second, _ = sorted(p["metadata"]["name"] for p in pods_of(sim, "db"))
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": first}}
        await core.create_namespaced_pod_eviction(first, "default", body)
        await asyncio.sleep(5)  # the controller has caught up; the pod is still terminating
        terminating = sim.api.get("pods", first, "default")
        assert terminating["metadata"].get("deletionTimestamp")
        status = (await policy.read_namespaced_pod_disruption_budget("db", "default")).status
        assert (status.expected_pods, status.current_healthy, status.desired_healthy) == (3, 2, 2)
        assert status.disruptions_allowed == 0
        assert not status.disrupted_pods  # dropped once the pod was seen terminating
        allowed = {c.type: (c.status, c.reason) for c in status.conditions}
        assert allowed["DisruptionAllowed"] == ("False", "InsufficientPods")

        with pytest.raises(ApiException) as refused:
            await core.create_namespaced_pod_eviction(
                second, "default", {**body, "metadata": {"name": second}}
            )
        assert refused.value.status == 429
        assert "needs 2 healthy pods and has 2 currently" in refused.value.body

        await sim.settle()
        status = (await policy.read_namespaced_pod_disruption_budget("db", "default")).status
        assert (status.current_healthy, status.disruptions_allowed) == (3, 1)
