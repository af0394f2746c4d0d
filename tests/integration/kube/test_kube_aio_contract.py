"""The API-server contract through both official clients, sync and ``kubernetes.aio``.

Every rule the cluster promises -- watch resume and 410, conflicts, dryRun not
persisting, delete response shapes, selectors, paging, patches, quota admission,
eviction with a PDB -- is asserted once here and run through each client, so an
engine on the asyncio client sees the same answers as one on the sync client.

The sync client's calls are wrapped to be awaited (:class:`Awaiting`); they still go
through ``kubernetes.client`` and its in-process seam. Tests run under looptime, so
a watch's ``timeout_seconds`` (the safety net when fewer events arrive than
expected) passes in virtual time on the loop, and on the cluster's VirtualClock for
the sync client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client, watch
from kubernetes.aio import client as aio_client
from kubernetes.aio import watch as aio_watch

from fakes.kube import Cluster
from fakes.kube.clock import VirtualClock
from tests.integration.kube.manifests import configmap, deployment, pod

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


class Awaiting:
    """A sync API object whose methods are awaited like the aio client's."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.api, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call


@dataclass
class Kube:
    """One official client, with what a test needs to tell its answers apart."""

    flavour: str
    core: Any
    apps: Any
    policy: Any
    models: ModuleType
    ApiException: type[Exception]

    async def watch(self, list_method: str, *args: Any, n: int, **kwargs: Any) -> list[Any]:
        """Up to ``n`` events of a watch as (type, name), stopping at the ``n``-th."""
        kwargs.setdefault("timeout_seconds", 30)
        out: list[Any] = []
        if self.flavour == "sync":
            w = watch.Watch()
            for event in w.stream(getattr(self.core.api, list_method), *args, **kwargs):
                out.append((event["type"], event["object"].metadata.name))
                if len(out) == n:
                    w.stop()
            return out
        aw = aio_watch.Watch()
        async with aw.stream(getattr(self.core, list_method), *args, **kwargs) as stream:
            async for event in stream:
                out.append((event["type"], event["object"].metadata.name))
                if len(out) == n:
                    aw.stop()
        return out


@pytest.fixture
def history_size() -> int:
    return 10_000


@pytest.fixture
def cluster(history_size: int) -> Cluster:
    return Cluster(seed=7, clock=VirtualClock(), history_size=history_size)


@pytest_asyncio.fixture(params=["sync", "aio"])
async def kube(request: pytest.FixtureRequest, cluster: Cluster) -> AsyncIterator[Kube]:
    if request.param == "sync":
        sync_api = cluster.api_client()
        yield Kube(
            "sync",
            Awaiting(client.CoreV1Api(sync_api)),
            Awaiting(client.AppsV1Api(sync_api)),
            Awaiting(client.PolicyV1Api(sync_api)),
            client,
            client.ApiException,
        )
        sync_api.close()
        return
    aio_api = cluster.aio_api_client()
    yield Kube(
        "aio",
        aio_client.CoreV1Api(aio_api),
        aio_client.AppsV1Api(aio_api),
        aio_client.PolicyV1Api(aio_api),
        aio_client,
        aio_client.ApiException,
    )
    await aio_api.close()


def body_of(err: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(err.value.body)
    return status


def names(listed: Any) -> list[str]:
    return [item.metadata.name for item in listed.items]


# -- conflicts -----------------------------------------------------------------------


async def test_duplicate_create_is_409_already_exists(kube: Kube) -> None:
    await kube.core.create_namespaced_pod("default", pod("web"))
    with pytest.raises(kube.ApiException) as err:
        await kube.core.create_namespaced_pod("default", pod("web"))
    assert err.value.status == 409
    assert err.value.body == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"pods \\"web\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"web","kind":"pods"},"code":409}'
    )


async def test_update_with_stale_resource_version_is_409_conflict(kube: Kube) -> None:
    first = await kube.core.create_namespaced_config_map("default", configmap("cfg", {"a": "1"}))
    first.data = {"a": "2"}
    await kube.core.replace_namespaced_config_map("cfg", "default", first)
    first.data = {"a": "3"}
    with pytest.raises(kube.ApiException) as err:
        await kube.core.replace_namespaced_config_map("cfg", "default", first)
    assert err.value.status == 409
    body = body_of(err)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert (await kube.core.read_namespaced_config_map("cfg", "default")).data == {"a": "2"}


