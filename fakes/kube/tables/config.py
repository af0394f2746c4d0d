"""Rows for Services, ConfigMaps, Secrets, PDBs, HPAs and ResourceQuotas, and the fallback.

Kinds without a printer of their own get NAME and AGE, which is what the real server
sends for them too.
"""

from __future__ import annotations

from typing import Any

from fakes.kube.tables.columns import AGE, NAME, NONE, JsonObj, Printer, age, col, selector


def _service_row(obj: JsonObj, now: float) -> list[Any]:
    spec = obj.get("spec", {})
    ports = spec.get("ports") or []
    port_text = (
        ",".join(
            f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
            if p.get("nodePort")
            else f"{p.get('port')}/{p.get('protocol', 'TCP')}"
            for p in ports
        )
        or NONE
    )
    ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or ",".join(
        spec.get("externalIPs") or []
    )
    if not external:
        external = "<pending>" if spec.get("type") == "LoadBalancer" else NONE
    return [
        obj["metadata"].get("name", ""),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or NONE,
        external,
        port_text,
        age(obj, now),
        selector(spec),
    ]


def _configmap_row(obj: JsonObj, now: float) -> list[Any]:
    return [
        obj["metadata"].get("name", ""),
        len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
        age(obj, now),
    ]


def _secret_row(obj: JsonObj, now: float) -> list[Any]:
    return [
        obj["metadata"].get("name", ""),
        obj.get("type", "Opaque"),
        len(obj.get("data") or {}),
        age(obj, now),
    ]


def _pdb_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    return [
        obj["metadata"].get("name", ""),
        spec.get("minAvailable", "N/A"),
        spec.get("maxUnavailable", "N/A"),
        status.get("disruptionsAllowed") or 0,
        age(obj, now),
    ]


def _hpa_metric(spec: JsonObj, status: JsonObj | None) -> str:
    kind = spec.get("type", "")
    source = (
        spec.get(
            {"Resource": "resource", "ContainerResource": "containerResource"}.get(
                kind, kind[:1].lower() + kind[1:]
            )
        )
        or {}
    )
    target = source.get("target") or {}
    current = ((status or {}).get(kind[:1].lower() + kind[1:]) or {}).get("current") or {}
    if kind in ("Resource", "ContainerResource"):
        name = source.get("name", "")
        if "averageValue" in target:
            return f"{name}: {current.get('averageValue', '<unknown>')}/{target['averageValue']}"
        used = current.get("averageUtilization")
        used_text = "<unknown>" if used is None else f"{used}%"
        goal = target.get("averageUtilization")
        return f"{name}: {used_text}/{'<auto>' if goal is None else f'{goal}%'}"
    if kind == "Pods":
        return f"{current.get('averageValue', '<unknown>')}/{target.get('averageValue', '')}"
    if kind in ("Object", "External"):
        if "averageValue" in target:
            return f"{current.get('averageValue', '<unknown>')}/{target['averageValue']} (avg)"
        return f"{current.get('value', '<unknown>')}/{target.get('value', '')}"
    return "<unknown type>"


def hpa_targets(obj: JsonObj) -> str:
    """``formatHPAMetrics``: the first two metrics as ``current/target``, then ``+ N more...``.

    An ``autoscaling/v1`` object (``targetCPUUtilizationPercentage``) reads as its one
    CPU utilization metric.
    """
    spec, status = obj.get("spec", {}), obj.get("status", {})
    if "metrics" not in spec and "targetCPUUtilizationPercentage" in spec:
        used = status.get("currentCPUUtilizationPercentage")
        used_text = "<unknown>" if used is None else f"{used}%"
        return f"cpu: {used_text}/{spec['targetCPUUtilizationPercentage']}%"
    metrics = spec.get("metrics") or []
    if not metrics:
        return NONE
    statuses = status.get("currentMetrics") or []
    texts = [
        _hpa_metric(m, statuses[i] if i < len(statuses) else None) for i, m in enumerate(metrics)
    ]
    if len(texts) > 2:
        return f"{', '.join(texts[:2])} + {len(texts) - 2} more..."
    return ", ".join(texts)


def _hpa_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    ref = spec.get("scaleTargetRef") or {}
    min_pods = spec.get("minReplicas")
    return [
        obj["metadata"].get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        hpa_targets(obj),
        "<unset>" if min_pods is None else str(min_pods),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas") or 0,
        age(obj, now),
    ]


def _quota_row(obj: JsonObj, now: float) -> list[Any]:
    hard = obj.get("spec", {}).get("hard") or {}
    used = obj.get("status", {}).get("used") or {}
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        column = limits if resource.split(".")[0] == "limits" and "." in resource else requests
        column.append(f"{resource}: {used.get(resource, '0')}/{hard[resource]}")
    return [obj["metadata"].get("name", ""), age(obj, now), ", ".join(requests), ", ".join(limits)]


def _name_age_row(obj: JsonObj, now: float) -> list[Any]:
    return [obj.get("metadata", {}).get("name", ""), age(obj, now)]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "services"): (
        [
            NAME,
            col("Type"),
            col("Cluster-IP"),
            col("External-IP"),
            col("Port(s)"),
            AGE,
            col("Selector", priority=1),
        ],
        _service_row,
    ),
    ("", "configmaps"): ([NAME, col("Data", "integer"), AGE], _configmap_row),
    ("", "secrets"): ([NAME, col("Type"), col("Data", "integer"), AGE], _secret_row),
    ("policy", "poddisruptionbudgets"): (
        [
            NAME,
            col("Min Available"),
            col("Max Unavailable"),
            col("Allowed Disruptions", "integer"),
            AGE,
        ],
        _pdb_row,
    ),
    ("autoscaling", "horizontalpodautoscalers"): (
        [
            NAME,
            col("Reference"),
            col("Targets"),
            col("MinPods"),
            col("MaxPods", "integer"),
            col("Replicas", "integer"),
            AGE,
        ],
        _hpa_row,
    ),
    ("", "resourcequotas"): ([NAME, AGE, col("Request"), col("Limit")], _quota_row),
}
DEFAULT: Printer = ([NAME, AGE], _name_age_row)
