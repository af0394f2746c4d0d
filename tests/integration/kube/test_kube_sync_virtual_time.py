"""The sync official client on a VirtualClock cluster: nothing waits on the wall clock.

Watch timeouts and bookmarks, injected latency and dropped watches follow the
cluster's virtual clock, so a 300 s watch ends at once; a watch fed by another thread
that holds the clock still sees every event as it is written.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client, watch

from fakes.kube import Cluster
from fakes.kube.clock import VirtualClock, WallClock
from fakes.kube.faults import FaultInjector
from tests.integration.kube.manifests import configmap

# A safety net only: on wall time these tests would wait minutes, not fail.
pytestmark = pytest.mark.timeout(30)
START = 1_700_000_000.0


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def vcluster(clock: VirtualClock) -> Cluster:
    return Cluster(seed=3, clock=clock)


@pytest.fixture
def vcore(vcluster: Cluster) -> Iterator[client.CoreV1Api]:
    api_client = vcluster.api_client()
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture
def no_wall_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) called under a virtual clock")

    monkeypatch.setattr(time, "sleep", refuse)


def test_a_300s_watch_ends_at_once_with_its_events_and_bookmarks(
    clock: VirtualClock, vcore: client.CoreV1Api
) -> None:
    vcore.create_namespaced_config_map("default", configmap("one"))
    w = watch.Watch()
    seen: list[tuple[str, float]] = []
    for event in w.stream(
        vcore.list_namespaced_config_map,
        "default",
        timeout_seconds=300,
        allow_watch_bookmarks=True,
    ):
        seen.append((event["type"], clock.now() - START))
    assert seen == [
        ("ADDED", 0),
        ("BOOKMARK", 60),
        ("BOOKMARK", 120),
        ("BOOKMARK", 180),
        ("BOOKMARK", 240),
        ("BOOKMARK", 300),
    ]
    assert clock.now() == START + 300


def test_a_watch_without_bookmarks_just_ends_at_its_timeout(
    clock: VirtualClock, vcore: client.CoreV1Api
) -> None:
    w = watch.Watch()
    assert list(w.stream(vcore.list_namespaced_config_map, "default", timeout_seconds=45)) == []
    assert clock.now() == START + 45


@pytest.mark.usefixtures("no_wall_sleep")
def test_injected_latency_on_a_sync_request_advances_the_virtual_clock(
    clock: VirtualClock, vcluster: Cluster, vcore: client.CoreV1Api
) -> None:
    faults = FaultInjector(seed=1, clock=clock)
    vcluster.reactors.append(faults)
    faults.latency(30.0, verb="get", resource="namespaces")
    assert vcore.read_namespace("default").metadata.name == "default"
    assert clock.now() == START + 30
    assert faults.actions(verb="get")[0].time == START  # logged on the cluster's clock
    vcore.list_namespace()  # not matched: no delay
    assert clock.now() == START + 30


def test_a_dropped_sync_watch_ends_on_virtual_time_without_a_bookmark(
    clock: VirtualClock, vcluster: Cluster, vcore: client.CoreV1Api
) -> None:
    faults = FaultInjector(seed=1, clock=clock)
    vcluster.reactors.append(faults)
    faults.drop_watches(after=5.0, resource="configmaps")
    w = watch.Watch()
    events = list(
        w.stream(
            vcore.list_namespaced_config_map,
            "default",
            timeout_seconds=120,
            allow_watch_bookmarks=True,
        )
    )
    assert events == []
    assert clock.now() == START + 5


def test_object_timestamps_follow_the_virtual_clock(
    clock: VirtualClock, vcore: client.CoreV1Api
) -> None:
    first = vcore.create_namespaced_config_map("default", configmap("first"))
    list(watch.Watch().stream(vcore.list_namespaced_config_map, "default", timeout_seconds=90))
    second = vcore.create_namespaced_config_map("default", configmap("second"))
    assert first.metadata.creation_timestamp.timestamp() == START
    assert second.metadata.creation_timestamp.timestamp() == START + 90


def test_a_sync_watch_sees_events_another_thread_writes_while_holding_the_clock(
    clock: VirtualClock, vcore: client.CoreV1Api
) -> None:
    start_rv = vcore.list_namespaced_config_map("default").metadata.resource_version
    received: queue.Queue[tuple[str, str]] = queue.Queue()
    finished = threading.Event()

    def consume() -> None:
        w = watch.Watch()
        for event in w.stream(
            vcore.list_namespaced_config_map,
            "default",
            resource_version=start_rv,
            timeout_seconds=300,
        ):
            received.put((event["type"], event["object"].metadata.name))
        finished.set()

    consumer = threading.Thread(target=consume, daemon=True)
    with clock.hold():
        consumer.start()
        for name in ("a", "b"):
            vcore.create_namespaced_config_map("default", configmap(name))
            # Delivered while we still hold the clock: the watch waited for it.
            assert received.get(timeout=10) == ("ADDED", name)
        vcore.delete_namespaced_config_map("a", "default")
        assert received.get(timeout=10) == ("DELETED", "a")
        assert clock.now() == START
        assert not finished.is_set()
    consumer.join(10)
    assert finished.is_set()
    assert clock.now() == START + 300


def test_the_default_cluster_keeps_real_time() -> None:
    """Outside tests (the HTTP server, ``windtunnel cluster serve``) threads wait for real."""
    cluster = Cluster(seed=1)
    assert isinstance(cluster.api.clock, WallClock)
    watcher = cluster.api.watch("configmaps", "default", timeout_seconds=1)
    assert watcher.timer is cluster.api.clock
    assert cluster.router.sleep_sync == cluster.api.clock.sleep
    watcher.close()
