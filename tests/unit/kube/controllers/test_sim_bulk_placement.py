"""The settled path places pods by the scheduler's rules and numbers them from one pool."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.controllers.config import NodeShape
from fakes.kube.simulation import SimulatedCluster
from tests.unit.kube.controllers.test_sim_bulk import deployment as plain_deployment

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
]

GPU_TAINT = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}


def deployment(name: str, replicas: int, cpu: str = "100m", **pod_spec: Any) -> dict[str, Any]:
    body = plain_deployment(name, replicas, cpu)
    body["spec"]["template"]["spec"].update(pod_spec)
    return body


def cluster() -> SimulatedCluster:
    """Two plain nodes (one labelled ssd), one GPU node tainted NoSchedule, one cordoned."""
    sim = SimulatedCluster(seed=4, nodes=0)
    shape = NodeShape(cpu="4", memory="8Gi", pods=20)
    sim.add_node("plain-1", shape)
    sim.add_node("plain-2", shape, labels={"disk": "ssd"})
    sim.add_node("gpu-1", shape, labels={"disk": "ssd"}, taints=[GPU_TAINT])
    sim.add_node("cordoned-1", shape)
    sim.cordon("cordoned-1")
    return sim


def nodes_of(sim: SimulatedCluster, app: str) -> set[str]:
    return {p["spec"]["nodeName"] for p in sim.api.list("pods", label_selector=f"app={app}")}


async def test_pods_go_only_where_selector_taints_and_cordons_allow() -> None:
    sim = cluster()
    sim.add_settled_deployment(deployment("plain", 6))
    sim.add_settled_deployment(deployment("ssd", 4, nodeSelector={"disk": "ssd"}))
    tolerant = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    sim.add_settled_deployment(deployment("anywhere", 6, tolerations=tolerant))
    sim.add_settled_deployment(
        deployment("gpu", 2, nodeSelector={"disk": "ssd"}, tolerations=[{**GPU_TAINT}])
    )
    assert nodes_of(sim, "plain") == {"plain-1", "plain-2"}
    assert nodes_of(sim, "ssd") == {"plain-2"}
    assert nodes_of(sim, "anywhere") == {"plain-1", "plain-2", "gpu-1"}
    assert nodes_of(sim, "gpu") == {"plain-2", "gpu-1"}
    cordon_tolerated = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]
    sim.add_settled_deployment(deployment("drainer", 4, tolerations=cordon_tolerated))
    assert "cordoned-1" in nodes_of(sim, "drainer")


async def test_a_deployment_that_does_not_fit_writes_nothing_and_says_why() -> None:
    sim = cluster()
    with pytest.raises(ValueError, match="no room for another pod") as caught:
        sim.add_settled_deployment(deployment("huge", 3, cpu="3", nodeSelector={"disk": "ssd"}))
    assert "0/4 nodes are available: " in str(caught.value)
    assert "1 Insufficient cpu" in str(caught.value)
    assert "1 node(s) had untolerated taint {gpu: yes}" in str(caught.value)
    assert "1 node(s) were unschedulable" in str(caught.value)
    assert "1 node(s) didn't match Pod's node affinity/selector" in str(caught.value)
    assert sim.api.list("deployments") == []
    assert sim.api.list("pods") == []
    # The room the failed one would have had is still free.
    sim.add_settled_deployment(deployment("fits", 1, cpu="3", nodeSelector={"disk": "ssd"}))
    assert nodes_of(sim, "fits") == {"plain-2"}


async def test_a_node_cordoned_after_placing_began_gets_no_more_pods() -> None:
    sim = cluster()
    sim.add_settled_deployment(deployment("before", 2))
    assert nodes_of(sim, "before") == {"plain-1", "plain-2"}
    sim.cordon("plain-1")
    sim.add_settled_deployment(deployment("after", 3))
    assert nodes_of(sim, "after") == {"plain-2"}


async def test_ips_are_unique_across_deployments_and_settles() -> None:
    sim = cluster()
    sim.add_settled_deployment(deployment("a", 5))
    sim.add_settled_deployment(deployment("b", 5))
    async with sim:
        await sim.settle()  # the next settled deployment gets a new placer
        sim.add_settled_deployment(deployment("c", 5))
        sim.api.patch("deployments", "a", {"spec": {"replicas": 8}}, "default")
        await sim.settle()
        pods = sim.api.list("pods")
        assert len(pods) == 18
        ips = [p["status"]["podIP"] for p in pods]
        assert len(set(ips)) == len(ips)
