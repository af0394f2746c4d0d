"""A rollout that cannot progress, under virtual time, read back through the official client.

A Deployment rolled out to an image that cannot be pulled stalls as kube's does: the
new ReplicaSet's pods wait in ImagePullBackOff, the old ReplicaSet keeps the pods
``maxUnavailable`` requires, and after ``progressDeadlineSeconds`` (600 by default)
without progress the Progressing condition turns False with ProgressDeadlineExceeded.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.simulation import SimulatedCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


def config() -> SimulationConfig:
    return SimulationConfig(start_latency=Delay.fixed(1.0), ready_latency=Delay.fixed(0.5))


def deployment(replicas: int, deadline: int | None = None, **rolling: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
        },
    }
    if rolling:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {"metadata": {"name": "web"}, "spec": spec}


def set_image(image: str) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}}


def progressing(d: Any) -> Any:
    return next(c for c in d.status.conditions if c.type == "Progressing")


async def replica_sets(apps: aclient.AppsV1Api) -> dict[str, Any]:
    items = (await apps.list_namespaced_replica_set("default")).items
    return {rs.spec.template.spec.containers[0].image: rs for rs in items}


async def test_a_rollout_to_an_unpullable_image_exceeds_its_progress_deadline() -> None:
    async with SimulatedCluster(seed=1, config=config()) as sim, sim.aio_api_client() as client:
        apps, core = aclient.AppsV1Api(client), aclient.CoreV1Api(client)
        await apps.create_namespaced_deployment(
            "default", deployment(4, maxSurge=1, maxUnavailable=1)
        )
        await sim.settle()
        sim.images.unpullable("nginx:broken")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken"))
        await sim.settle()
        loop = asyncio.get_running_loop()
        patched = loop.time()
        by_image = await replica_sets(apps)
        old, new = by_image["nginx:1.25"], by_image["nginx:broken"]
        # maxUnavailable 1: the old ReplicaSet keeps 3 of 4; maxSurge 1: 5 pods in all.
        assert (old.spec.replicas, old.status.available_replicas) == (3, 3)
        assert (new.spec.replicas, new.status.available_replicas) == (2, None)
        waiting = [
            p.status.container_statuses[0].state.waiting.reason
            for p in (await core.list_namespaced_pod("default", label_selector="app=web")).items
            if p.spec.containers[0].image == "nginx:broken"
        ]
        assert waiting == ["ImagePullBackOff"] * 2 or set(waiting) <= {
            "ErrImagePull",
            "ImagePullBackOff",
        }
        d = await apps.read_namespaced_deployment("web", "default")
        assert (
            d.status.replicas,
            d.status.updated_replicas,
            d.status.ready_replicas,
            d.status.available_replicas,
            d.status.unavailable_replicas,
        ) == (5, 2, 3, 3, 2)
        available = next(c for c in d.status.conditions if c.type == "Available")
        assert (available.status, available.reason) == ("True", "MinimumReplicasAvailable")
        c = progressing(d)
        assert (c.status, c.reason) == ("True", "ReplicaSetUpdated")
        await asyncio.sleep(patched + 595 - loop.time())
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        assert (c.status, c.reason) == ("True", "ReplicaSetUpdated")
        await asyncio.sleep(10)
        d = await apps.read_namespaced_deployment("web", "default")
        c = progressing(d)
        assert (c.status, c.reason, c.message) == (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{new.metadata.name}" has timed out progressing.',
        )
        # Still stalled, still serving from the old ReplicaSet.
        assert (d.status.available_replicas, d.status.updated_replicas) == (3, 2)


async def test_the_default_strategy_keeps_every_old_pod() -> None:
    async with SimulatedCluster(seed=2, config=config()) as sim, sim.aio_api_client() as client:
        apps = aclient.AppsV1Api(client)
        await apps.create_namespaced_deployment("default", deployment(3, deadline=60))
        await sim.settle()
        sim.images.unpullable("*:broken")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken"))
        await sim.settle()
        await asyncio.sleep(70)
        by_image = await replica_sets(apps)
        # 25% of 3: maxSurge rounds up to 1, maxUnavailable down to 0.
        assert by_image["nginx:1.25"].status.available_replicas == 3
        assert by_image["nginx:broken"].spec.replicas == 1
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        assert (c.status, c.reason) == ("False", "ProgressDeadlineExceeded")


async def test_losing_pods_is_not_progress() -> None:
    """kube counts only more updated/ready/available pods (or fewer old ones) as progress."""
    async with SimulatedCluster(seed=3, config=config()) as sim, sim.aio_api_client() as client:
        apps, core = aclient.AppsV1Api(client), aclient.CoreV1Api(client)
        await apps.create_namespaced_deployment("default", deployment(3, deadline=100))
        await sim.settle()
        sim.images.unpullable("nginx:broken")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken"))
        await sim.settle()
        loop = asyncio.get_running_loop()
        patched = loop.time()
        await asyncio.sleep(60)
        old = [
            p
            for p in (await core.list_namespaced_pod("default", label_selector="app=web")).items
            if p.spec.containers[0].image == "nginx:1.25"
        ]
        # An old pod stops being ready: fewer available pods, not progress.
        sim.api.patch(
            "pods",
            old[0].metadata.name,
            {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
            "default",
            subresource="status",
        )
        await asyncio.sleep(patched + 102 - loop.time())
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        assert (c.status, c.reason) == ("False", "ProgressDeadlineExceeded")


async def test_a_pullable_image_lets_the_stalled_rollout_finish() -> None:
    async with SimulatedCluster(seed=4, config=config()) as sim, sim.aio_api_client() as client:
        apps = aclient.AppsV1Api(client)
        await apps.create_namespaced_deployment("default", deployment(2, deadline=30))
        await sim.settle()
        sim.images.unpullable("nginx:broken")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken"))
        await asyncio.sleep(45)
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        assert c.reason == "ProgressDeadlineExceeded"
        sim.images.pullable("nginx:broken")
        await asyncio.sleep(300)  # the next pull is at most 5 minutes away
        await sim.settle()
        d = await apps.read_namespaced_deployment("web", "default")
        assert (d.status.updated_replicas, d.status.ready_replicas) == (2, 2)
        c = progressing(d)
        assert (c.status, c.reason) == ("True", "NewReplicaSetAvailable")


async def test_a_new_rollout_after_a_stall_starts_a_new_deadline() -> None:
    async with SimulatedCluster(seed=5, config=config()) as sim, sim.aio_api_client() as client:
        apps = aclient.AppsV1Api(client)
        await apps.create_namespaced_deployment("default", deployment(2, deadline=30))
        await sim.settle()
        sim.images.unpullable("nginx:broken*")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken"))
        await asyncio.sleep(45)
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        assert (c.status, c.reason) == ("False", "ProgressDeadlineExceeded")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken-too"))
        await asyncio.sleep(25)
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        assert c.status == "True"
        await asyncio.sleep(10)
        c = progressing(await apps.read_namespaced_deployment("web", "default"))
        new = (await replica_sets(apps))["nginx:broken-too"].metadata.name
        assert (c.status, c.reason, c.message) == (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{new}" has timed out progressing.',
        )


async def test_a_rollback_is_never_reported_timed_out_for_its_own_generation() -> None:
    """The controller's first status for the rollback's generation already progresses,
    so a client that waits for ``observedGeneration`` (as kubectl does) never sees the
    deadline of the rollout it undid."""
    async with SimulatedCluster(seed=6, config=config()) as sim, sim.aio_api_client() as client:
        apps = aclient.AppsV1Api(client)
        await apps.create_namespaced_deployment("default", deployment(2, deadline=30))
        await sim.settle()
        sim.images.unpullable("nginx:broken")
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:broken"))
        await asyncio.sleep(45)
        seen: list[tuple[int, str]] = []

        def record(change: Any) -> None:
            status = json.loads(change.raw).get("status") or {}
            for c in status.get("conditions") or ():
                if c["type"] == "Progressing":
                    seen.append((status.get("observedGeneration", 0), c["reason"]))

        unsubscribe = sim.access.subscribe(sim.access.registry.resolve("deployments"), record)
        try:
            d = await apps.patch_namespaced_deployment("web", "default", set_image("nginx:1.25"))
            await sim.settle()
        finally:
            unsubscribe()
        generation = d.metadata.generation
        assert (generation - 1, "ProgressDeadlineExceeded") in seen
        assert [r for g, r in seen if g == generation][-1] == "NewReplicaSetAvailable"
        assert "ProgressDeadlineExceeded" not in {r for g, r in seen if g == generation}
