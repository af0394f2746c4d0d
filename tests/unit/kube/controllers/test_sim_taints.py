"""Taint-based eviction: NoExecute taints, tolerations and node condition taints."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.controllers.node_lifecycle import eviction_delay
from fakes.kube.simulation import SimulatedCluster

EVICT = {"key": "evict", "value": "now", "effect": "NoExecute"}


def deployment(name: str, replicas: int, tolerations: list[dict[str, Any]] | None = None) -> Any:
    spec: dict[str, Any] = {
        "containers": [
            {"name": "main", "image": "img:1", "resources": {"requests": {"cpu": "10m"}}}
        ]
    }
    if tolerations:
        spec["tolerations"] = tolerations
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def live_on(sim: SimulatedCluster, app: str, node: str) -> set[str]:
    return {
        p["metadata"]["name"]
        for p in sim.api.list("pods", "default", label_selector=f"app={app}")
        if p["spec"].get("nodeName") == node and not p["metadata"].get("deletionTimestamp")
    }


def taint(sim: SimulatedCluster, node: str, *taints: dict[str, Any]) -> None:
    sim.api.patch("nodes", node, {"spec": {"taints": list(taints) or None}})


@pytest.mark.parametrize(
    ("tolerations", "taints", "expected"),
    [
        ([], [EVICT], 0.0),
        ([{"operator": "Exists"}], [EVICT], None),
        ([{"key": "evict", "operator": "Equal", "value": "later"}], [EVICT], 0.0),
        ([{"key": "evict", "value": "now", "effect": "NoExecute"}], [EVICT], None),
        ([{"key": "evict", "operator": "Exists", "tolerationSeconds": 60}], [EVICT], 60.0),
        # Every taint must be tolerated; the smallest tolerationSeconds among those used wins.
        (
            [{"key": "evict", "operator": "Exists"}, {"key": "b", "operator": "Exists"}],
            [EVICT, {"key": "c", "effect": "NoExecute"}],
            0.0,
        ),
        (
            [
                {"key": "evict", "operator": "Exists"},
                {"key": "b", "operator": "Exists", "tolerationSeconds": 30},
            ],
            [EVICT, {"key": "b", "effect": "NoExecute"}],
            30.0,
        ),
        ([{"key": "evict", "operator": "Exists", "tolerationSeconds": -5}], [EVICT], 0.0),
    ],
)
def test_eviction_delay_follows_kube_toleration_rules(
    tolerations: list[dict[str, Any]], taints: list[dict[str, Any]], expected: float | None
) -> None:
    assert eviction_delay(tolerations, taints) == expected


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_untolerated_no_execute_taint_evicts_at_once_and_pods_move() -> None:
    async with SimulatedCluster(seed=11) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.api.create("deployments", deployment("web", 6), "default")
        sim.api.create(
            "statefulsets",
            {
                "metadata": {"name": "db"},
                "spec": {
                    "replicas": 3,
                    "serviceName": "db",
                    "selector": {"matchLabels": {"app": "db"}},
                    "template": deployment("db", 1)["spec"]["template"],
                },
            },
            "default",
        )
        await sim.settle()
        victims = live_on(sim, "web", "node-2")
        assert victims
        assert live_on(sim, "db", "node-2")
        await core.patch_node("node-2", {"spec": {"taints": [EVICT]}})
        await asyncio.sleep(0.1)
        assert not live_on(sim, "web", "node-2")
        assert not live_on(sim, "db", "node-2")
        events = await core.list_namespaced_event(
            "default", field_selector="reason=TaintManagerEviction"
        )
        messages = {e.message for e in events.items}
        assert {f"Marking for deletion Pod default/{v}" for v in victims} <= messages
        await sim.settle()
        pods = sim.api.list("pods", "default")
        assert len(pods) == 9
        assert all(p["spec"]["nodeName"] != "node-2" for p in pods)
        assert sim.api.get("deployments", "web", "default")["status"]["readyReplicas"] == 6
        assert sim.api.get("statefulsets", "db", "default")["status"]["readyReplicas"] == 3


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_toleration_seconds_delay_the_eviction() -> None:
    tolerations = [{"key": "evict", "operator": "Exists", "tolerationSeconds": 60}]
    async with SimulatedCluster(seed=12) as sim:
        sim.api.create("deployments", deployment("web", 6, tolerations), "default")
        await sim.settle()
        victims = live_on(sim, "web", "node-2")
        assert victims
        taint(sim, "node-2", EVICT)
        await asyncio.sleep(59)
        assert live_on(sim, "web", "node-2") == victims
        await asyncio.sleep(2)
        # Replacements tolerate the taint too, so they may land on node-2 again (and
        # would go in their turn): only the first pods are known to be gone.
        assert not live_on(sim, "web", "node-2") & victims
        live = [
            p for p in sim.api.list("pods", "default") if not p["metadata"].get("deletionTimestamp")
        ]
        assert len(live) == 6


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_removing_the_taint_before_the_deadline_cancels_the_eviction() -> None:
    tolerations = [{"key": "evict", "operator": "Exists", "tolerationSeconds": 60}]
    async with SimulatedCluster(seed=13) as sim:
        sim.api.create("deployments", deployment("web", 6, tolerations), "default")
        await sim.settle()
        victims = live_on(sim, "web", "node-2")
        taint(sim, "node-2", EVICT)
        await asyncio.sleep(30)
        taint(sim, "node-2")
        await asyncio.sleep(120)
        assert live_on(sim, "web", "node-2") == victims
        reasons = [
            e["message"]
            for e in sim.api.list("events", "default")
            if e["reason"] == "TaintManagerEviction"
        ]
        assert sorted(reasons) == sorted(f"Cancelling deletion of Pod default/{v}" for v in victims)


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_toleration_without_seconds_keeps_the_pod() -> None:
    tolerations = [{"key": "evict", "operator": "Equal", "value": "now", "effect": "NoExecute"}]
    async with SimulatedCluster(seed=14) as sim:
        sim.api.create("deployments", deployment("web", 6, tolerations), "default")
        await sim.settle()
        victims = live_on(sim, "web", "node-2")
        taint(sim, "node-2", EVICT)
        await asyncio.sleep(3600)
        await sim.settle()
        assert live_on(sim, "web", "node-2") == victims


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_ready_false_taints_not_ready_and_unknown_taints_unreachable() -> None:
    async with SimulatedCluster(seed=15) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)

        async def post_ready(status: str) -> set[tuple[str, str]]:
            ready = {"type": "Ready", "status": status, "reason": "Test", "message": "test"}
            await core.patch_node_status("node-2", {"status": {"conditions": [ready]}})
            await asyncio.sleep(1)
            node = await core.read_node("node-2")
            return {(t.key, t.effect) for t in node.spec.taints or ()}

        assert await post_ready("False") == {
            ("node.kubernetes.io/not-ready", "NoSchedule"),
            ("node.kubernetes.io/not-ready", "NoExecute"),
        }
        assert await post_ready("Unknown") == {
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
        }
        assert await post_ready("True") == set()
