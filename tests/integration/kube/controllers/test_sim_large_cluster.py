"""A large settled cluster: built by the bulk path, then driven by the controllers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio,
    pytest.mark.looptime,
]


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "c", "image": "i:1", "resources": {"requests": {"cpu": "50m"}}}
                    ]
                },
            },
        },
    }


async def test_thousand_nodes_five_thousand_pods_survive_a_node_failure() -> None:
    sim = SimulatedCluster(seed=1, nodes=0)
    sim.add_nodes(1000)
    for i in range(100):
        sim.add_settled_deployment(deployment(f"svc-{i}", 50))
    async with sim:
        await sim.settle()
        victims = len(sim.api.list("pods", field_selector="spec.nodeName=node-7"))
        assert victims
        sim.set_node_ready("node-7", False)
        await sim.settle()
        assert asyncio.get_running_loop().time() >= 300
        live = [
            p for p in sim.api.list("pods", "default") if not p["metadata"].get("deletionTimestamp")
        ]
        assert len(live) == 5000
        assert all(p["spec"]["nodeName"] != "node-7" for p in live)
        assert all(p["status"]["phase"] == "Running" for p in live)
