"""Table cells for Endpoints, EndpointSlices, HPAs and ResourceQuotas, as kube prints them."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.tables import to_table

NOW = 1_700_000_000.0
CREATED = "2023-11-14T22:13:00Z"  # 20 s before NOW


def cells(group: str, plural: str, obj: dict[str, Any]) -> tuple[list[str], list[Any]]:
    table = to_table(
        group, plural, {"metadata": {"name": "x", "creationTimestamp": CREATED}, **obj}, NOW
    )
    return [c["name"] for c in table["columnDefinitions"]], table["rows"][0]["cells"]


def ips(n: int) -> list[dict[str, str]]:
    return [{"ip": f"10.244.0.{i}"} for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("subsets", "text"),
    [
        (None, "<none>"),
        ([{"notReadyAddresses": ips(1), "ports": [{"port": 80}]}], ""),
        ([{"addresses": ips(2), "ports": [{"port": 80}]}], "10.244.0.1:80,10.244.0.2:80"),
        (
            [{"addresses": ips(2), "ports": [{"port": 80}, {"port": 9090}]}],
            "10.244.0.1:80,10.244.0.2:80,10.244.0.1:9090 + 1 more...",
        ),
        ([{"addresses": ips(5)}], "10.244.0.1,10.244.0.2,10.244.0.3 + 2 more..."),
    ],
)
def test_endpoints_show_three_targets_then_a_count(subsets: Any, text: str) -> None:
    names, row = cells("", "endpoints", {"subsets": subsets} if subsets else {})
    assert names == ["Name", "Endpoints", "Age"]
    assert row == ["x", text, "20s"]


def test_endpoint_slice_columns() -> None:
    endpoints = [{"addresses": [a["ip"]]} for a in ips(4)]
    names, row = cells(
        "discovery.k8s.io",
        "endpointslices",
        {"addressType": "IPv4", "ports": [{"name": "", "port": 80}], "endpoints": endpoints},
    )
    assert names == ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    assert row == ["x", "IPv4", "80", "10.244.0.1,10.244.0.2,10.244.0.3 + 1 more...", "20s"]
    _, empty = cells("discovery.k8s.io", "endpointslices", {"addressType": "IPv4", "endpoints": []})
    assert empty[2:4] == ["<unset>", "<unset>"]


def test_hpa_columns_and_targets() -> None:
    spec = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "maxReplicas": 5,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            },
            {
                "type": "Resource",
                "resource": {
                    "name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "100Mi"},
                },
            },
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": "qps"},
                    "target": {"type": "AverageValue", "averageValue": "10"},
                },
            },
        ],
    }
    status = {
        "currentReplicas": 2,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}
        ],
    }
    names, row = cells("autoscaling", "horizontalpodautoscalers", {"spec": spec, "status": status})
    assert names == ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"]
    assert row == [
        "x",
        "Deployment/web",
        "cpu: 12%/80%, memory: <unknown>/100Mi + 1 more...",
        "<unset>",
        5,
        2,
        "20s",
    ]
    v1 = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 3,
        "targetCPUUtilizationPercentage": 50,
    }
    _, row = cells("autoscaling", "horizontalpodautoscalers", {"spec": v1, "status": {}})
    assert row[2:6] == ["cpu: <unknown>/50%", "1", 3, 0]
    _, row = cells("autoscaling", "horizontalpodautoscalers", {"spec": {"maxReplicas": 1}})
    assert row[2] == "<none>"


def test_resource_quota_splits_requests_and_limits() -> None:
    quota = {
        "spec": {
            "hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "1Gi", "limits.cpu": "4"}
        },
        "status": {"used": {"pods": "3", "requests.cpu": "500m"}},
    }
    names, row = cells("", "resourcequotas", quota)
    assert names == ["Name", "Age", "Request", "Limit"]
    assert row == [
        "x",
        "20s",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.cpu: 0/4, limits.memory: 0/1Gi",
    ]
