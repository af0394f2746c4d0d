"""Create, read, update and delete through the official sync client: the object rules."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from tests.integration.kube.manifests import configmap, deployment, pod


def test_create_fills_server_fields(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod("default", pod("web"))
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert int(created.metadata.resource_version) > 0
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always"
    assert core.read_namespaced_pod("web", "default").metadata.uid == created.metadata.uid


def test_every_write_gets_a_higher_resource_version(core: client.CoreV1Api) -> None:
    a = core.create_namespaced_config_map("default", configmap("a"))
    b = core.create_namespaced_config_map("default", configmap("b"))
    listed = core.list_namespaced_config_map("default")
    assert int(a.metadata.resource_version) < int(b.metadata.resource_version)
    assert int(listed.metadata.resource_version) >= int(b.metadata.resource_version)


def test_duplicate_create_is_409_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", pod("web"))
    assert err.value.status == 409
    assert err.value.body == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"pods \\"web\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"web","kind":"pods"},"code":409}'
    )


def test_missing_object_is_404_with_status_body(apps: client.AppsV1Api) -> None:
    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("nope", "default")
    assert err.value.status == 404
    body = json.loads(err.value.body)
    assert body["reason"] == "NotFound"
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_generation_bumps_only_on_spec_change(apps: client.AppsV1Api) -> None:
    created = apps.create_namespaced_deployment("default", deployment("web"))
    assert created.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"a": "b"}}}
    )
    assert labelled.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 5}})
    assert scaled.metadata.generation == 2
