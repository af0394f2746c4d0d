"""Deletion through the official sync client: response shapes, finalizers, GC, collections."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from tests.integration.kube.manifests import configmap, deployment, pod


def owned_by(owner: Any, kind: str, api_version: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": api_version,
            "kind": kind,
            "name": owner.metadata.name,
            "uid": owner.metadata.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def exists(fn: Any, *args: Any) -> bool:
    try:
        fn(*args)
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    return True


def test_delete_returns_the_object_for_pods_and_a_status_otherwise(
    core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    core.create_namespaced_pod("default", pod("web"))
    deleted_pod = core.delete_namespaced_pod("web", "default")
    assert isinstance(deleted_pod, client.V1Pod)
    assert deleted_pod.metadata.name == "web"
    core.create_namespaced_config_map("default", configmap("cfg"))
    status = core.delete_namespaced_config_map("cfg", "default")
    assert status["kind"] == "Status"
    assert status["status"] == "Success"
    assert status["details"]["kind"] == "configmaps"
    apps.create_namespaced_deployment("default", deployment("web"))
    assert apps.delete_namespaced_deployment("web", "default")["details"]["group"] == "apps"
    core.create_namespaced_service(
        "default", {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert isinstance(core.delete_namespaced_service("svc", "default"), client.V1Service)


def test_finalizers_hold_the_object_until_removed(core: client.CoreV1Api) -> None:
    body = configmap("cfg")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map("default", body)
    pending = core.delete_namespaced_config_map("cfg", "default")
    assert pending["metadata"]["deletionTimestamp"]
    held = core.read_namespaced_config_map("cfg", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("cfg", "default", {"metadata": {"finalizers": None}})
    assert not exists(core.read_namespaced_config_map, "cfg", "default")


def test_pods_on_a_node_terminate_gracefully(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web", nodeName="n1"))
    terminating = core.delete_namespaced_pod("web", "default")
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.metadata.deletion_grace_period_seconds == 30
    assert exists(core.read_namespaced_pod, "web", "default")
    core.delete_namespaced_pod("web", "default", grace_period_seconds=0)
    assert not exists(core.read_namespaced_pod, "web", "default")


def _rs_with_pods(cluster: Cluster, apps: client.AppsV1Api, core: client.CoreV1Api) -> Any:
    rs_body = deployment("web")
    rs_body["kind"] = "ReplicaSet"
    rs = apps.create_namespaced_replica_set("default", rs_body)
    for i in range(2):
        body = pod(f"web-{i}", {"app": "web"})
        body["metadata"]["ownerReferences"] = owned_by(rs, "ReplicaSet", "apps/v1")
        core.create_namespaced_pod("default", body)
    return rs


def test_background_propagation_deletes_dependents(
    cluster: Cluster, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    _rs_with_pods(cluster, apps, core)
    apps.delete_namespaced_replica_set("web", "default", propagation_policy="Background")
    assert core.list_namespaced_pod("default").items == []


def test_orphan_propagation_keeps_dependents_without_owner(
    cluster: Cluster, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    _rs_with_pods(cluster, apps, core)
    apps.delete_namespaced_replica_set("web", "default", propagation_policy="Orphan")
    left = core.list_namespaced_pod("default").items
    assert [p.metadata.name for p in left] == ["web-0", "web-1"]
    assert all(p.metadata.owner_references is None for p in left)
    assert not exists(apps.read_namespaced_replica_set, "web", "default")


def test_foreground_propagation_waits_for_dependents(
    cluster: Cluster, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    rs = _rs_with_pods(cluster, apps, core)
    held = pod("held", {"other": "x"})
    held["metadata"]["ownerReferences"] = owned_by(rs, "ReplicaSet", "apps/v1")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_pod("default", held)
    answer = apps.delete_namespaced_replica_set("web", "default", propagation_policy="Foreground")
    assert "foregroundDeletion" in answer["metadata"]["finalizers"]
    waiting = apps.read_namespaced_replica_set("web", "default")
    assert waiting.metadata.deletion_timestamp is not None
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["held"]
    core.patch_namespaced_pod("held", "default", {"metadata": {"finalizers": None}})
    assert not exists(core.read_namespaced_pod, "held", "default")
    assert not exists(apps.read_namespaced_replica_set, "web", "default")


def test_deletecollection_deletes_only_matches(core: client.CoreV1Api) -> None:
    for i, app in enumerate(["web", "web", "db"]):
        core.create_namespaced_pod("default", pod(f"p{i}", {"app": app}))
    answer = core.delete_collection_namespaced_pod("default", label_selector="app=web")
    assert answer.kind == "PodList"
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["p2"]


def test_namespace_deletion_removes_its_content(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespaced_config_map("team", configmap("cfg"))
    answer = core.delete_namespace("team")
    assert answer["status"]["phase"] == "Terminating"
    assert not exists(core.read_namespace, "team")
    assert not exists(core.read_namespaced_config_map, "cfg", "team")


def test_delete_with_stale_uid_precondition_is_409(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("cfg"))
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_config_map(
            "cfg", "default", body={"preconditions": {"uid": "other"}}
        )
    assert err.value.status == 409
