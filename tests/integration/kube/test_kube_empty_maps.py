"""Empty maps are dropped on write, as Go's ``omitempty`` drops them in kube-apiserver.

A stored ``annotations: {}`` is what made ``kubectl diff`` report a change on an
untouched object; clients that tell an absent map from an empty one (``is None``
checks, JSON diffs) must see what a real cluster stores. Empty struct-typed objects
(``emptyDir: {}``, ``securityContext: {}``) are kept, as kube keeps them.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from fakes.kube import Cluster
from tests.integration.kube.manifests import deployment


def configmap(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {}, "annotations": {}},
        **fields,
    }


def test_empty_labels_annotations_and_data_are_dropped_on_create(
    core: client.CoreV1Api, cluster: Cluster
) -> None:
    made = core.create_namespaced_config_map("default", configmap(data={}, binaryData={}))
    assert made.metadata.labels is None
    assert made.metadata.annotations is None
    assert made.data is None
    stored = cluster.api.get("configmaps", "cfg", "default")
    assert not {"labels", "annotations"} & stored["metadata"].keys()
    assert not {"data", "binaryData"} & stored.keys()
    core.create_namespaced_secret(
        "default", {"metadata": {"name": "s", "labels": {}}, "data": {}, "stringData": {}}
    )
    secret = cluster.api.get("secrets", "s", "default")
    assert not {"data", "stringData"} & secret.keys()
    assert "labels" not in secret["metadata"]


def test_maps_emptied_or_sent_empty_by_an_update_are_dropped(
    core: client.CoreV1Api, cluster: Cluster
) -> None:
    core.create_namespaced_config_map(
        "default",
        {"metadata": {"name": "cfg", "labels": {"a": "1"}}, "data": {"k": "v"}},
    )
    core.patch_namespaced_config_map("cfg", "default", {"metadata": {"labels": {"a": None}}})
    replaced = core.replace_namespaced_config_map("cfg", "default", configmap(data={}))
    assert replaced.metadata.labels is None
    assert replaced.data is None
    stored = cluster.api.get("configmaps", "cfg", "default")
    assert "labels" not in stored["metadata"]
    assert "data" not in stored


def test_empty_node_selectors_and_template_labels_are_dropped(
    apps: client.AppsV1Api, cluster: Cluster
) -> None:
    body = deployment("web", replicas=1)
    template = body["spec"]["template"]
    template["metadata"]["annotations"] = {}
    template["spec"]["nodeSelector"] = {}
    template["spec"]["containers"][0]["resources"] = {"limits": {}, "requests": {}}
    apps.create_namespaced_deployment("default", body)
    stored = cluster.api.get("deployments", "web", "default")["spec"]["template"]
    assert stored["metadata"] == {"labels": {"app": "web"}}
    assert "nodeSelector" not in stored["spec"]
    assert stored["spec"]["containers"][0]["resources"] == {}


def test_empty_struct_objects_are_kept(core: client.CoreV1Api, cluster: Cluster) -> None:
    body = {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.25", "securityContext": {}}],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        },
    }
    core.create_namespaced_pod("default", body)
    spec = cluster.api.get("pods", "p", "default")["spec"]
    assert spec["volumes"] == [{"name": "scratch", "emptyDir": {}}]
    assert spec["securityContext"] == {}
    assert spec["containers"][0]["securityContext"] == {}
    assert spec["containers"][0]["resources"] == {}
