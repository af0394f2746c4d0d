"""Every verb through the official asyncio client (``kubernetes.aio``), no sockets."""

from __future__ import annotations

import json

import pytest
from kubernetes.aio import client as aio_client

from tests.integration.kube.manifests import configmap, deployment, pod

pytestmark = pytest.mark.asyncio


async def test_create_read_list_and_conflict(aio_core: aio_client.CoreV1Api) -> None:
    made = await aio_core.create_namespaced_pod("default", pod("web", {"app": "web"}))
    assert made.metadata.uid
    got = await aio_core.read_namespaced_pod("web", "default")
    assert got.metadata.resource_version == made.metadata.resource_version
    listed = await aio_core.list_namespaced_pod("default", label_selector="app=web")
    assert [p.metadata.name for p in listed.items] == ["web"]
    cm = await aio_core.create_namespaced_config_map("default", configmap("cfg", {"a": "1"}))
    await aio_core.patch_namespaced_config_map("cfg", "default", {"data": {"a": "2"}})
    cm.data = {"a": "3"}
    with pytest.raises(aio_client.ApiException) as err:
        await aio_core.replace_namespaced_config_map("cfg", "default", cm)
    assert err.value.status == 409
    assert json.loads(err.value.body)["reason"] == "Conflict"


async def test_delete_shapes_match_the_real_server(
    aio_core: aio_client.CoreV1Api, aio_apps: aio_client.AppsV1Api
) -> None:
    await aio_core.create_namespaced_pod("default", pod("web"))
    deleted = await aio_core.delete_namespaced_pod("web", "default")
    assert isinstance(deleted, aio_client.V1Pod)
    await aio_apps.create_namespaced_deployment("default", deployment("web"))
    status = await aio_apps.delete_namespaced_deployment("web", "default")
    assert (status["kind"], status["status"]) == ("Status", "Success")
    await aio_core.create_namespaced_config_map("default", configmap("a"))
    collection = await aio_core.delete_collection_namespaced_config_map("default")
    assert collection.kind == "ConfigMapList"


async def test_patch_types_and_scale(aio_apps: aio_client.AppsV1Api) -> None:
    await aio_apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    await aio_apps.patch_namespaced_deployment(
        "web", "default", [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    )
    await aio_apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 4}})
    scale = await aio_apps.read_namespaced_deployment_scale("web", "default")
    assert scale.spec.replicas == 4
    applied = await aio_apps.patch_namespaced_deployment(
        "web",
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"t": "x"}},
        },
        field_manager="aio",
        _content_type="application/apply-patch+yaml",
    )
    assert applied.metadata.labels == {"t": "x"}
    owners = {(m.manager, m.operation) for m in applied.metadata.managed_fields}
    assert ("aio", "Apply") in owners


async def test_errors_are_api_exceptions_with_status_bodies(aio_core: aio_client.CoreV1Api) -> None:
    with pytest.raises(aio_client.ApiException) as missing:
        await aio_core.read_namespaced_pod("nope", "default")
    assert missing.value.status == 404
    with pytest.raises(aio_client.ApiException) as invalid:
        await aio_core.create_namespaced_config_map("default", {"metadata": {}})
    assert invalid.value.status == 422
    with pytest.raises(aio_client.ApiException) as dry:
        await aio_core.read_namespaced_config_map("ghost", "default")
    assert dry.value.status == 404
    await aio_core.create_namespaced_config_map("default", configmap("ghost"), dry_run="All")
    assert (await aio_core.list_namespaced_config_map("default")).items == []
