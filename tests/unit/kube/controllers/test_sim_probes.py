"""Readiness and liveness probes under virtual time: when pods are Ready, and when not.

A readinessProbe decides when a container is ready (its initial delay and period,
kube's defaults when unset); a failing one keeps the pod Running but not Ready; a
failing livenessProbe gets the container killed and restarted into CrashLoopBackOff.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.simulation import SimulatedCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

HTTP = {"httpGet": {"path": "/healthz", "port": 8080}}


def config() -> SimulationConfig:
    return SimulationConfig(start_latency=Delay.fixed(1.0), ready_latency=Delay.fixed(0.5))


def deployment(name: str, replicas: int, **probes: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "nginx:1.25", **probes}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def pods_of(sim: SimulatedCluster, app: str) -> list[dict[str, Any]]:
    return sim.api.list("pods", "default", label_selector=f"app={app}")


def conditions(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in p["status"]["conditions"]}


def is_ready(p: dict[str, Any]) -> bool:
    return conditions(p).get("Ready", {}).get("status") == "True"


async def ready_at(sim: SimulatedCluster, app: str, step: float = 0.25) -> float:
    """Loop time at which the app's first pod is Ready (polled)."""
    loop = asyncio.get_running_loop()
    while not any(is_ready(p) for p in pods_of(sim, app) if p.get("status", {}).get("phase")):
        await asyncio.sleep(step)
    return loop.time()


async def test_a_readiness_probe_makes_the_pod_ready_on_its_schedule() -> None:
    probe = {**HTTP, "initialDelaySeconds": 15, "periodSeconds": 10}
    async with SimulatedCluster(seed=1, config=config()) as sim:
        loop = asyncio.get_running_loop()
        created = loop.time()
        sim.api.create("deployments", deployment("web", 1, readinessProbe=probe), "default")
        # Running 1 s after creation; probes at 0 (skipped), 10 (skipped), 20: ready.
        assert await ready_at(sim, "web") - created == pytest.approx(21.0, abs=0.3)


async def test_probe_defaults_and_success_threshold() -> None:
    async with SimulatedCluster(seed=2, config=config()) as sim:
        loop = asyncio.get_running_loop()
        created = loop.time()
        sim.api.create("deployments", deployment("now", 1, readinessProbe=HTTP), "default")
        # periodSeconds 10, no initial delay: the first probe, as the container starts.
        assert await ready_at(sim, "now") - created == pytest.approx(1.0, abs=0.3)
        created = loop.time()
        probe = {**HTTP, "successThreshold": 3, "periodSeconds": 5}
        sim.api.create("deployments", deployment("thrice", 1, readinessProbe=probe), "default")
        assert await ready_at(sim, "thrice") - created == pytest.approx(11.0, abs=0.3)
        created = loop.time()
        sim.api.create("deployments", deployment("plain", 1), "default")
        # No probe: the readiness latency, as before probes were modelled.
        assert await ready_at(sim, "plain", 0.1) - created == pytest.approx(1.5, abs=0.15)


async def test_a_failing_readiness_probe_keeps_the_pod_running_but_not_ready() -> None:
    async with SimulatedCluster(seed=3, config=config()) as sim, sim.aio_api_client() as client:
        apps, core = aclient.AppsV1Api(client), aclient.CoreV1Api(client)
        sim.probes.fail_readiness(deployment="web", namespace="default")
        sim.api.create("deployments", deployment("web", 2, readinessProbe=HTTP), "default")
        sim.api.create("deployments", deployment("other", 1, readinessProbe=HTTP), "default")
        await sim.settle()
        await asyncio.sleep(60)
        pods = (await core.list_namespaced_pod("default", label_selector="app=web")).items
        assert len(pods) == 2
        for p in pods:
            assert p.status.phase == "Running"
            assert p.status.container_statuses[0].ready is False
            assert p.status.container_statuses[0].state.running is not None
            by_type = {c.type: c for c in p.status.conditions}
            for type in ("Ready", "ContainersReady"):
                c = by_type[type]
                assert (c.status, c.reason, c.message) == (
                    "False",
                    "ContainersNotReady",
                    "containers with unready status: [main]",
                )
        d = await apps.read_namespaced_deployment("web", "default")
        assert (d.status.replicas, d.status.ready_replicas) == (2, None)
        assert (
            await apps.read_namespaced_deployment("other", "default")
        ).status.ready_replicas == 1
        name = pods[0].metadata.name
        unhealthy = [
            e
            for e in sim.api.list("events", "default")
            if e["involvedObject"]["name"] == name and e["reason"] == "Unhealthy"
        ]
        assert [(e["type"], e["message"]) for e in unhealthy] == [
            ("Warning", "Readiness probe failed: HTTP probe failed with statuscode: 503")
        ]
        assert unhealthy[0]["count"] >= 6  # one per period


