"""Fixtures: a fresh simulated cluster and official clients (sync and aio) wired to it.

The cluster runs on a VirtualClock, so sync watches and injected latency never wait on
the wall clock (async waits follow the event loop as always).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client
from kubernetes.aio import client as aio_client

from fakes.kube import Cluster
from fakes.kube.clock import VirtualClock


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(seed=7, clock=VirtualClock())


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
