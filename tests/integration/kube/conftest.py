"""Fixtures: a fresh simulated cluster and official clients (sync and aio) wired to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client
from kubernetes.aio import client as aio_client

from fakes.kube import Cluster
from fakes.kube.clock import FixedClock


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """Close the event loop looptime's hook creates around a *sync* test.

    looptime 0.9 asks the policy for the current loop around every test; for a sync
    test that silently creates a loop nobody closes, and the next async test then
    fails on its ResourceWarning. A loop that appeared during the call and is not
    running is that stray one.
    """
    before = _policy_loop()
    try:
        return (yield)
    finally:
        after = _policy_loop()
        if (
            after is not None
            and after is not before
            and not after.is_running()
            and not after.is_closed()
        ):
            after.close()
            asyncio.get_event_loop_policy().set_event_loop(None)


def _policy_loop() -> asyncio.AbstractEventLoop | None:
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    loop: asyncio.AbstractEventLoop | None = getattr(local, "_loop", None)
    return loop


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(seed=7, clock=FixedClock())


@pytest.fixture
def api_client(cluster: Cluster) -> Iterator[Any]:
    api = cluster.api_client()
    yield api
    api.close()


@pytest.fixture
def core(api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client: Any) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest_asyncio.fixture
async def aio_api(cluster: Cluster) -> AsyncIterator[Any]:
    api = cluster.aio_api_client()
    yield api
    await api.close()


@pytest.fixture
def aio_core(aio_api: Any) -> aio_client.CoreV1Api:
    return aio_client.CoreV1Api(aio_api)


@pytest.fixture
def aio_apps(aio_api: Any) -> aio_client.AppsV1Api:
    return aio_client.AppsV1Api(aio_api)