async def test_readiness_that_starts_failing_and_recovers() -> None:
    async with SimulatedCluster(seed=4, config=config()) as sim:
        sim.api.create("deployments", deployment("web", 1, readinessProbe=HTTP), "default")
        await sim.settle()
        loop = asyncio.get_running_loop()
        assert all(is_ready(p) for p in pods_of(sim, "web"))
        began = loop.time()
        rule = sim.probes.fail_readiness(labels={"app": "web"})
        await asyncio.sleep(19.5)  # failureThreshold 3 at 10 s periods
        assert all(is_ready(p) for p in pods_of(sim, "web"))
        await asyncio.sleep(11)
        (p,) = pods_of(sim, "web")
        assert not is_ready(p)
        assert loop.time() - began < 31
        sim.probes.remove(rule)
        assert await ready_at(sim, "web") - began < 41  # the next period's probe passes


async def test_a_seeded_share_of_pods_fails_readiness() -> None:
    async def unready(seed: int) -> set[str]:
        async with SimulatedCluster(seed=seed, config=config()) as sim:
            sim.probes.fail_readiness(deployment="web", share=0.5, label="half")
            sim.api.create("deployments", deployment("web", 10, readinessProbe=HTTP), "default")
            await sim.settle()
            return {p["metadata"]["name"] for p in pods_of(sim, "web") if not is_ready(p)}

    first = await unready(5)
    assert 0 < len(first) < 10
    assert await unready(5) == first


async def test_a_failing_liveness_probe_restarts_into_crash_loop_back_off() -> None:
    probe = {**HTTP, "periodSeconds": 10, "failureThreshold": 3}
    async with SimulatedCluster(seed=6, config=config()) as sim:
        sim.probes.fail_liveness(deployment="web")
        sim.api.create("deployments", deployment("web", 1, livenessProbe=probe), "default")
        loop = asyncio.get_running_loop()
        created = loop.time()
        history: list[tuple[float, int, str]] = []
        while loop.time() - created < 200:
            for p in pods_of(sim, "web"):
                for cs in p.get("status", {}).get("containerStatuses") or ():
                    state = next(iter(cs["state"]))
                    key = (cs["restartCount"], state)
                    if not history or history[-1][1:] != key:
                        history.append((round(loop.time() - created, 1), *key))
            await asyncio.sleep(0.5)
        # Running at 1 s; probes fail at 1, 11, 21: killed; back-off 10 s, 20 s, 40 s...
        assert history[:7] == [
            (1.0, 0, "running"),
            (21.0, 1, "waiting"),
            (31.0, 1, "running"),
            (51.0, 2, "waiting"),
            (71.0, 2, "running"),
            (91.0, 3, "waiting"),
            (131.0, 3, "running"),
        ]
        (p,) = pods_of(sim, "web")
        (cs,) = p["status"]["containerStatuses"]
        assert cs["lastState"]["terminated"]["exitCode"] == 137
        d = sim.api.get("deployments", "web", "default")
        assert d["status"].get("readyReplicas", 0) in (0, 1)
        reasons = {
            (e["reason"], e["message"])
            for e in sim.api.list("events", "default")
            if e["involvedObject"]["name"] == p["metadata"]["name"]
        }
        assert ("Killing", "Container main failed liveness probe, will be restarted") in reasons
        assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503") in (
            reasons
        )


async def test_crash_loop_message_says_the_back_off() -> None:
    async with SimulatedCluster(seed=7, config=config()) as sim:
        sim.probes.fail_liveness(deployment="web")
        sim.api.create("deployments", deployment("web", 1, livenessProbe=HTTP), "default")
        await asyncio.sleep(55)  # the second kill at 51 s
        (p,) = pods_of(sim, "web")
        (cs,) = p["status"]["containerStatuses"]
        waiting = cs["state"]["waiting"]
        meta = p["metadata"]
        assert waiting == {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 20s restarting failed container=main "
            f"pod={meta['name']}_default({meta['uid']})",
        }
        assert conditions(p)["Ready"]["reason"] == "ContainersNotReady"
