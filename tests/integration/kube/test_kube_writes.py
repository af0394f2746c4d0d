"""Write rules through the official sync client: conflicts, dryRun, 422/405/415, generateName."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from fakes.kube.messages import Request
from tests.integration.kube.manifests import configmap, deployment, pod


def test_update_with_stale_resource_version_is_409_conflict(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map("default", configmap("cfg", {"a": "1"}))
    first.data = {"a": "2"}
    core.replace_namespaced_config_map("cfg", "default", first)
    first.data = {"a": "3"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cfg", "default", first)
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert core.read_namespaced_config_map("cfg", "default").data == {"a": "2"}


def test_update_without_resource_version_is_unconditional(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("cfg", {"a": "1"}))
    replaced = core.replace_namespaced_config_map("cfg", "default", configmap("cfg", {"a": "9"}))
    assert replaced.data == {"a": "9"}


def test_noop_update_keeps_resource_version(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("cfg", {"a": "1"}))
    again = core.replace_namespaced_config_map("cfg", "default", created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_dry_run_validates_but_never_persists(
    core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    answered = core.create_namespaced_pod("default", pod("ghost"), dry_run="All")
    assert answered.metadata.name == "ghost"
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("ghost", "default")
    assert err.value.status == 404
    apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    patched = apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 7}}, dry_run="All"
    )
    assert patched.spec.replicas == 7
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 1
    apps.delete_namespaced_deployment("web", "default", dry_run="All")
    assert apps.read_namespaced_deployment("web", "default").metadata.name == "web"
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod(
            "default", {"metadata": {"name": "x"}, "spec": {"containers": []}}, dry_run="All"
        )
    assert invalid.value.status == 422


def test_generate_name_appends_five_random_characters(core: client.CoreV1Api) -> None:
    body = pod("")
    body["metadata"] = {"generateName": "web-"}
    made = {core.create_namespaced_pod("default", body).metadata.name for _ in range(3)}
    assert len(made) == 3
    assert all(name.startswith("web-") and len(name) == 9 for name in made)


def test_missing_name_is_422_with_field_cause(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {}, "data": {}})
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name",
        }
    ]


def test_bad_label_and_wrong_type_are_422(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(
            "default", {"metadata": {"name": "c", "labels": {"bad key!": "v"}}}
        )
    assert err.value.status == 422
    assert json.loads(err.value.body)["details"]["causes"][0]["field"] == "metadata.labels"
    body = deployment("web")
    body["spec"]["replicas"] = -1
    with pytest.raises(ApiException) as neg:
        apps.create_namespaced_deployment("default", body)
    assert neg.value.status == 422
    assert (
        'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1'
        in json.loads(neg.value.body)["message"]
    )


@pytest.mark.parametrize(
    ("strategy", "field", "message"),
    [
        (
            {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}},
            "spec.strategy.rollingUpdate",
            "Forbidden: may not be specified when strategy `type` is 'Recreate'",
        ),
        (
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}},
            "spec.strategy.rollingUpdate.maxUnavailable",
            'Invalid value: "0%": may not be 0 when `maxSurge` is 0',
        ),
        ({"type": "BlueGreen"}, "spec.strategy", "Unsupported value: "),
    ],
)
def test_deployment_strategy_is_validated_as_kube_does(
    apps: client.AppsV1Api, strategy: dict[str, Any], field: str, message: str
) -> None:
    body = deployment("web")
    body["spec"]["strategy"] = strategy
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment("default", body)
    assert err.value.status == 422
    status = json.loads(err.value.body)
    assert [c["field"] for c in status["details"]["causes"]] == [field]
    assert status["message"].startswith(f'Deployment.apps "web" is invalid: {field}: {message}')
    assert apps.list_namespaced_deployment("default").items == []


def test_create_in_missing_namespace_is_404(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("nowhere", pod("web"))
    assert err.value.status == 404
    assert json.loads(err.value.body)["message"] == 'namespaces "nowhere" not found'


def test_unsupported_verb_is_405_and_unknown_body_is_415(cluster: Cluster) -> None:
    put_collection = cluster.router.dispatch(
        Request.from_url("PUT", "/api/v1/namespaces/default/pods", body=b"{}")
    )
    assert put_collection.status == 405
    assert json.loads(put_collection.body)["reason"] == "MethodNotAllowed"
    patch_eviction = cluster.router.dispatch(
        Request.from_url("PATCH", "/api/v1/namespaces/default/pods/x/eviction", body=b"{}")
    )
    assert patch_eviction.status == 405
    protobuf = cluster.router.dispatch(
        Request.from_url(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            {"Content-Type": "application/vnd.kubernetes.protobuf"},
            b"k8s\x00",
        )
    )
    assert protobuf.status == 415
    assert json.loads(protobuf.body)["reason"] == "UnsupportedMediaType"
    assert "kubectl create -f" in json.loads(protobuf.body)["message"]


def test_body_without_content_type_is_json(cluster: Cluster) -> None:
    response = cluster.router.dispatch(
        Request.from_url(
            "POST", "/api/v1/namespaces/default/configmaps", {}, json.dumps(configmap("c"))
        )
    )
    assert response.status == 201
    assert json.loads(response.body)["metadata"]["name"] == "c"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
    ],
)
def test_boolean_query_values_parse_like_apimachinery(value: str, expected: bool) -> None:
    assert Request.from_url("GET", f"/api/v1/pods?watch={value}").flag("watch") is expected