async def test_patch_with_stale_resource_version_is_409(kube: Kube) -> None:
    await kube.apps.create_namespaced_deployment("default", deployment("web"))
    await kube.apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    with pytest.raises(kube.ApiException) as err:
        await kube.apps.patch_namespaced_deployment(
            "web", "default", {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 5}}
        )
    assert err.value.status == 409
    assert body_of(err)["reason"] == "Conflict"
    assert (await kube.apps.read_namespaced_deployment("web", "default")).spec.replicas == 3


async def test_missing_object_is_404_with_status_body(kube: Kube) -> None:
    with pytest.raises(kube.ApiException) as err:
        await kube.apps.read_namespaced_deployment("nope", "default")
    assert err.value.status == 404
    body = body_of(err)
    assert body["reason"] == "NotFound"
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


# -- dryRun --------------------------------------------------------------------------


async def test_dry_run_validates_but_never_persists(kube: Kube) -> None:
    start = (await kube.core.list_namespaced_pod("default")).metadata.resource_version
    answered = await kube.core.create_namespaced_pod("default", pod("ghost"), dry_run="All")
    assert answered.metadata.name == "ghost"
    with pytest.raises(kube.ApiException) as err:
        await kube.core.read_namespaced_pod("ghost", "default")
    assert err.value.status == 404
    await kube.apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    patched = await kube.apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 7}}, dry_run="All"
    )
    assert patched.spec.replicas == 7
    assert (await kube.apps.read_namespaced_deployment("web", "default")).spec.replicas == 1
    replaced = await kube.apps.read_namespaced_deployment("web", "default")
    replaced.spec.replicas = 9
    await kube.apps.replace_namespaced_deployment("web", "default", replaced, dry_run="All")
    await kube.apps.delete_namespaced_deployment("web", "default", dry_run="All")
    live = await kube.apps.read_namespaced_deployment("web", "default")
    assert (live.metadata.name, live.spec.replicas) == ("web", 1)
    with pytest.raises(kube.ApiException) as invalid:
        await kube.core.create_namespaced_pod(
            "default", {"metadata": {"name": "x"}, "spec": {"containers": []}}, dry_run="All"
        )
    assert invalid.value.status == 422
    # Nothing but the deployment's own create was written.
    events = await kube.watch("list_namespaced_pod", "default", resource_version=start, n=1)
    assert events == []


# -- delete response shapes ------------------------------------------------------------


async def test_delete_returns_the_object_for_pods_and_a_status_otherwise(kube: Kube) -> None:
    await kube.core.create_namespaced_pod("default", pod("web"))
    deleted_pod = await kube.core.delete_namespaced_pod("web", "default")
    assert isinstance(deleted_pod, kube.models.V1Pod)
    assert deleted_pod.metadata.name == "web"
    await kube.core.create_namespaced_config_map("default", configmap("cfg"))
    status = await kube.core.delete_namespaced_config_map("cfg", "default")
    assert (status["kind"], status["status"]) == ("Status", "Success")
    assert status["details"]["kind"] == "configmaps"
    await kube.apps.create_namespaced_deployment("default", deployment("web"))
    gone = await kube.apps.delete_namespaced_deployment("web", "default")
    assert (gone["kind"], gone["details"]["group"]) == ("Status", "apps")
    await kube.core.create_namespaced_service(
        "default", {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    )
    deleted_svc = await kube.core.delete_namespaced_service("svc", "default")
    assert isinstance(deleted_svc, kube.models.V1Service)


async def test_deletecollection_answers_the_deleted_list(kube: Kube) -> None:
    for i, app in enumerate(["web", "web", "db"]):
        await kube.core.create_namespaced_pod("default", pod(f"p{i}", {"app": app}))
    answer = await kube.core.delete_collection_namespaced_pod("default", label_selector="app=web")
    assert answer.kind == "PodList"
    assert names(await kube.core.list_namespaced_pod("default")) == ["p2"]


# -- selectors -----------------------------------------------------------------------


@pytest.fixture
def labelled(cluster: Cluster) -> None:
    for i, (app, tier) in enumerate([("web", "fe"), ("web", "be"), ("db", "be"), ("cache", "fe")]):
        cluster.api.create("pods", pod(f"p{i}", {"app": app, "tier": tier}), "default")
    cluster.api.create_raw(
        cluster.api.pods, "default", {"target": {"name": "n1"}}, subresource="binding", name="p0"
    )
    cluster.api.patch(
        "pods", "p2", {"status": {"phase": "Running"}}, "default", subresource="status"
    )


@pytest.mark.usefixtures("labelled")
@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["p0", "p1"]),
        ("app==web,tier=fe", ["p0"]),
        ("app!=web", ["p2", "p3"]),
        ("app in (db,cache)", ["p2", "p3"]),
        ("tier notin (fe)", ["p1", "p2"]),
        ("app", ["p0", "p1", "p2", "p3"]),
        ("!app", []),
        ("app=web,tier in (be)", ["p1"]),
    ],
)
async def test_label_selectors(kube: Kube, selector: str, expected: list[str]) -> None:
    assert names(await kube.core.list_namespaced_pod("default", label_selector=selector)) == (
        expected
    )


