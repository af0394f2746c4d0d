"""Reads through the official sync client: selectors, paging, resourceVersion, discovery."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from fakes.kube.clock import FixedClock
from tests.integration.kube.manifests import pod


@pytest.fixture
def labelled(cluster: Cluster, core: client.CoreV1Api) -> None:
    for i, (app, tier) in enumerate([("web", "fe"), ("web", "be"), ("db", "be"), ("cache", "fe")]):
        core.create_namespaced_pod("default", pod(f"p{i}", {"app": app, "tier": tier}))
    # Placement goes through pods/binding: a pod's spec is immutable.
    cluster.api.create_raw(
        cluster.api.pods, "default", {"target": {"name": "n1"}}, subresource="binding", name="p0"
    )
    cluster.api.patch(
        "pods", "p2", {"status": {"phase": "Running"}}, "default", subresource="status"
    )


def names(pods: client.V1PodList) -> list[str]:
    return [p.metadata.name for p in pods.items]


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
def test_label_selectors(core: client.CoreV1Api, selector: str, expected: list[str]) -> None:
    assert names(core.list_namespaced_pod("default", label_selector=selector)) == expected


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
def test_field_selectors(core: client.CoreV1Api, selector: str, expected: list[str]) -> None:
    assert names(core.list_pod_for_all_namespaces(field_selector=selector)) == expected


def test_unsupported_field_selector_is_400(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", field_selector="spec.foo=bar")
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == "field label not supported: spec.foo"


def test_event_field_selectors_on_involved_object(core: client.CoreV1Api) -> None:
    for i, target in enumerate(["web", "db"]):
        core.create_namespaced_event(
            "default",
            {
                "metadata": {"name": f"e{i}"},
                "involvedObject": {"kind": "Pod", "name": target, "namespace": "default"},
                "reason": "Scheduled",
                "type": "Normal",
            },
        )
    found = core.list_namespaced_event(
        "default", field_selector="involvedObject.name=db,involvedObject.kind=Pod"
    )
    assert [e.metadata.name for e in found.items] == ["e1"]


def test_limit_and_continue_page_through_everything(core: client.CoreV1Api) -> None:
    for i in range(7):
        core.create_namespaced_pod("default", pod(f"p{i}"))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_pod("default", limit=3, _continue=token)
        seen += names(page)
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(seen)
    assert seen == [f"p{i}" for i in range(7)]
    assert pages == 3


def test_later_pages_show_the_snapshot_of_the_first(core: client.CoreV1Api) -> None:
    """Like etcd-backed kube, a paged list is one consistent snapshot: a workflow that
    pages through pods must not see objects twice, or miss ones deleted mid-list."""
    for name in ("a", "b", "c", "d", "e"):
        core.create_namespaced_pod("default", pod(name, {"v": "1"}))
    first = core.list_namespaced_pod("default", limit=2)
    assert names(first) == ["a", "b"]
    snapshot = first.metadata.resource_version
    core.delete_namespaced_pod("c", "default", grace_period_seconds=0)
    core.create_namespaced_pod("default", pod("cc"))
    core.patch_namespaced_pod("d", "default", {"metadata": {"labels": {"v": "2"}}})
    core.delete_namespaced_pod("e", "default", grace_period_seconds=0)
    core.create_namespaced_pod("default", pod("e", {"v": "new"}))
    second = core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert names(second) == ["c", "d"]
    assert second.metadata.resource_version == snapshot
    assert second.metadata.remaining_item_count == 1
    assert [p.metadata.labels["v"] for p in second.items] == ["1", "1"]
    third = core.list_namespaced_pod("default", limit=2, _continue=second.metadata._continue)
    assert [(p.metadata.name, p.metadata.labels["v"]) for p in third.items] == [("e", "1")]
    assert third.metadata.resource_version == snapshot
    assert not third.metadata._continue
    # A new list sees the present.
    assert names(core.list_namespaced_pod("default")) == ["a", "b", "cc", "d", "e"]


def test_snapshot_pages_filter_on_the_objects_as_they_were(core: client.CoreV1Api) -> None:
    for name in ("a", "b", "c", "d"):
        core.create_namespaced_pod("default", pod(name, {"team": "sre"}))
    first = core.list_namespaced_pod("default", label_selector="team=sre", limit=1)
    core.patch_namespaced_pod("b", "default", {"metadata": {"labels": {"team": "dev"}}})
    core.patch_namespaced_pod("c", "default", {"metadata": {"labels": {"team": "sre", "x": "1"}}})
    rest = core.list_namespaced_pod(
        "default", label_selector="team=sre", _continue=first.metadata._continue
    )
    assert names(rest) == ["b", "c", "d"]
    assert rest.items[1].metadata.labels == {"team": "sre"}


def test_continue_past_the_history_is_410_with_a_token_to_go_on() -> None:
    cluster = Cluster(seed=7, clock=FixedClock(), history_size=5)
    api_client = cluster.api_client()
    core = client.CoreV1Api(api_client)
    for i in range(4):
        core.create_namespaced_pod("default", pod(f"p{i}"))
    first = core.list_namespaced_pod("default", limit=2)
    for i in range(6):
        core.create_namespaced_pod("default", pod(f"q{i}"))
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert err.value.status == 410
    status = json.loads(err.value.body)
    assert status["reason"] == "Expired"
    assert status["message"] == (
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter, or use the continue token "
        "in this response to retrieve the remainder of the results. Continuing with the "
        "provided token results in an inconsistent list - objects that were created, modified, "
        "or deleted between the time the first chunk was returned and now may show up in the "
        "list."
    )
    # The inconsistent token goes on after the last key served, at the present.
    rest = core.list_namespaced_pod("default", _continue=status["metadata"]["continue"])
    assert names(rest) == ["p2", "p3", "q0", "q1", "q2", "q3", "q4", "q5"]
    api_client.close()


def test_get_with_future_resource_version_is_504(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("p"))
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", resource_version="999999")
    assert err.value.status == 504


def test_list_items_keep_stored_order_and_resource_version(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("b"))
    core.create_namespaced_pod("default", pod("a"))
    listed = core.list_namespaced_pod("default")
    assert names(listed) == ["a", "b"]
    assert int(listed.metadata.resource_version) >= max(
        int(p.metadata.resource_version) for p in listed.items
    )


def test_discovery_is_driven_by_the_kind_table(api_client: object) -> None:
    groups = {g.name for g in client.ApisApi(api_client).get_api_versions().groups}
    assert {"apps", "batch", "policy", "autoscaling", "coordination.k8s.io"} <= groups
    core_resources = client.CoreV1Api(api_client).get_api_resources()
    by_name = {r.name: r for r in core_resources.resources}
    assert by_name["pods"].short_names == ["po"]
    assert by_name["pods/eviction"].group == "policy"
    assert by_name["nodes"].namespaced is False
    scale = {r.name: r for r in client.AppsV1Api(api_client).get_api_resources().resources}[
        "deployments/scale"
    ]
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    assert client.VersionApi(api_client).get_code().major == "1"
