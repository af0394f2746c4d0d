"""All four patch types through the official sync client, with strategic merge keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from tests.integration.kube.manifests import deployment


def web(apps: client.AppsV1Api) -> None:
    body = deployment("web")
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    container["ports"] = [{"containerPort": 80, "name": "http"}]
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    body["spec"]["template"]["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    apps.create_namespaced_deployment("default", body)


def template(apps: client.AppsV1Api) -> Any:
    return apps.read_namespaced_deployment("web", "default").spec.template.spec


def test_strategic_merge_merges_lists_by_their_keys(apps: client.AppsV1Api) -> None:
    web(apps)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.26",
                            "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                            "ports": [{"containerPort": 443, "name": "https"}],
                        }
                    ],
                    "tolerations": [{"key": "b", "operator": "Exists"}],
                }
            }
        }
    }
    apps.patch_namespaced_deployment("web", "default", patch)
    spec = template(apps)
    app = spec.containers[0]
    assert [c.name for c in spec.containers] == ["app", "sidecar"]
    assert app.image == "nginx:1.26"
    assert [(e.name, e.value) for e in app.env] == [("A", "1"), ("B", "3"), ("C", "4")]
    # kube puts a patch item the live list lacks before the live-only items.
    assert [p.container_port for p in app.ports] == [443, 80]
    assert [t.key for t in spec.tolerations] == ["b"]


def test_strategic_merge_directives_delete_items(apps: client.AppsV1Api) -> None:
    web(apps)
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}
    }
    apps.patch_namespaced_deployment("web", "default", patch)
    assert [c.name for c in template(apps).containers] == ["app"]


def test_json_merge_patch_replaces_lists(cluster: Cluster, apps: client.AppsV1Api) -> None:
    web(apps)
    containers = [{"name": "only", "image": "busybox"}]
    cluster.api.patch(
        "deployments",
        "web",
        {"spec": {"template": {"spec": {"containers": containers}}}},
        "default",
        patch_type="merge",
    )
    assert [c.name for c in template(apps).containers] == ["only"]


def test_json_patch_uses_rfc6902_operations(apps: client.AppsV1Api) -> None:
    web(apps)
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "fe"}},
    ]
    patched = apps.patch_namespaced_deployment("web", "default", ops)
    assert (patched.spec.replicas, patched.metadata.labels) == (4, {"tier": "fe"})
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment(
            "web", "default", [{"op": "test", "path": "/spec/replicas", "value": 1}]
        )
    assert err.value.status == 422


def test_server_side_apply_creates_then_updates_and_records_the_manager(api_client: Any) -> None:
    core = client.CoreV1Api(api_client)
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg"},
        "data": {"a": "1"},
    }
    created = core.patch_namespaced_config_map(
        "cfg",
        "default",
        manifest,
        field_manager="tester",
        _content_type="application/apply-patch+yaml",
    )
    assert created.data == {"a": "1"}
    entry = created.metadata.managed_fields[0]
    assert (entry.manager, entry.operation) == ("tester", "Apply")
    assert entry.fields_v1 == {"f:data": {"f:a": {}}}
    manifest["data"] = {"b": "2"}
    merged = core.patch_namespaced_config_map(
        "cfg",
        "default",
        manifest,
        field_manager="tester",
        _content_type="application/apply-patch+yaml",
    )
    # ``a`` was the manager's alone and left its configuration: apply removes it.
    assert merged.data == {"b": "2"}
    assert len(merged.metadata.managed_fields) == 1


def test_patch_with_stale_resource_version_conflicts(apps: client.AppsV1Api) -> None:
    web(apps)
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", "default", {"metadata": {"resourceVersion": "1"}})
    assert err.value.status == 409


def test_strategic_merge_set_element_order_and_retain_keys(apps: client.AppsV1Api) -> None:
    web(apps)
    patch = {
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {
                "spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}
            },
        }
    }
    apps.patch_namespaced_deployment("web", "default", patch)
    d = apps.read_namespaced_deployment("web", "default")
    assert [c.name for c in d.spec.template.spec.containers] == ["sidecar", "app"]
    assert (d.spec.strategy.type, d.spec.strategy.rolling_update) == ("Recreate", None)


def test_strategic_merge_with_a_malformed_retain_keys_is_400(apps: client.AppsV1Api) -> None:
    web(apps)
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", "default", patch)
    assert err.value.status == 400
    assert "invalid patch format of retainKeys" in err.value.body


@pytest.mark.parametrize(
    ("op", "detail"),
    [
        (
            {"op": "test", "path": "/metadata/labels/app", "value": "db"},
            "testing value /metadata/labels/app failed: test failed",
        ),
        (
            {"op": "remove", "path": "/metadata/annotations/a"},
            'remove operation does not apply: doc is missing path: "/metadata/annotations/a": '
            "missing value",
        ),
        ({"op": "frobnicate", "path": "/spec"}, "Unexpected kind: frobnicate"),
    ],
    ids=["test-fails", "missing-path", "bad-op"],
)
def test_a_failed_json_patch_is_422_in_kube_words(
    apps: client.AppsV1Api, op: dict[str, Any], detail: str
) -> None:
    body = deployment("web")
    body["metadata"]["labels"] = {"app": "web"}
    apps.create_namespaced_deployment("default", body)
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", "default", [op])
    status = json.loads(err.value.body)
    assert (err.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        f"the server rejected our request due to an error in our request: {detail}"
    )
    assert "<class" not in status["message"]
