"""The settled-cluster fast path: bulk nodes and already-rolled-out Deployments."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
]


def deployment(name: str, replicas: int, cpu: str = "100m") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "c", "image": "i:1", "resources": {"requests": {"cpu": cpu}}}
                    ]
                },
            },
        },
    }


async def test_settled_deployments_need_no_controller_work_and_still_roll() -> None:
    sim = SimulatedCluster(seed=1, nodes=0)
    sim.add_nodes(20)
    for i in range(10):
        assert sim.add_settled_deployment(deployment(f"svc-{i}", 5)) == 5
    rv_before = sim.store.rv
    async with sim:
        await sim.settle()
        pods = sim.api.list("pods", "default")
        assert len(pods) == 50
        assert all(p["status"]["phase"] == "Running" for p in pods)
        assert len({p["spec"]["nodeName"] for p in pods}) == 20
        # Controllers found the state consistent: no pod was rewritten.
        pod_rvs = [int(p["metadata"]["resourceVersion"]) for p in pods]
        assert max(pod_rvs) <= rv_before
        d = sim.api.get("deployments", "svc-3", "default")
        assert d["status"]["readyReplicas"] == 5
        assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
        # And later changes proceed as usual.
        sim.api.patch(
            "deployments",
            "svc-3",
            {
                "spec": {
                    "template": {
                        "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}
                    }
                }
            },
            "default",
        )
        await sim.settle()
        d = sim.api.get("deployments", "svc-3", "default")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        assert d["status"]["updatedReplicas"] == d["status"]["readyReplicas"] == 5


async def test_bulk_placement_respects_capacity() -> None:
    sim = SimulatedCluster(seed=2, nodes=0)
    sim.add_nodes(2)
    sim.add_settled_deployment(deployment("big", 6, cpu="1"))  # 4 CPUs per node
    with pytest.raises(ValueError, match="no room for another pod"):
        sim.add_settled_deployment(deployment("more", 3, cpu="1"))


async def test_bulk_nodes_read_through_the_official_client_like_kubelet_nodes() -> None:
    from kubernetes.aio import client

    sim = SimulatedCluster(seed=1, nodes=1)  # node-1 is initialized by its kubelet stage
    sim.add_nodes(2, prefix="bulk-")
    await sim.start()
    api = sim.aio_api_client()
    try:
        await sim.settle()
        nodes = {n.metadata.name: n for n in (await client.CoreV1Api(api).list_node()).items}
        assert set(nodes) == {"node-1", "bulk-1", "bulk-2"}
        kubelet, bulk = nodes["node-1"].status, nodes["bulk-1"].status
        assert bulk.node_info.to_dict() == kubelet.node_info.to_dict()
        assert [a.type for a in bulk.addresses] == [a.type for a in kubelet.addresses]
    finally:
        await api.close()
        await sim.stop()
