"""Deployments, ReplicaSets and pods under virtual time, through the official aio client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
    # A sync test run earlier leaves pytest-asyncio's implicitly created loop unclosed
    # and it is collected during the next async test (pytest-asyncio issue #724).
]


def deployment(
    name: str, replicas: int, image: str = "nginx:1.25", **strategy: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": image,
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    }
                ]
            },
        },
    }
    if strategy:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": strategy}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


async def test_scale_3_10_2_settles_with_true_status() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        apps = aclient.AppsV1Api(api_client)
        core = aclient.CoreV1Api(api_client)
        await apps.create_namespaced_deployment("default", deployment("web", 3))
        for replicas in (3, 10, 2):
            await apps.patch_namespaced_deployment_scale(
                "web", "default", {"spec": {"replicas": replicas}}
            )
            await sim.settle()
            d = await apps.read_namespaced_deployment("web", "default")
            assert d.status.observed_generation == d.metadata.generation
            assert (
                d.status.replicas,
                d.status.ready_replicas,
                d.status.updated_replicas,
                d.status.available_replicas,
            ) == (replicas,) * 4
            assert not d.status.unavailable_replicas
            conditions = {c.type: c for c in d.status.conditions}
            assert conditions["Available"].status == "True"
            assert conditions["Progressing"].reason == "NewReplicaSetAvailable"
            pods = await core.list_namespaced_pod("default", label_selector="app=web")
            live = [p for p in pods.items if p.metadata.deletion_timestamp is None]
            assert len(live) == replicas
            assert all(p.status.phase == "Running" for p in live)
            assert all(p.metadata.owner_references[0].kind == "ReplicaSet" for p in live)
        rs = (await apps.list_namespaced_replica_set("default")).items
        assert len(rs) == 1
        assert rs[0].metadata.annotations["deployment.kubernetes.io/revision"] == "1"
        events = await core.list_namespaced_event(
            "default", field_selector="involvedObject.name=web"
        )
        assert {e.reason for e in events.items} == {"ScalingReplicaSet"}


async def test_pods_are_spread_and_bound_with_scheduled_events() -> None:
    async with SimulatedCluster(seed=2) as sim:
        sim.api.create("deployments", deployment("spread", 6), "default")
        await sim.settle()
        nodes = [p["spec"]["nodeName"] for p in sim.api.list("pods", "default")]
        assert sorted(set(nodes)) == ["node-1", "node-2", "node-3"]
        reasons = {e["reason"] for e in sim.api.list("events", "default")}
        assert {"Scheduled", "SuccessfulCreate", "Pulled", "Created", "Started"} <= reasons


async def test_rollout_with_max_unavailable_zero_never_drops_ready_count() -> None:
    async with SimulatedCluster(seed=3) as sim, sim.aio_api_client() as api_client:
        apps = aclient.AppsV1Api(api_client)
        await apps.create_namespaced_deployment(
            "default", deployment("api", 4, maxUnavailable=0, maxSurge=1)
        )
        await sim.settle()
        seen: list[int] = []
        done = asyncio.Event()

        async def watch_ready() -> None:
            while not done.is_set():
                d = await apps.read_namespaced_deployment_status("api", "default")
                seen.append(d.status.ready_replicas or 0)
                await asyncio.sleep(0.05)

        poller = asyncio.create_task(watch_ready())
        await apps.patch_namespaced_deployment(
            "api",
            "default",
            {
                "spec": {
                    "template": {
                        "metadata": {
                            "annotations": {
                                "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"
                            }
                        }
                    }
                }
            },
        )
        await sim.settle()
        done.set()
        await poller
        assert len(seen) > 10
        assert min(seen) >= 4
        d = await apps.read_namespaced_deployment("api", "default")
        assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
        assert d.status.updated_replicas == d.status.ready_replicas == 4
        rs = {
            r.metadata.annotations["deployment.kubernetes.io/revision"]: r
            for r in (await apps.list_namespaced_replica_set("default")).items
        }
        assert rs["1"].spec.replicas == 0
        assert rs["2"].spec.replicas == 4


async def test_rollout_undo_returns_to_previous_revision() -> None:
    async with SimulatedCluster(seed=4) as sim:
        sim.api.create("deployments", deployment("app", 3, image="app:v1"), "default")
        await sim.settle()
        sim.api.patch(
            "deployments",
            "app",
            {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "app:v2"}]}}}},
            "default",
        )
        await sim.settle()
        rs_by_rev = {
            r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r
            for r in sim.api.list("replicasets", "default")
        }
        assert set(rs_by_rev) == {"1", "2"}
        # What `kubectl rollout undo` does: copy revision 1's template back.
        template = rs_by_rev["1"]["spec"]["template"]
        template["metadata"]["labels"].pop("pod-template-hash")
        sim.api.patch(
            "deployments",
            "app",
            [{"op": "replace", "path": "/spec/template", "value": template}],
            "default",
            patch_type="json",
        )
        await sim.settle()
        d = sim.api.get("deployments", "app", "default")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        by_name = {r["metadata"]["name"]: r for r in sim.api.list("replicasets", "default")}
        old = by_name[rs_by_rev["1"]["metadata"]["name"]]
        assert old["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert old["spec"]["replicas"] == 3
        assert by_name[rs_by_rev["2"]["metadata"]["name"]]["spec"]["replicas"] == 0
        images = {p["spec"]["containers"][0]["image"] for p in sim.api.list("pods", "default")}
        assert images == {"app:v1"}


async def test_same_seed_same_cluster() -> None:
    async def build(seed: int) -> list[tuple[str, str]]:
        async with SimulatedCluster(seed=seed) as sim:
            sim.api.create("deployments", deployment("det", 5), "default")
            await sim.settle()
            return [
                (p["metadata"]["name"], p["spec"]["nodeName"])
                for p in sim.api.list("pods", "default")
            ]

    assert await build(7) == await build(7)


async def test_recreate_strategy_replaces_all_pods() -> None:
    async with SimulatedCluster(seed=5) as sim:
        body = deployment("batch", 3, image="b:1")
        body["spec"]["strategy"] = {"type": "Recreate"}
        sim.api.create("deployments", body, "default")
        await sim.settle()
        sim.api.patch(
            "deployments",
            "batch",
            {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "b:2"}]}}}},
            "default",
        )
        await sim.settle()
        pods = sim.api.list("pods", "default")
        assert len(pods) == 3
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"b:2"}