@pytest.mark.usefixtures("labelled")
@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=p1", ["p1"]),
        ("spec.nodeName=n1", ["p0"]),
        ("spec.nodeName=", ["p1", "p2", "p3"]),
        ("status.phase=Running", ["p2"]),
        ("status.phase!=Running", ["p0", "p1", "p3"]),
        ("metadata.namespace=default,status.phase=Pending", ["p0", "p1", "p3"]),
    ],
)
async def test_field_selectors(kube: Kube, selector: str, expected: list[str]) -> None:
    assert names(await kube.core.list_pod_for_all_namespaces(field_selector=selector)) == expected


async def test_unsupported_field_selector_is_400(kube: Kube) -> None:
    with pytest.raises(kube.ApiException) as err:
        await kube.core.list_namespaced_pod("default", field_selector="spec.foo=bar")
    assert err.value.status == 400
    assert body_of(err)["message"] == "field label not supported: spec.foo"


# -- paging --------------------------------------------------------------------------


async def test_limit_and_continue_page_through_everything(kube: Kube) -> None:
    for i in range(7):
        await kube.core.create_namespaced_pod("default", pod(f"p{i}"))
    seen: list[str] = []
    remaining: list[int | None] = []
    token = None
    while True:
        page = await kube.core.list_namespaced_pod("default", limit=3, _continue=token)
        seen += names(page)
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"p{i}" for i in range(7)]
    assert remaining == [4, 1, None]


async def test_later_pages_show_the_snapshot_of_the_first(kube: Kube) -> None:
    for name in ("a", "b", "c", "d"):
        await kube.core.create_namespaced_pod("default", pod(name, {"v": "1"}))
    first = await kube.core.list_namespaced_pod("default", limit=2)
    await kube.core.delete_namespaced_pod("c", "default", grace_period_seconds=0)
    await kube.core.patch_namespaced_pod("d", "default", {"metadata": {"labels": {"v": "2"}}})
    second = await kube.core.list_namespaced_pod(
        "default", limit=2, _continue=first.metadata._continue
    )
    assert [(p.metadata.name, p.metadata.labels["v"]) for p in second.items] == [
        ("c", "1"),
        ("d", "1"),
    ]
    assert second.metadata.resource_version == first.metadata.resource_version
    assert not second.metadata._continue


@pytest.mark.parametrize("history_size", [5])
async def test_continue_past_the_history_is_410_expired_with_a_token_to_go_on(
    kube: Kube,
) -> None:
    for i in range(4):
        await kube.core.create_namespaced_pod("default", pod(f"p{i}"))
    first = await kube.core.list_namespaced_pod("default", limit=2)
    for i in range(6):
        await kube.core.create_namespaced_pod("default", pod(f"q{i}"))
    with pytest.raises(kube.ApiException) as err:
        await kube.core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert err.value.status == 410
    status = body_of(err)
    assert status["reason"] == "Expired"
    assert status["message"].startswith(
        "The provided continue parameter is too old to display a consistent list result."
    )
    rest = await kube.core.list_namespaced_pod("default", _continue=status["metadata"]["continue"])
    assert names(rest) == ["p2", "p3", "q0", "q1", "q2", "q3", "q4", "q5"]


# -- patches -------------------------------------------------------------------------


