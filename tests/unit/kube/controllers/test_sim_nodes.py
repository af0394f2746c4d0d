"""Scheduling, node failure, drain and pod lifecycles under virtual time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient
from kubernetes.aio.client.exceptions import ApiException

from fakes.kube.controllers.config import CRASH_ANNOTATION, Delay, SimulationConfig
from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
    # A sync test run earlier leaves pytest-asyncio's implicitly created loop unclosed
    # and it is collected during the next async test (pytest-asyncio issue #724).
]


def deployment(
    name: str,
    replicas: int,
    cpu: str = "100m",
    annotations: dict[str, str] | None = None,
    node_selector: dict[str, str] | None = None,
) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {
        "containers": [{"name": "main", "image": "img:1", "resources": {"requests": {"cpu": cpu}}}]
    }
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    meta: dict[str, Any] = {"labels": {"app": name}}
    if annotations:
        meta["annotations"] = annotations
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": meta, "spec": pod_spec},
        },
    }


def pods_of(sim: SimulatedCluster, app: str) -> list[dict[str, Any]]:
    return sim.api.list("pods", "default", label_selector=f"app={app}")


async def test_node_not_ready_gets_its_pods_replaced_elsewhere() -> None:
    config = SimulationConfig(node_eviction_grace=30.0)
    async with SimulatedCluster(seed=1, config=config) as sim:
        sim.api.create("deployments", deployment("web", 6), "default")
        await sim.settle()
        victims = {
            p["metadata"]["name"] for p in pods_of(sim, "web") if p["spec"]["nodeName"] == "node-2"
        }
        assert victims
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sim.set_node_ready("node-2", False)
        await asyncio.sleep(1)
        node = sim.api.get("nodes", "node-2")
        assert {t["key"] for t in node["spec"]["taints"]} == {"node.kubernetes.io/unreachable"}
        on_node = [p for p in pods_of(sim, "web") if p["spec"]["nodeName"] == "node-2"]
        assert all(
            c["status"] == "False"
            for p in on_node
            for c in p["status"]["conditions"]
            if c["type"] == "Ready"
        )
        await sim.settle()
        assert loop.time() - t0 >= 30
        live = [p for p in pods_of(sim, "web") if not p["metadata"].get("deletionTimestamp")]
        assert len(live) == 6
        assert all(p["spec"]["nodeName"] != "node-2" for p in live)
        d = sim.api.get("deployments", "web", "default")
        assert d["status"]["readyReplicas"] == 6
        reasons = {e["reason"] for e in sim.api.list("events", "default")}
        assert {"NodeNotReady", "TaintManagerEviction"} <= reasons
        # The node comes back: taints go, its stuck Terminating pods finish.
        sim.set_node_ready("node-2", True)
        await sim.settle()
        assert "taints" not in sim.api.get("nodes", "node-2")["spec"]
        assert len(pods_of(sim, "web")) == 6


async def test_default_tolerations_evict_after_300_seconds() -> None:
    async with SimulatedCluster(seed=2) as sim:
        sim.api.create("deployments", deployment("slow", 3), "default")
        await sim.settle()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sim.set_node_ready("node-1", False)
        await sim.settle()
        assert loop.time() - t0 >= 300


async def test_unschedulable_pod_stays_pending_with_event_until_capacity_appears() -> None:
    async with SimulatedCluster(seed=3) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.api.create("deployments", deployment("huge", 1, cpu="64"), "default")
        await sim.settle()
        (pod,) = (await core.list_namespaced_pod("default", label_selector="app=huge")).items
        assert pod.status.phase == "Pending"
        assert pod.spec.node_name is None
        cond = {c.type: c for c in pod.status.conditions}["PodScheduled"]
        assert (cond.status, cond.reason) == ("False", "Unschedulable")
        assert cond.message.startswith("0/3 nodes are available: 3 Insufficient cpu.")
        events = await core.list_namespaced_event(
            "default",
            field_selector=f"involvedObject.name={pod.metadata.name},reason=FailedScheduling",
        )
        assert events.items
        assert events.items[0].type == "Warning"
        # A big node joins: the pod is retried and lands there.
        from fakes.kube.controllers.config import NodeShape

        sim.add_node("big-1", NodeShape(cpu="128", memory="256Gi"))
        await sim.settle()
        (pod,) = (await core.list_namespaced_pod("default", label_selector="app=huge")).items
        assert (pod.spec.node_name, pod.status.phase) == ("big-1", "Running")


async def test_cordon_taints_and_node_selector_are_honoured() -> None:
    async with SimulatedCluster(seed=4) as sim:
        sim.cordon("node-1")
        sim.api.patch(
            "nodes",
            "node-2",
            {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}},
        )
        sim.api.create("deployments", deployment("free", 4), "default")
        await sim.settle()
        assert {p["spec"]["nodeName"] for p in pods_of(sim, "free")} == {"node-3"}
        sim.api.patch("nodes", "node-3", {"metadata": {"labels": {"disk": "ssd"}}})
        sim.api.create(
            "deployments", deployment("picky", 1, node_selector={"disk": "hdd"}), "default"
        )
        await sim.settle()
        (pod,) = pods_of(sim, "picky")
        message = next(
            c["message"] for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"
        )
        assert "1 node(s) didn't match Pod's node affinity/selector" in message
        assert "1 node(s) had untolerated taint {dedicated: db}" in message
        assert "1 node(s) were unschedulable" in message


async def test_crash_loop_back_off() -> None:
    async with SimulatedCluster(seed=5) as sim:
        sim.api.create(
            "deployments",
            deployment("crashy", 1, annotations={CRASH_ANNOTATION: "true"}),
            "default",
        )
        await sim.settle()
        await asyncio.sleep(200)
        (pod,) = pods_of(sim, "crashy")
        (cs,) = pod["status"]["containerStatuses"]
        assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert cs["restartCount"] >= 4
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        d = sim.api.get("deployments", "crashy", "default")
        assert d["status"].get("readyReplicas", 0) == 0
        assert d["status"]["unavailableReplicas"] == 1
        await asyncio.sleep(600)
        d = sim.api.get("deployments", "crashy", "default")
        progressing = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
        assert (progressing["status"], progressing["reason"]) == (
            "False",
            "ProgressDeadlineExceeded",
        )


async def test_drain_with_pdb_evicts_only_what_the_budget_allows() -> None:
    async with SimulatedCluster(seed=6) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        policy = aclient.PolicyV1Api(api_client)
        sim.api.create("deployments", deployment("db", 3), "default")
        await policy.create_namespaced_pod_disruption_budget(
            "default",
            {
                "metadata": {"name": "db"},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
            },
        )
        await sim.settle()
        pdb = await policy.read_namespaced_pod_disruption_budget("db", "default")
        assert pdb.status.disruptions_allowed == 1
        # kubectl drain: cordon, then evict every pod on the node, retrying on 429.
        sim.cordon("node-1")
        sim.cordon("node-2")
        pods = [p for p in pods_of(sim, "db") if p["spec"]["nodeName"] in ("node-1", "node-2")]
        assert len(pods) == 2
        names = [p["metadata"]["name"] for p in pods]
        body = {"apiVersion": "policy/v1", "kind": "Eviction"}
        await core.create_namespaced_pod_eviction(
            names[0], "default", {**body, "metadata": {"name": names[0]}}
        )
        with pytest.raises(ApiException) as refused:
            await core.create_namespaced_pod_eviction(
                names[1], "default", {**body, "metadata": {"name": names[1]}}
            )
        assert refused.value.status == 429
        await sim.settle()
        pdb = await policy.read_namespaced_pod_disruption_budget("db", "default")
        assert pdb.status.current_healthy == 3
        assert pdb.status.disruptions_allowed == 1
        await core.create_namespaced_pod_eviction(
            names[1], "default", {**body, "metadata": {"name": names[1]}}
        )
        await sim.settle()
        live = [p for p in pods_of(sim, "db") if not p["metadata"].get("deletionTimestamp")]
        assert {p["spec"]["nodeName"] for p in live} == {"node-3"}
        assert len(live) == 3


async def test_graceful_termination_takes_latency_not_more_than_grace() -> None:
    config = SimulationConfig(termination_latency=Delay.fixed(5.0))
    async with SimulatedCluster(seed=7, config=config) as sim:
        sim.api.create("deployments", deployment("t", 1), "default")
        await sim.settle()
        (pod,) = pods_of(sim, "t")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sim.api.delete("pods", pod["metadata"]["name"], "default")
        assert sim.api.get("pods", pod["metadata"]["name"], "default")["metadata"][
            "deletionTimestamp"
        ]
        await sim.settle()
        assert 5.0 <= loop.time() - t0 < 30
        names = [p["metadata"]["name"] for p in pods_of(sim, "t")]
        assert pod["metadata"]["name"] not in names
        assert len(names) == 1
        killing = [e for e in sim.api.list("events", "default") if e["reason"] == "Killing"]
        assert killing
