"""Defaulting on every write, through the official client, as kube decodes every body.

A container a workflow adds by patch, replace or server-side apply must come back
with the same defaults as one that was there at create (the engine and the kubelet
simulation read ``imagePullPolicy`` and friends), and filling them in must never
make a write that changes nothing look like a change.
"""

from __future__ import annotations

import copy
from typing import Any

from kubernetes import client

from fakes.kube import Cluster
from tests.integration.kube.manifests import deployment

APPLY = "application/apply-patch+yaml"
DEFAULTED = {
    "imagePullPolicy": "IfNotPresent",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "resources": {},
}
SIDECAR = {"name": "sidecar", "image": "busybox:1.36"}


def containers(cluster: Cluster, name: str) -> dict[str, dict[str, Any]]:
    obj = cluster.api.get("deployments", name, "default")
    return {c["name"]: c for c in obj["spec"]["template"]["spec"]["containers"]}


def assert_defaulted(container: dict[str, Any]) -> None:
    assert {k: container.get(k) for k in DEFAULTED} == DEFAULTED


def with_sidecar(name: str) -> dict[str, Any]:
    body = deployment(name, replicas=1)
    body["spec"]["template"]["spec"]["containers"].append(dict(SIDECAR))
    return body


# -- a container added after create ------------------------------------------------------


def test_a_container_added_by_strategic_patch_gets_defaults(
    apps: client.AppsV1Api, cluster: Cluster
) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    patch = {"spec": {"template": {"spec": {"containers": [SIDECAR]}}}}
    apps.patch_namespaced_deployment("web", "default", patch)
    assert_defaulted(containers(cluster, "web")["sidecar"])


def test_a_container_added_by_merge_and_json_patch_gets_defaults(
    apps: client.AppsV1Api, cluster: Cluster
) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    cluster.api.patch(
        "deployments",
        "web",
        [{"op": "add", "path": "/spec/template/spec/containers/-", "value": SIDECAR}],
        "default",
        patch_type="json",
    )
    assert_defaulted(containers(cluster, "web")["sidecar"])
    merged = with_sidecar("web")["spec"]["template"]["spec"]["containers"]
    merged[1] = {"name": "other", "image": "busybox:latest"}
    cluster.api.patch(
        "deployments",
        "web",
        {"spec": {"template": {"spec": {"containers": merged}}}},
        "default",
        patch_type="merge",
    )
    assert containers(cluster, "web")["other"]["imagePullPolicy"] == "Always"


def test_a_container_added_by_replace_gets_defaults(
    apps: client.AppsV1Api, cluster: Cluster
) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    replaced = apps.replace_namespaced_deployment("web", "default", with_sidecar("web"))
    assert replaced.spec.template.spec.containers[1].image_pull_policy == "IfNotPresent"
    assert_defaulted(containers(cluster, "web")["sidecar"])
    # The spec's own defaults come back too, rather than being dropped by the PUT.
    spec = cluster.api.get("deployments", "web", "default")["spec"]
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


def test_a_container_added_by_apply_gets_defaults_the_applier_does_not_own(
    apps: client.AppsV1Api, cluster: Cluster
) -> None:
    apps.patch_namespaced_deployment(
        "web", "default", deployment("web", replicas=1), field_manager="ssa", _content_type=APPLY
    )
    applied = apps.patch_namespaced_deployment(
        "web", "default", with_sidecar("web"), field_manager="ssa", _content_type=APPLY
    )
    assert_defaulted(containers(cluster, "web")["sidecar"])
    (entry,) = [m for m in applied.metadata.managed_fields if m.manager == "ssa"]
    owned = entry.fields_v1["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert owned['k:{"name":"sidecar"}'] == {".": {}, "f:image": {}, "f:name": {}}
    assert "f:dnsPolicy" not in entry.fields_v1["f:spec"]["f:template"]["f:spec"]


# -- defaults never make a change ----------------------------------------------------------


def test_replacing_with_the_manifest_as_first_sent_is_a_no_op(apps: client.AppsV1Api) -> None:
    made = apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    again = apps.replace_namespaced_deployment("web", "default", deployment("web", replicas=1))
    assert again.metadata.resource_version == made.metadata.resource_version
    assert again.metadata.generation == 1


def test_an_empty_patch_after_defaulting_is_a_no_op(apps: client.AppsV1Api) -> None:
    made = apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    for patch in ({}, {"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}}):
        again = apps.patch_namespaced_deployment("web", "default", patch)
        assert again.metadata.resource_version == made.metadata.resource_version


def test_a_service_replaced_without_its_cluster_ip_keeps_it(
    core: client.CoreV1Api,
) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    made = core.create_namespaced_service("default", copy.deepcopy(body))
    again = core.replace_namespaced_service("web", "default", copy.deepcopy(body))
    assert again.spec.cluster_ip == made.spec.cluster_ip
    assert again.spec.cluster_ips == made.spec.cluster_ips
    assert again.metadata.resource_version == made.metadata.resource_version
    body["spec"]["ports"] = [{"port": 8080}]
    changed = core.replace_namespaced_service("web", "default", body)
    assert changed.spec.cluster_ip == made.spec.cluster_ip
    assert changed.spec.ports[0].target_port == 8080


def test_a_namespace_keeps_its_name_label_through_a_replace(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "team"}})
    replaced = core.replace_namespace("team", {"metadata": {"name": "team", "labels": {"a": "b"}}})
    assert replaced.metadata.labels == {"a": "b", "kubernetes.io/metadata.name": "team"}
    assert replaced.status.phase == "Active"


def test_field_refs_name_api_version_v1(core: client.CoreV1Api) -> None:
    # SetDefaults_ObjectFieldSelector: env and downward API volumes alike.
    ref = {"fieldPath": "metadata.name"}
    pod = {
        "metadata": {"name": "downward"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox:1.36",
                    "env": [{"name": "POD", "valueFrom": {"fieldRef": dict(ref)}}],
                }
            ],
            "volumes": [
                {"name": "info", "downwardAPI": {"items": [{"path": "n", "fieldRef": dict(ref)}]}}
            ],
        },
    }
    made = core.create_namespaced_pod("default", pod)
    assert made.spec.containers[0].env[0].value_from.field_ref.api_version == "v1"
    assert made.spec.volumes[0].downward_api.items[0].field_ref.api_version == "v1"
