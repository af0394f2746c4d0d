"""One HorizontalPodAutoscaler served as autoscaling/v1 and v2 (converted, one storage)."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from kubernetes.client import ApisApi, AutoscalingV1Api, AutoscalingV2Api
from kubernetes.watch import Watch

from fakes.kube.cluster import Cluster


def target() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


@pytest.fixture
def apis() -> tuple[AutoscalingV1Api, AutoscalingV2Api, Any]:
    client = Cluster(seed=1).api_client()
    return AutoscalingV1Api(client), AutoscalingV2Api(client), client


def test_v1_target_cpu_is_the_v2_cpu_utilization_metric(apis: Any) -> None:
    v1, v2, _ = apis
    v1.create_namespaced_horizontal_pod_autoscaler(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": target(),
                "minReplicas": 2,
                "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 70,
            },
        },
    )
    hpa = v2.read_namespaced_horizontal_pod_autoscaler("web", "default")
    assert hpa.api_version == "autoscaling/v2"
    [metric] = hpa.spec.metrics
    assert (metric.type, metric.resource.name) == ("Resource", "cpu")
    assert (metric.resource.target.type, metric.resource.target.average_utilization) == (
        "Utilization",
        70,
    )
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 5)

    v2.patch_namespaced_horizontal_pod_autoscaler(
        "web",
        "default",
        {
            "spec": {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 55},
                        },
                    },
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "1Gi"},
                        },
                    },
                ]
            }
        },
    )
    old = v1.read_namespaced_horizontal_pod_autoscaler("web", "default")
    assert old.api_version == "autoscaling/v1"
    assert old.spec.target_cpu_utilization_percentage == 55
    # A v1 read-modify-write keeps what v1 cannot express (the memory metric).
    old.spec.max_replicas = 9
    v1.replace_namespaced_horizontal_pod_autoscaler("web", "default", old)
    v1.patch_namespaced_horizontal_pod_autoscaler(
        "web", "default", {"spec": {"targetCPUUtilizationPercentage": 40}}
    )
    hpa = v2.read_namespaced_horizontal_pod_autoscaler("web", "default")
    assert hpa.spec.max_replicas == 9
    assert [m.resource.name for m in hpa.spec.metrics] == ["cpu", "memory"]
    assert hpa.spec.metrics[0].resource.target.average_utilization == 40
    assert not hpa.metadata.annotations

    listed = v1.list_namespaced_horizontal_pod_autoscaler("default")
    assert [h.spec.target_cpu_utilization_percentage for h in listed.items] == [40]
    v1.delete_namespaced_horizontal_pod_autoscaler("web", "default")
    assert v2.list_horizontal_pod_autoscaler_for_all_namespaces().items == []


def test_v1_status_and_watch_are_converted(apis: Any) -> None:
    v1, v2, _ = apis
    created = v2.create_namespaced_horizontal_pod_autoscaler(
        "default",
        {"metadata": {"name": "api"}, "spec": {"scaleTargetRef": target(), "maxReplicas": 3}},
    )
    v2.patch_namespaced_horizontal_pod_autoscaler_status(
        "api",
        "default",
        {
            "status": {
                "currentReplicas": 2,
                "desiredReplicas": 3,
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "current": {"averageUtilization": 91}},
                    }
                ],
            }
        },
    )
    status = v1.read_namespaced_horizontal_pod_autoscaler_status("api", "default").status
    assert (status.current_replicas, status.desired_replicas) == (2, 3)
    assert status.current_cpu_utilization_percentage == 91
    events = list(
        Watch().stream(
            v1.list_namespaced_horizontal_pod_autoscaler,
            "default",
            resource_version=created.metadata.resource_version,
            timeout_seconds=1,
        )
    )
    assert [e["type"] for e in events] == ["MODIFIED"]
    assert events[0]["object"].status.current_cpu_utilization_percentage == 91


def test_discovery_lists_both_versions_with_v2_preferred(apis: Any) -> None:
    _, _, client = apis
    groups = {g.name: g for g in ApisApi(client).get_api_versions().groups}
    autoscaling = groups["autoscaling"]
    assert [v.version for v in autoscaling.versions] == ["v2", "v1"]
    assert autoscaling.preferred_version.version == "v2"
    resources = kubernetes.client.AutoscalingV1Api(client).get_api_resources().resources
    assert {r.name for r in resources} == {
        "horizontalpodautoscalers",
        "horizontalpodautoscalers/status",
    }
