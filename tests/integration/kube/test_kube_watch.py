"""Watch through the official clients: live delivery, resume, 410, filters, bookmarks, timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.aio import client as aio_client
from kubernetes.aio import watch as aio_watch
from kubernetes.client import ApiException

from fakes.kube import Cluster
from tests.integration.kube.manifests import configmap, pod


def take(stream: Any, w: Any, n: int) -> list[tuple[str, str]]:
    out = []
    for event in stream:
        out.append((event["type"], event["object"].metadata.name))
        if len(out) == n:
            w.stop()
    return out


def test_sync_watch_replays_history_from_a_resource_version(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod("a"))
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"x": "1"}}})
    core.delete_namespaced_pod("a", "default")
    w = watch.Watch()
    events = take(w.stream(core.list_namespaced_pod, "default", resource_version=start), w, 3)
    assert events == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_sync_watch_without_resource_version_starts_with_current_objects(
    core: client.CoreV1Api,
) -> None:
    core.create_namespaced_config_map("default", configmap("one"))
    w = watch.Watch()
    assert take(w.stream(core.list_namespaced_config_map, "default"), w, 1) == [("ADDED", "one")]


def test_sync_watch_too_old_resource_version_is_410() -> None:
    cluster = Cluster(seed=1, history_size=2)
    core = client.CoreV1Api(cluster.api_client())
    for i in range(5):
        core.create_namespaced_config_map("default", configmap(f"c{i}"))
    w = watch.Watch()
    with pytest.raises(ApiException) as err:
        list(
            w.stream(
                core.list_namespaced_config_map, "default", resource_version="2", timeout_seconds=5
            )
        )
    assert err.value.status == 410


def test_label_filtered_watch_sees_objects_enter_and_leave(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod("a", {"app": "db"}))
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"app": "web"}}})
    core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"app": "db"}}})
    core.create_namespaced_pod("default", pod("b", {"app": "web"}))
    w = watch.Watch()
    stream = w.stream(
        core.list_namespaced_pod, "default", label_selector="app=web", resource_version=start
    )
    assert take(stream, w, 3) == [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "b")]


def test_field_filtered_watch(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod("a", nodeName="n1"))
    core.create_namespaced_pod("default", pod("b", nodeName="n2"))
    w = watch.Watch()
    stream = w.stream(
        core.list_namespaced_pod,
        "default",
        field_selector="spec.nodeName=n2",
        resource_version=start,
    )
    assert take(stream, w, 1) == [("ADDED", "b")]


@pytest.mark.asyncio
async def test_aio_watch_delivers_events_as_they_happen(
    cluster: Cluster, aio_core: aio_client.CoreV1Api
) -> None:
    w = aio_watch.Watch()
    seen: list[tuple[str, str]] = []
    got_first = asyncio.Event()

    async def consume() -> None:
        async with w.stream(
            aio_core.list_namespaced_config_map, "default", timeout_seconds=60
        ) as stream:
            async for event in stream:
                seen.append((event["type"], event["object"].metadata.name))
                got_first.set()
                if len(seen) == 2:
                    w.stop()
                    return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await aio_core.create_namespaced_config_map("default", configmap("one"))
    await asyncio.wait_for(got_first.wait(), 5)
    assert seen == [("ADDED", "one")]
    await aio_core.delete_namespaced_config_map("one", "default")
    await asyncio.wait_for(task, 5)
    assert seen == [("ADDED", "one"), ("DELETED", "one")]


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_aio_watch_timeout_and_bookmarks_follow_loop_time(cluster: Cluster) -> None:
    watcher = cluster.api.watch("pods", "default", allow_bookmarks=True, timeout_seconds=150)
    loop = asyncio.get_running_loop()
    start = loop.time()
    events = [(event.type, round(loop.time() - start)) async for event in watcher]
    assert events == [("BOOKMARK", 60), ("BOOKMARK", 120), ("BOOKMARK", 150)]
    assert watcher.closed


async def drain(core: aio_client.CoreV1Api, resource_version: str) -> None:
    w = aio_watch.Watch()
    async with w.stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=resource_version,
        timeout_seconds=5,
    ) as stream:
        async for _ in stream:
            pass


@pytest.mark.asyncio
async def test_aio_watch_resumes_and_raises_410_when_too_old() -> None:
    cluster = Cluster(seed=1, history_size=2)
    api = cluster.aio_api_client()
    core = aio_client.CoreV1Api(api)
    for i in range(5):
        await core.create_namespaced_config_map("default", configmap(f"c{i}"))
    with pytest.raises(aio_client.ApiException) as err:
        await drain(core, resource_version="2")
    assert err.value.status == 410
    latest = (await core.list_namespaced_config_map("default")).metadata.resource_version
    await core.create_namespaced_config_map("default", configmap("late"))
    w2 = aio_watch.Watch()
    async with w2.stream(
        core.list_namespaced_config_map, "default", resource_version=latest, timeout_seconds=5
    ) as s2:
        async for event in s2:
            assert (event["type"], event["object"].metadata.name) == ("ADDED", "late")
            w2.stop()
    await api.close()


@pytest.mark.asyncio
async def test_closing_a_watcher_ends_the_stream(cluster: Cluster) -> None:
    watcher = cluster.api.watch("configmaps", "default", resource_version=str(cluster.store.rv))
    cluster.api.create("configmaps", configmap("a"), "default")
    watcher.close()
    assert [e.type async for e in watcher] == ["ADDED"]
