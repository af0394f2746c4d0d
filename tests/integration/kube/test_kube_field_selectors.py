"""Field selectors on fields an object leaves out: kube compares the Go zero value.

``kubectl get nodes --field-selector spec.unschedulable=false`` lists the nodes that
were never cordoned, whose ``spec.unschedulable`` is absent; an absent count
(``status.replicas``, ``status.successful``) is ``0``; an absent string is ``""``.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client, watch

from tests.integration.kube.manifests import pod


def node(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}


def replica_set(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
            },
        },
    }


@pytest.fixture
def nodes(core: client.CoreV1Api) -> None:
    core.create_node(node("plain"))
    core.create_node(node("cordoned", unschedulable=True))
    core.create_node(node("uncordoned", unschedulable=False))


@pytest.mark.usefixtures("nodes")
@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("spec.unschedulable=false", ["plain", "uncordoned"]),
        ("spec.unschedulable!=false", ["cordoned"]),
        ("spec.unschedulable=true", ["cordoned"]),
        ("spec.unschedulable!=true", ["plain", "uncordoned"]),
        ("spec.unschedulable=", []),
    ],
)
def test_an_absent_unschedulable_is_false(
    core: client.CoreV1Api, selector: str, expected: list[str]
) -> None:
    found = core.list_node(field_selector=selector)
    assert [n.metadata.name for n in found.items] == expected


def test_cordoning_moves_a_node_between_selections(core: client.CoreV1Api) -> None:
    core.create_node(node("n1"))
    core.patch_node("n1", {"spec": {"unschedulable": True}})
    assert core.list_node(field_selector="spec.unschedulable=false").items == []
    core.patch_node("n1", {"spec": {"unschedulable": None}})
    found = core.list_node(field_selector="spec.unschedulable=false").items
    assert [n.metadata.name for n in found] == ["n1"]


def test_a_watch_on_schedulable_nodes_sees_an_uncordoned_node(core: client.CoreV1Api) -> None:
    start = core.list_node().metadata.resource_version
    core.create_node(node("n1"))
    core.create_node(node("n2", unschedulable=True))
    w = watch.Watch()
    stream = w.stream(
        core.list_node,
        field_selector="spec.unschedulable=false",
        resource_version=start,
        timeout_seconds=5,
    )
    event = next(stream)
    w.stop()
    assert (event["type"], event["object"].metadata.name) == ("ADDED", "n1")


def test_pods_without_host_network_select_as_false(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("plain"))
    core.create_namespaced_pod("default", pod("host", hostNetwork=True))
    for selector, expected in [
        ("spec.hostNetwork=false", ["plain"]),
        ("spec.hostNetwork=true", ["host"]),
        ("spec.nodeName=", ["host", "plain"]),
        ("status.podIP=", ["host", "plain"]),
    ]:
        found = core.list_namespaced_pod("default", field_selector=selector)
        assert [p.metadata.name for p in found.items] == expected, selector


def test_a_replica_set_without_status_replicas_selects_as_zero(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_replica_set("default", replica_set("idle"))
    found = apps.list_namespaced_replica_set("default", field_selector="status.replicas=0")
    assert [rs.metadata.name for rs in found.items] == ["idle"]
    assert (
        apps.list_namespaced_replica_set("default", field_selector="status.replicas!=0").items == []
    )
