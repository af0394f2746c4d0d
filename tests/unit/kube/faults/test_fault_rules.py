"""Fault injection: rules seen through the official aio client, and the pure decision."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes.aio import client as aclient
from kubernetes.aio import watch as awatch
from kubernetes.aio.client.exceptions import ApiException

from fakes.kube.controllers.config import Delay
from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
    # A sync test run earlier leaves pytest-asyncio's implicitly created loop unclosed
    # and it is collected during the next async test (pytest-asyncio issue #724).
]


async def test_429_with_retry_after_is_visible_to_the_client() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.faults.error(429, verb="list", resource="pods", retry_after=7, times=1)
        with pytest.raises(ApiException) as caught:
            await core.list_namespaced_pod("default")
        assert caught.value.status == 429
        assert caught.value.headers["Retry-After"] == "7"
        assert '"reason":"TooManyRequests"' in caught.value.body
        assert '"retryAfterSeconds":7' in caught.value.body
        pods = await core.list_namespaced_pod("default")
        assert pods.items == []


async def test_next_n_calls_fail_then_recover() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.faults.error(503, verb="get", resource="namespaces", name="default", times=2)
        codes = []
        for _ in range(4):
            try:
                await core.read_namespace("default")
                codes.append(200)
            except ApiException as exc:
                codes.append(exc.status)
        assert codes == [503, 503, 200, 200]
        # Other names are untouched.
        await core.read_namespace("kube-system")


async def test_outage_window_follows_loop_time() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        loop = asyncio.get_running_loop()
        now = loop.time()
        sim.faults.outage(now + 10, now + 20, code=503)
        await core.list_node()
        await asyncio.sleep(10)
        with pytest.raises(ApiException) as caught:
            await core.list_node()
        assert caught.value.status == 503
        with pytest.raises(ApiException):
            await core.read_namespace("default")
        await asyncio.sleep(10)
        assert len((await core.list_node()).items) == 3


async def test_latency_is_on_the_loop_clock() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.faults.latency(2.5, verb="get", resource="nodes")
        sim.faults.latency(Delay.uniform(1.0, 2.0), verb="get", resource="nodes")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await core.read_node("node-1")
        assert 3.5 <= loop.time() - t0 <= 4.5


async def test_dropped_watch_ends_the_stream() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        await sim.settle()
        sim.faults.drop_watches(after=5.0, resource="nodes")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        seen = []
        w = awatch.Watch()
        async with w.stream(core.list_node, timeout_seconds=120) as stream:
            async for event in stream:
                seen.append(event["type"])
        assert seen == ["ADDED"] * 3
        assert 5.0 <= loop.time() - t0 < 120


async def test_conflict_and_internal_errors_have_real_status_bodies() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.faults.error(409, verb="patch", resource="nodes", times=1)
        sim.faults.error(500, verb="delete", times=1)
        with pytest.raises(ApiException) as conflict:
            await core.patch_node("node-1", {"metadata": {"labels": {"a": "b"}}})
        assert conflict.value.status == 409
        assert "the object has been modified" in conflict.value.body
        with pytest.raises(ApiException) as internal:
            await core.delete_node("node-3")
        assert internal.value.status == 500
        assert '"reason":"InternalError"' in internal.value.body


async def test_action_log_records_every_request_with_outcome() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        sim.faults.error(504, verb="get", resource="pods", times=1)
        await core.list_namespaced_pod("default")
        with pytest.raises(ApiException):
            await core.read_namespaced_pod("nope", "default")
        with pytest.raises(ApiException):
            await core.read_namespaced_pod("nope", "default")
        log = sim.faults.actions(resource="pods")
        assert [(a.verb, a.namespace, a.name, a.status, a.injected) for a in log] == [
            ("list", "default", "", 200, False),
            ("get", "default", "nope", 504, True),
            ("get", "default", "nope", 404, False),
        ]
