"""Admission and subresources through the sync client: quota, LimitRange, eviction, scale."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from tests.integration.kube.manifests import deployment, pod


def sized(name: str, cpu: str, memory: str = "64Mi", **labels: str) -> dict[str, Any]:
    body = pod(name, dict(labels))
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu, "memory": memory}}
    return body


def quota(core: client.CoreV1Api, hard: dict[str, str]) -> None:
    core.create_namespaced_resource_quota(
        "default", {"metadata": {"name": "q"}, "spec": {"hard": hard}}
    )


def test_quota_refuses_compute_overrun_with_the_real_message(core: client.CoreV1Api) -> None:
    quota(core, {"requests.cpu": "4"})
    core.create_namespaced_pod("default", sized("a", "2"))
    core.create_namespaced_pod("default", sized("b", "1"))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", sized("x", "2"))
    assert err.value.status == 403
    body = json.loads(err.value.body)
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "x" is forbidden: exceeded quota: q, requested: requests.cpu=2, '
        "used: requests.cpu=3, limited: requests.cpu=4"
    )


def test_quota_counts_objects_and_keeps_used_current(core: client.CoreV1Api) -> None:
    quota(core, {"pods": "2", "requests.memory": "1Gi"})
    core.create_namespaced_pod("default", sized("a", "100m", "512Mi"))
    used = core.read_namespaced_resource_quota("q", "default").status.used
    assert used == {"pods": "1", "requests.memory": "512Mi"}
    core.create_namespaced_pod("default", sized("b", "100m", "256Mi"))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", sized("c", "100m", "1Mi"))
    assert "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in err.value.body
    core.delete_namespaced_pod("a", "default")
    assert core.read_namespaced_resource_quota("q", "default").status.used == {
        "pods": "1",
        "requests.memory": "256Mi",
    }


def test_quota_on_compute_requires_the_pod_to_declare_it(core: client.CoreV1Api) -> None:
    quota(core, {"limits.cpu": "2"})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", pod("bare"))
    assert err.value.status == 403
    assert "failed quota: q: must specify limits.cpu" in err.value.body


def test_count_quota_for_deployments(apps: client.AppsV1Api, core: client.CoreV1Api) -> None:
    quota(core, {"count/deployments.apps": "1"})
    apps.create_namespaced_deployment("default", deployment("a"))
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment("default", deployment("b"))
    assert "requested: count/deployments.apps=1, used: count/deployments.apps=1" in err.value.body


def test_limit_range_defaults_container_resources(core: client.CoreV1Api) -> None:
    core.create_namespaced_limit_range(
        "default",
        {
            "metadata": {"name": "defaults"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "500m", "memory": "256Mi"},
                        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                    }
                ]
            },
        },
    )
    made = core.create_namespaced_pod("default", pod("web"))
    resources = made.spec.containers[0].resources
    assert resources.requests == {"cpu": "100m", "memory": "128Mi"}
    assert resources.limits == {"cpu": "500m", "memory": "256Mi"}
    assert made.status.qos_class == "Burstable"


def ready_pod(core: client.CoreV1Api, cluster: Cluster, name: str, ready: bool = True) -> None:
    core.create_namespaced_pod("default", pod(name, {"app": "web"}, nodeName="n1"))
    status = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    cluster.api.patch("pods", name, {"status": status}, "default", subresource="status")


def evict(core: client.CoreV1Api, name: str) -> None:
    core.create_namespaced_pod_eviction(
        name, "default", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    )


def test_eviction_honours_the_disruption_budget(cluster: Cluster, core: client.CoreV1Api) -> None:
    policy = client.PolicyV1Api(core.api_client)
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "web-pdb"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        },
    )
    for name in ("a", "b", "c"):
        ready_pod(core, cluster, name)
    evict(core, "a")
    assert core.read_namespaced_pod("a", "default").metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as err:
        evict(core, "b")
    assert err.value.status == 429
    body = json.loads(err.value.body)
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 2 healthy pods and has 2 currently",
        }
    ]
    assert core.read_namespaced_pod("b", "default").metadata.deletion_timestamp is None


def test_eviction_without_budget_deletes_and_unready_pods_may_go(
    cluster: Cluster, core: client.CoreV1Api
) -> None:
    policy = client.PolicyV1Api(core.api_client)
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "pdb"},
            "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "web"}}},
        },
    )
    ready_pod(core, cluster, "sick", ready=False)
    with pytest.raises(ApiException):
        evict(core, "sick")
    core.create_namespaced_pod("default", pod("loner"))
    evict(core, "loner")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod("loner", "default")
    assert gone.value.status == 404


def test_scale_subresource_reads_and_writes_replicas(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.kind, scale.spec.replicas, scale.status.selector) == ("Scale", 2, "app=web")
    scale.spec.replicas = 6
    apps.replace_namespaced_deployment_scale("web", "default", scale)
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 6
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 1}})
    updated = apps.read_namespaced_deployment("web", "default")
    assert (updated.spec.replicas, updated.metadata.generation) == (1, 3)


def test_status_subresource_writes_only_status(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    apps.patch_namespaced_deployment_status(
        "web", "default", {"status": {"readyReplicas": 2}, "spec": {"replicas": 9}}
    )
    live = apps.read_namespaced_deployment("web", "default")
    assert (live.status.ready_replicas, live.spec.replicas) == (2, 2)
    apps.patch_namespaced_deployment("web", "default", {"status": {"readyReplicas": 0}})
    assert apps.read_namespaced_deployment("web", "default").status.ready_replicas == 2


def test_binding_assigns_the_node_once(cluster: Cluster, core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "web"},
        "target": {"kind": "Node", "name": "n1"},
    }
    # The real server answers a Status, which this client cannot model as V1Binding;
    # read the raw answer like kubectl does.
    raw = core.create_namespaced_pod_binding("web", "default", binding, _preload_content=False)
    assert json.loads(raw.data)["status"] == "Success"
    bound = core.read_namespaced_pod("web", "default")
    assert bound.spec.node_name == "n1"
    assert [c.type for c in bound.status.conditions] == ["PodScheduled"]
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod_binding("web", "default", binding, _preload_content=False)
    assert err.value.status == 409
