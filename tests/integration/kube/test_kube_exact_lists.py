"""Lists at an exact resourceVersion through the official sync client.

A workflow that records a list's resourceVersion and later asks "what was there at
N?" (``resourceVersionMatch=Exact``) gets the collection as kube-apiserver serves it
from etcd: the objects and labels of revision N, paged at N, 410 once N is compacted.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from fakes.kube.clock import FixedClock
from tests.integration.kube.manifests import pod


def names(pods: Any) -> list[str]:
    return [p.metadata.name for p in pods.items]


def exact(core: client.CoreV1Api, rv: str, **kwargs: Any) -> client.V1PodList:
    return core.list_namespaced_pod(
        "default", resource_version=rv, resource_version_match="Exact", **kwargs
    )


def status_of(err: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(err.value.body)
    return body


@pytest.fixture
def history(core: client.CoreV1Api) -> str:
    """Pods a, b, c (team=sre) and x (team=dev) at the returned revision; then b
    relabelled to dev, c deleted, d created (sre), x relabelled to sre."""
    for name in ("a", "b", "c"):
        core.create_namespaced_pod("default", pod(name, {"team": "sre"}))
    core.create_namespaced_pod("default", pod("x", {"team": "dev"}))
    rv: str = core.list_namespaced_pod("default").metadata.resource_version
    core.patch_namespaced_pod("b", "default", {"metadata": {"labels": {"team": "dev"}}})
    core.delete_namespaced_pod("c", "default", grace_period_seconds=0)
    core.create_namespaced_pod("default", pod("d", {"team": "sre"}))
    core.patch_namespaced_pod("x", "default", {"metadata": {"labels": {"team": "sre"}}})
    return rv


def test_an_exact_list_shows_the_collection_as_it_was(core: client.CoreV1Api, history: str) -> None:
    then = exact(core, history)
    assert names(then) == ["a", "b", "c", "x"]
    assert then.metadata.resource_version == history
    assert [p.metadata.labels["team"] for p in then.items] == ["sre", "sre", "sre", "dev"]
    assert all(int(p.metadata.resource_version) <= int(history) for p in then.items)
    assert names(core.list_namespaced_pod("default")) == ["a", "b", "d", "x"]


def test_selectors_match_the_labels_objects_had_then(core: client.CoreV1Api, history: str) -> None:
    assert names(exact(core, history, label_selector="team=sre")) == ["a", "b", "c"]
    assert names(exact(core, history, label_selector="team=dev")) == ["x"]
    by_field = core.list_pod_for_all_namespaces(
        resource_version=history, resource_version_match="Exact", field_selector="metadata.name=c"
    )
    assert names(by_field) == ["c"]


def test_exact_pages_and_their_continue_tokens_stay_at_the_revision(
    core: client.CoreV1Api, history: str
) -> None:
    first = exact(core, history, limit=2)
    assert names(first) == ["a", "b"]
    assert first.metadata.resource_version == history
    assert first.metadata.remaining_item_count == 2
    core.delete_namespaced_pod("x", "default", grace_period_seconds=0)
    # client-go's pager sends only the token on later pages.
    rest = core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert names(rest) == ["c", "x"]
    assert rest.metadata.resource_version == history
    assert not rest.metadata._continue


def test_limit_with_a_resource_version_is_the_legacy_exact_list(
    core: client.CoreV1Api, history: str
) -> None:
    page = core.list_namespaced_pod("default", resource_version=history, limit=10)
    assert names(page) == ["a", "b", "c", "x"]
    assert page.metadata.resource_version == history


def test_not_older_than_still_answers_with_the_present(
    core: client.CoreV1Api, history: str
) -> None:
    now = core.list_namespaced_pod(
        "default", resource_version=history, resource_version_match="NotOlderThan"
    )
    assert names(now) == ["a", "b", "d", "x"]
    assert int(now.metadata.resource_version) > int(history)
    assert names(core.list_namespaced_pod("default", resource_version=history)) == names(now)


def test_an_exact_list_of_a_cluster_scoped_kind(core: client.CoreV1Api) -> None:
    core.create_node({"metadata": {"name": "n1"}})
    rv = core.list_node().metadata.resource_version
    core.create_node({"metadata": {"name": "n0"}})
    core.delete_node("n1")
    then = core.list_node(resource_version=rv, resource_version_match="Exact")
    assert names(then) == ["n1"]
    assert names(core.list_node()) == ["n0"]


def test_a_revision_the_history_no_longer_reaches_is_410_expired() -> None:
    cluster = Cluster(seed=7, clock=FixedClock(), history_size=5)
    api_client = cluster.api_client()
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", pod("p"))
    rv = core.list_namespaced_pod("default").metadata.resource_version
    for i in range(5):
        core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"i": str(i)}}})
    assert exact(core, rv).items[0].metadata.labels is None  # still within the history
    core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"i": "5"}}})
    with pytest.raises(ApiException) as err:
        exact(core, rv)
    assert err.value.status == 410
    status = status_of(err)
    assert status["reason"] == "Expired"
    assert status["message"] == "The resourceVersion for the provided list is too old."
    with pytest.raises(ApiException) as legacy:
        core.list_namespaced_pod("default", resource_version=rv, limit=1)
    assert legacy.value.status == 410
    api_client.close()


def test_a_future_revision_is_504_too_large(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("p"))
    current = int(core.list_namespaced_pod("default").metadata.resource_version)
    with pytest.raises(ApiException) as err:
        exact(core, str(current + 100))
    assert err.value.status == 504
    status = status_of(err)
    assert status["reason"] == "Timeout"
    assert status["message"] == (
        f"Timeout: Too large resource version: {current + 100}, current: {current}"
    )
    assert status["details"]["causes"] == [
        {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"resource_version": "0", "resource_version_match": "Exact"},
            'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for '
            'resourceVersion "0"',
        ),
        (
            {"resource_version_match": "Exact"},
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
            "resourceVersion is provided",
        ),
        (
            {"resource_version": "5", "resource_version_match": "Newest"},
            'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", '
            '"NotOlderThan", ""',
        ),
        (
            {"resource_version": "5", "resource_version_match": "Exact", "_continue": "abc"},
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue "
            "is provided",
        ),
    ],
)
def test_forbidden_list_options_are_422(
    core: client.CoreV1Api, params: dict[str, str], message: str
) -> None:
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", **params)
    assert err.value.status == 422
    status = status_of(err)
    assert status["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'
    assert status["details"]["kind"] == "ListOptions"
    assert status["details"]["group"] == "meta.k8s.io"
