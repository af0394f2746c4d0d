"""Images that cannot be pulled, under virtual time: ErrImagePull, ImagePullBackOff, retries.

What kube's kubelet does for a missing image: the pod stays Pending with an IP, its
container waits (``ErrImagePull`` with the runtime's error, then ``ImagePullBackOff``),
the pull is retried on kube's back-off (10 s doubling to 300 s) and succeeds at the
first retry after the image becomes pullable.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.simulation import SimulatedCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

NOT_FOUND = (
    'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/'
    'nginx:broken": failed to resolve reference "docker.io/library/nginx:broken": '
    "docker.io/library/nginx:broken: not found"
)


def config() -> SimulationConfig:
    return SimulationConfig(start_latency=Delay.fixed(1.0), ready_latency=Delay.fixed(0.5))


def pod(name: str, *images: str) -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    return {"metadata": {"name": name, "labels": {"app": name}}, "spec": {"containers": containers}}


def get(sim: SimulatedCluster, name: str) -> dict[str, Any]:
    found: dict[str, Any] = sim.api.get("pods", name, "default")
    return found


def waiting(p: dict[str, Any], index: int = 0) -> dict[str, Any] | None:
    state = p["status"]["containerStatuses"][index]["state"]
    value: dict[str, Any] | None = state.get("waiting")
    return value


def conditions(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in p["status"]["conditions"]}


def events(sim: SimulatedCluster, name: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (e["reason"], e["message"]): e
        for e in sim.api.list("events", "default")
        if e["involvedObject"]["name"] == name
    }


async def test_an_unpullable_image_leaves_the_pod_pending_as_kube_reports_it() -> None:
    async with SimulatedCluster(seed=1, config=config()) as sim:
        sim.images.unpullable("nginx:broken")
        sim.api.create("pods", pod("web", "nginx:broken"), "default")
        await sim.settle()  # the back-off is a steady state: settle returns
        p = get(sim, "web")
        assert p["status"]["phase"] == "Pending"
        assert p["status"]["podIP"]  # the sandbox exists; only the container is missing
        assert waiting(p) == {"reason": "ErrImagePull", "message": NOT_FOUND}
        (cs,) = p["status"]["containerStatuses"]
        assert (cs["ready"], cs["started"], cs["restartCount"], cs["imageID"]) == (
            False,
            False,
            0,
            "",
        )
        for type in ("Ready", "ContainersReady"):
            c = conditions(p)[type]
            assert (c["status"], c["reason"], c["message"]) == (
                "False",
                "ContainersNotReady",
                "containers with unready status: [c0]",
            )
        await asyncio.sleep(1.0)
        p = get(sim, "web")
        assert p["status"]["phase"] == "Pending"
        assert waiting(p) == {
            "reason": "ImagePullBackOff",
            "message": 'Back-off pulling image "nginx:broken"',
        }
        seen = events(sim, "web")
        assert seen[("Pulling", 'Pulling image "nginx:broken"')]["type"] == "Normal"
        failed = seen[("Failed", f'Failed to pull image "nginx:broken": {NOT_FOUND}')]
        assert failed["type"] == "Warning"
        assert seen[("Failed", "Error: ErrImagePull")]["type"] == "Warning"
        assert seen[("BackOff", 'Back-off pulling image "nginx:broken"')]["type"] == "Normal"
        assert seen[("Failed", "Error: ImagePullBackOff")]["type"] == "Warning"
        assert not any(reason in ("Created", "Started") for reason, _ in seen)


async def test_pulls_are_retried_on_kube_back_off_doubling_to_five_minutes() -> None:
    async with SimulatedCluster(seed=2, config=config()) as sim:
        sim.images.unpullable("*:broken")
        sim.api.create("pods", pod("web", "nginx:broken"), "default")
        loop = asyncio.get_running_loop()
        pulls: list[float] = []
        last = None
        while loop.time() < 1300:
            p = get(sim, "web")
            statuses = p.get("status", {}).get("containerStatuses")
            reason = (waiting(p) or {}).get("reason") if statuses else None
            if reason == "ErrImagePull" and last != "ErrImagePull":
                pulls.append(loop.time())
            last = reason
            await asyncio.sleep(0.25)
        first = pulls[0]
        assert [round(t - first) for t in pulls] == [0, 10, 30, 70, 150, 310, 610, 910, 1210]
        attempts = events(sim, "web")[("Pulling", 'Pulling image "nginx:broken"')]
        assert attempts["count"] == len(pulls)


async def test_an_image_made_pullable_is_pulled_at_the_next_retry() -> None:
    async with SimulatedCluster(seed=3, config=config()) as sim, sim.aio_api_client() as client:
        core = aclient.CoreV1Api(client)
        sim.images.unpullable("nginx:broken")
        sim.api.create("pods", pod("web", "nginx:broken"), "default")
        await sim.settle()
        loop = asyncio.get_running_loop()
        failed_at = loop.time()  # the first pull failed as the pod started
        await asyncio.sleep(15)  # the second pull (at 10 s) failed too: back-off 20 s
        sim.images.pullable("nginx:broken")
        await asyncio.sleep(14.5)  # 29.5 s: still backing off
        p = await core.read_namespaced_pod("web", "default")
        assert p.status.phase == "Pending"
        assert p.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
        await asyncio.sleep(0.6)  # 30.1 s: the third pull succeeds
        p = await core.read_namespaced_pod("web", "default")
        assert loop.time() - failed_at == pytest.approx(30.1)
        assert p.status.phase == "Running"
        assert p.status.container_statuses[0].state.running is not None
        await sim.settle()
        p = await core.read_namespaced_pod("web", "default")
        assert p.status.container_statuses[0].ready is True
        assert {c.type: c.status for c in p.status.conditions}["Ready"] == "True"
        seen = events(sim, "web")
        assert seen[("Pulling", 'Pulling image "nginx:broken"')]["count"] == 3
        assert (
            "Pulled",
            'Successfully pulled image "nginx:broken" in 0s (0s including waiting)',
        ) in seen
        assert ("Started", "Started container c0") in seen


async def test_the_other_containers_start_while_one_waits_for_its_image() -> None:
    async with SimulatedCluster(seed=4, config=config()) as sim:
        sim.images.unpullable(r"registry\.example/private/.*", regex=True)
        sim.api.create(
            "pods", pod("mixed", "nginx:1.25", "registry.example/private/app:2"), "default"
        )
        await sim.settle()
        await asyncio.sleep(5)
        p = get(sim, "mixed")
        assert p["status"]["phase"] == "Pending"
        first, second = p["status"]["containerStatuses"]
        assert "running" in first["state"]
        assert second["state"]["waiting"]["reason"] == "ImagePullBackOff"
        assert conditions(p)["Ready"]["message"] == "containers with unready status: [c0 c1]"


async def test_a_rollout_to_an_unpullable_image_never_becomes_ready() -> None:
    """The bug this fixes: ``nginx:broken`` used to roll out to Ready like any image."""
    async with SimulatedCluster(seed=5, config=config()) as sim:
        sim.images.unpullable("nginx:broken")
        sim.api.create(
            "deployments",
            {
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "main", "image": "nginx:broken"}]},
                    },
                },
            },
            "default",
        )
        await sim.settle()
        await asyncio.sleep(120)
        d = sim.api.get("deployments", "web", "default")
        assert d["status"].get("readyReplicas", 0) == 0
        assert d["status"]["unavailableReplicas"] == 2
        pods = sim.api.list("pods", "default", label_selector="app=web")
        assert {p["status"]["phase"] for p in pods} == {"Pending"}
