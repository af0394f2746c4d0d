"""DaemonSet pods and node taints: NoSchedule stops new pods, only NoExecute evicts."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
]


async def _agent(sim: SimulatedCluster) -> None:
    sim.api.create(
        "daemonsets",
        {
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "main", "image": "img:1"}]},
                },
            },
        },
        "default",
    )
    await sim.settle()


def _taint(sim: SimulatedCluster, node: str, effect: str) -> None:
    taint = {"key": "dedicated", "value": "x", "effect": effect}
    sim.api.patch("nodes", node, {"spec": {"taints": [taint]}})


def _nodes_with_pods(sim: SimulatedCluster) -> list[str]:
    return sorted(
        p["spec"]["nodeName"]
        for p in sim.api.list("pods", "default")
        if not p["metadata"].get("deletionTimestamp")
    )


def _status(sim: SimulatedCluster) -> dict[str, Any]:
    status: dict[str, Any] = sim.api.get("daemonsets", "agent", "default")["status"]
    return status


async def test_a_noschedule_taint_keeps_the_running_daemon_pod() -> None:
    async with SimulatedCluster(seed=11) as sim:
        await _agent(sim)
        before = {p["metadata"]["name"] for p in sim.api.list("pods", "default")}
        _taint(sim, "node-1", "NoSchedule")
        await sim.settle()
        assert {p["metadata"]["name"] for p in sim.api.list("pods", "default")} == before
        status = _status(sim)
        # As updateDaemonSetStatus: the kept pod is on a node that would not get a new
        # one, so it is misscheduled rather than desired.
        assert (
            status["desiredNumberScheduled"],
            status["currentNumberScheduled"],
            status["numberMisscheduled"],
        ) == (2, 2, 1)


async def test_an_untolerated_noexecute_taint_removes_the_daemon_pod() -> None:
    async with SimulatedCluster(seed=12) as sim:
        await _agent(sim)
        _taint(sim, "node-1", "NoExecute")
        await sim.settle()
        assert _nodes_with_pods(sim) == ["node-2", "node-3"]
        status = _status(sim)
        assert (status["desiredNumberScheduled"], status["numberMisscheduled"]) == (2, 0)


async def test_a_new_noschedule_tainted_node_gets_no_daemon_pod() -> None:
    async with SimulatedCluster(seed=13) as sim:
        await _agent(sim)
        sim.add_node("node-4", taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}])
        await sim.settle()
        assert _nodes_with_pods(sim) == ["node-1", "node-2", "node-3"]
        assert _status(sim)["desiredNumberScheduled"] == 3


async def test_daemon_pods_carry_the_default_tolerations() -> None:
    async with SimulatedCluster(seed=14) as sim:
        await _agent(sim)
        pod = sim.api.list("pods", "default")[0]
        keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
        assert keys >= {
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        }
        assert all("tolerationSeconds" not in t for t in pod["spec"]["tolerations"])
