"""Rows for Services, ConfigMaps, Secrets and PodDisruptionBudgets, and the fallback.

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
}
DEFAULT: Printer = ([NAME, AGE], _name_age_row)