async def web(kube: Kube) -> None:
    body = deployment("web")
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    container["ports"] = [{"containerPort": 80, "name": "http"}]
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    body["spec"]["template"]["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    await kube.apps.create_namespaced_deployment("default", body)


async def template(kube: Kube) -> Any:
    return (await kube.apps.read_namespaced_deployment("web", "default")).spec.template.spec


async def test_strategic_merge_merges_lists_by_their_keys(kube: Kube) -> None:
    await web(kube)
    app_patch = {
        "name": "app",
        "image": "nginx:1.26",
        "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
        "ports": [{"containerPort": 443, "name": "https"}],
    }
    tolerations = [{"key": "b", "operator": "Exists"}]
    patch = {
        "spec": {"template": {"spec": {"containers": [app_patch], "tolerations": tolerations}}}
    }
    await kube.apps.patch_namespaced_deployment("web", "default", patch)
    spec = await template(kube)
    app = spec.containers[0]
    assert [c.name for c in spec.containers] == ["app", "sidecar"]
    assert app.image == "nginx:1.26"
    assert [(e.name, e.value) for e in app.env] == [("A", "1"), ("B", "3"), ("C", "4")]
    # A new item goes before the live-only ones, as kube's strategic merge orders them.
    assert [p.container_port for p in app.ports] == [443, 80]
    assert [t.key for t in spec.tolerations] == ["b"]


async def test_strategic_merge_delete_directive_removes_an_item(kube: Kube) -> None:
    await web(kube)
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}
    }
    await kube.apps.patch_namespaced_deployment("web", "default", patch)
    assert [c.name for c in (await template(kube)).containers] == ["app"]


async def test_json_merge_patch_replaces_lists_and_null_deletes(kube: Kube) -> None:
    await web(kube)
    patch = {
        "metadata": {"labels": {"tier": "fe"}},
        "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "busybox"}]}}},
    }
    patched = await kube.apps.patch_namespaced_deployment(
        "web", "default", patch, _content_type="application/merge-patch+json"
    )
    assert [c.name for c in patched.spec.template.spec.containers] == ["only"]
    assert patched.metadata.labels == {"tier": "fe"}
    unlabelled = await kube.apps.patch_namespaced_deployment(
        "web",
        "default",
        {"metadata": {"labels": {"tier": None}}},
        _content_type="application/merge-patch+json",
    )
    assert not unlabelled.metadata.labels


async def test_json_patch_uses_rfc6902_operations(kube: Kube) -> None:
    await web(kube)
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "fe"}},
    ]
    patched = await kube.apps.patch_namespaced_deployment("web", "default", ops)
    assert (patched.spec.replicas, patched.metadata.labels) == (4, {"tier": "fe"})
    with pytest.raises(kube.ApiException) as err:
        await kube.apps.patch_namespaced_deployment(
            "web", "default", [{"op": "test", "path": "/spec/replicas", "value": 1}]
        )
    assert err.value.status == 422
    assert (await kube.apps.read_namespaced_deployment("web", "default")).spec.replicas == 4


# -- quota admission -----------------------------------------------------------------


def sized(name: str, cpu: str, memory: str = "64Mi") -> dict[str, Any]:
    body = pod(name)
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu, "memory": memory}}
    return body


async def test_quota_refuses_an_overrun_with_the_real_message(kube: Kube) -> None:
    await kube.core.create_namespaced_resource_quota(
        "default", {"metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": "4", "pods": "5"}}}
    )
    await kube.core.create_namespaced_pod("default", sized("a", "2"))
    await kube.core.create_namespaced_pod("default", sized("b", "1"))
    with pytest.raises(kube.ApiException) as err:
        await kube.core.create_namespaced_pod("default", sized("x", "2"))
    assert err.value.status == 403
    body = body_of(err)
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "x" is forbidden: exceeded quota: q, requested: requests.cpu=2, '
        "used: requests.cpu=3, limited: requests.cpu=4"
    )
    used = (await kube.core.read_namespaced_resource_quota("q", "default")).status.used
    assert used == {"pods": "2", "requests.cpu": "3"}


# -- eviction with a PDB -------------------------------------------------------------


def ready_pod(cluster: Cluster, name: str) -> None:
    cluster.api.create("pods", pod(name, {"app": "web"}, nodeName="n1"), "default")
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    cluster.api.patch("pods", name, {"status": status}, "default", subresource="status")


async def evict(kube: Kube, name: str) -> Any:
    return await kube.core.create_namespaced_pod_eviction(
        name, "default", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    )


