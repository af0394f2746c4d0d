"""Rows for the cluster's own state: Nodes, Namespaces and Events.

Nodes show their Ready condition, roles from the ``node-role.kubernetes.io/*`` labels
and the kubelet's ``nodeInfo``; Events show last/first seen from either the legacy
timestamps or the ``series``, as ``printEvent`` does.
"""

from __future__ import annotations

from typing import Any

from fakes.kube.tables.columns import AGE, NAME, NONE, JsonObj, Printer, age, col, since


def _node_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    meta = obj["metadata"]
    states = []
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            states = ["Ready" if c.get("status") == "True" else "NotReady"]
    if not states:
        states = ["Unknown"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    labels = meta.get("labels") or {}
    roles = sorted(
        {
            k.split("/", 1)[1]
            for k in labels
            if k.startswith("node-role.kubernetes.io/") and "/" in k
        }
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    roles = [r for r in roles if r]
    addresses = status.get("addresses") or []
    internal = (
        next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None) or NONE
    )
    external = (
        next((a.get("address") for a in addresses if a.get("type") == "ExternalIP"), None) or NONE
    )
    info = status.get("nodeInfo") or {}
    return [
        meta.get("name", ""),
        ",".join(states),
        ",".join(roles) or NONE,
        age(obj, now),
        info.get("kubeletVersion", ""),
        internal,
        external,
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _namespace_row(obj: JsonObj, now: float) -> list[Any]:
    return [obj["metadata"].get("name", ""), obj.get("status", {}).get("phase", ""), age(obj, now)]


def _event_row(obj: JsonObj, now: float) -> list[Any]:
    first = (
        since(obj.get("firstTimestamp"), now)
        if obj.get("firstTimestamp")
        else since(obj.get("eventTime"), now)
    )
    last = since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = obj.get("count") or 0
    series = obj.get("series")
    if isinstance(series, dict):
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count") or 0
    elif count == 0:
        count = 1
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    source_text = f"{component}, {host}" if component and host else component or host
    return [
        last,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        source_text,
        str(obj.get("message", "")).strip(),
        first,
        count,
        obj["metadata"].get("name", ""),
    ]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "nodes"): (
        [
            NAME,
            col("Status"),
            col("Roles"),
            AGE,
            col("Version"),
            col("Internal-IP", priority=1),
            col("External-IP", priority=1),
            col("OS-Image", priority=1),
            col("Kernel-Version", priority=1),
            col("Container-Runtime", priority=1),
        ],
        _node_row,
    ),
    ("", "namespaces"): ([NAME, col("Status"), AGE], _namespace_row),
    ("", "events"): (
        [
            col("Last Seen"),
            col("Type"),
            col("Reason"),
            col("Object"),
            col("Subobject", priority=1),
            col("Source", priority=1),
            col("Message"),
            col("First Seen", priority=1),
            col("Count", "integer", priority=1),
            col("Name", priority=1),
        ],
        _event_row,
    ),
}