async def test_eviction_honours_the_disruption_budget(kube: Kube, cluster: Cluster) -> None:
    await kube.policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "web-pdb"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        },
    )
    for name in ("a", "b", "c"):
        ready_pod(cluster, name)
    await evict(kube, "a")
    evicted = await kube.core.read_namespaced_pod("a", "default")
    assert evicted.metadata.deletion_timestamp is not None
    with pytest.raises(kube.ApiException) as err:
        await evict(kube, "b")
    assert err.value.status == 429
    body = body_of(err)
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 2 healthy pods and has 2 currently",
        }
    ]
    assert (await kube.core.read_namespaced_pod("b", "default")).metadata.deletion_timestamp is None


# -- watch ---------------------------------------------------------------------------


async def test_watch_resumes_from_a_resource_version(kube: Kube) -> None:
    await kube.core.create_namespaced_pod("default", pod("before"))
    start = (await kube.core.list_namespaced_pod("default")).metadata.resource_version
    await kube.core.create_namespaced_pod("default", pod("a"))
    await kube.core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"x": "1"}}})
    await kube.core.delete_namespaced_pod("a", "default")
    events = await kube.watch("list_namespaced_pod", "default", resource_version=start, n=3)
    assert events == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


async def test_watch_without_resource_version_starts_with_current_objects(kube: Kube) -> None:
    await kube.core.create_namespaced_config_map("default", configmap("one"))
    assert await kube.watch("list_namespaced_config_map", "default", n=1) == [("ADDED", "one")]


async def test_watch_timeout_ends_the_stream_after_the_replayed_events(kube: Kube) -> None:
    start = (await kube.core.list_namespaced_config_map("default")).metadata.resource_version
    await kube.core.create_namespaced_config_map("default", configmap("one"))
    events = await kube.watch(
        "list_namespaced_config_map", "default", resource_version=start, timeout_seconds=300, n=5
    )
    assert events == [("ADDED", "one")]


@pytest.mark.parametrize("history_size", [2])
async def test_watch_from_a_compacted_resource_version_is_410_gone(kube: Kube) -> None:
    for i in range(5):
        await kube.core.create_namespaced_config_map("default", configmap(f"c{i}"))
    with pytest.raises(kube.ApiException) as err:
        await kube.watch("list_namespaced_config_map", "default", resource_version="2", n=1)
    assert err.value.status == 410
    latest = (await kube.core.list_namespaced_config_map("default")).metadata.resource_version
    await kube.core.create_namespaced_config_map("default", configmap("late"))
    events = await kube.watch("list_namespaced_config_map", "default", resource_version=latest, n=1)
    assert events == [("ADDED", "late")]


async def test_label_filtered_watch_sees_objects_enter_and_leave(kube: Kube) -> None:
    start = (await kube.core.list_namespaced_pod("default")).metadata.resource_version
    await kube.core.create_namespaced_pod("default", pod("a", {"app": "db"}))
    await kube.core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"app": "web"}}})
    await kube.core.patch_namespaced_pod("a", "default", {"metadata": {"labels": {"app": "db"}}})
    await kube.core.create_namespaced_pod("default", pod("b", {"app": "web"}))
    events = await kube.watch(
        "list_namespaced_pod", "default", label_selector="app=web", resource_version=start, n=3
    )
    assert events == [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "b")]


async def test_field_filtered_watch(kube: Kube) -> None:
    start = (await kube.core.list_namespaced_pod("default")).metadata.resource_version
    await kube.core.create_namespaced_pod("default", pod("a", nodeName="n1"))
    await kube.core.create_namespaced_pod("default", pod("b", nodeName="n2"))
    events = await kube.watch(
        "list_namespaced_pod",
        "default",
        field_selector="spec.nodeName=n2",
        resource_version=start,
        n=1,
    )
    assert events == [("ADDED", "b")]


# -- Secrets (the state machine's second kind) -----------------------------------------


async def test_secret_type_defaults_to_opaque(kube: Kube) -> None:
    made = await kube.core.create_namespaced_secret(
        "default", {"metadata": {"name": "s"}, "data": {"k": "eA=="}}
    )
    assert made.type == "Opaque"
    assert (await kube.core.read_namespaced_secret("s", "default")).type == "Opaque"


async def test_secret_data_that_is_not_base64_is_400(kube: Kube) -> None:
    with pytest.raises(kube.ApiException) as err:
        await kube.core.create_namespaced_secret(
            "default", {"metadata": {"name": "s"}, "data": {"k": "not base64!"}}
        )
    assert err.value.status == 400
    assert body_of(err)["reason"] == "BadRequest"
    assert body_of(err)["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )
