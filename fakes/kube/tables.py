"""``meta.k8s.io/v1 Table`` output, so ``kubectl get`` prints the real columns.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints
whatever columns the server sends; without a Table it falls back to NAME/AGE. The
columns and cell rules here follow the real server's printers
(``pkg/printers/internalversion/printers.go``): the server always produces the wide
cells and marks the extra columns ``priority: 1``, which kubectl shows only with
``-o wide``.

Contract: :func:`to_table` takes a decoded object or list of a served kind and
returns the Table as a dict. ``include_object`` is the ``includeObject`` query
parameter: ``Metadata`` (the default: a ``PartialObjectMetadata`` per row, which
kubectl needs for ``--show-labels`` and ``-L``), ``Object`` or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fakes.kube.selectors import LabelSelector

JsonObj = dict[str, Any]
Row = Callable[[JsonObj, float], list[Any]]

NONE = "<none>"


def _col(
    name: str, type: str = "string", priority: int = 0, fmt: str = "", desc: str = ""
) -> JsonObj:
    return {"name": name, "type": type, "format": fmt, "description": desc, "priority": priority}


_NAME = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
_AGE = _col(
    "Age",
    desc=(
        "CreationTimestamp is a timestamp representing the server time when this object "
        "was created."
    ),
)


def human_duration(seconds: float) -> str:
    """Go's ``duration.HumanDuration``: ``42s``, ``5m3s``, ``3h10m``, ``6d2h``, ``2y``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _parse_time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def since(text: Any, now: float) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a missing timestamp."""
    when = _parse_time(text)
    return "<unknown>" if when is None else human_duration(now - when)


def _age(obj: JsonObj, now: float) -> str:
    return since(obj.get("metadata", {}).get("creationTimestamp"), now)


def _containers(spec: JsonObj) -> tuple[str, str]:
    containers = spec.get("containers") or []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return names, images


def _selector(spec: JsonObj) -> str:
    sel = spec.get("selector")
    if not isinstance(sel, dict):
        return NONE
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        # Services and other plain label maps.
        text = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
    else:
        text = str(LabelSelector.from_spec(sel))
    return text or NONE


def _template_spec(obj: JsonObj) -> JsonObj:
    spec: JsonObj = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec


# -- pods ---------------------------------------------------------------------


def _pod_row(pod: JsonObj, now: float) -> list[Any]:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    meta = pod.get("metadata", {})
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    total = len(spec.get("containers") or [])
    ready = restarts = 0
    has_running = False
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            signal = terminated.get("signal") or 0
            reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif cs.get("ready") and state.get("running") is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        conditions = status.get("conditions") or []
        ready_true = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        reason = "Running" if ready_true else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    ips = status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else status.get("podIP")) or NONE
    gates = spec.get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        passing = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_text = f"{passing}/{len(gates)}"
    else:
        gates_text = NONE
    return [
        meta.get("name", ""),
        f"{ready}/{total}",
        reason,
        restarts,
        _age(pod, now),
        ip,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        gates_text,
    ]


_POD_COLUMNS = [
    _NAME,
    _col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", desc="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        desc=(
            "The number of times the containers in this pod have been restarted and when "
            "the last container in this pod has restarted."
        ),
    ),
    _AGE,
    _col(
        "IP",
        priority=1,
        desc=(
            "IP address allocated to the pod. Routable at least within the cluster. "
            "Empty if not yet allocated."
        ),
    ),
    _col(
        "Node", priority=1, desc="NodeName is a request to schedule this pod onto a specific node."
    ),
    _col(
        "Nominated Node",
        priority=1,
        desc="nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    _col(
        "Readiness Gates",
        priority=1,
        desc="If specified, all readiness gates will be evaluated for pod readiness.",
    ),
]

# -- workloads ----------------------------------------------------------------

_WIDE_WORKLOAD = [
    _col("Containers", priority=1, desc="Names of each container in the template."),
    _col("Images", priority=1, desc="Images referenced by each container in the template."),
    _col("Selector", priority=1, desc="Label selector for pods."),
]


def _deployment_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas") or 0,
        status.get("availableReplicas") or 0,
        _age(obj, now),
        names,
        images,
        _selector(spec),
    ]


def _replicaset_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        spec.get("replicas", 1),
        status.get("replicas") or 0,
        status.get("readyReplicas") or 0,
        _age(obj, now),
        names,
        images,
        _selector(spec),
    ]


def _statefulset_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)}",
        _age(obj, now),
        names,
        images,
    ]


def _daemonset_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(_template_spec(obj))
    node_selector = _template_spec(obj).get("nodeSelector") or {}
    return [
        obj["metadata"].get("name", ""),
        status.get("desiredNumberScheduled") or 0,
        status.get("currentNumberScheduled") or 0,
        status.get("numberReady") or 0,
        status.get("updatedNumberScheduled") or 0,
        status.get("numberAvailable") or 0,
        ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or NONE,
        _age(obj, now),
        names,
        images,
        _selector(spec),
    ]


def _job_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif obj["metadata"].get("deletionTimestamp"):
        state = "Terminating"
    elif conditions.get("Suspended") == "True":
        state = "Suspended"
    else:
        state = "Running"
    completions = spec.get("completions")
    succeeded = status.get("succeeded") or 0
    comp_text = (
        f"{succeeded}/{completions}"
        if completions is not None
        else f"{succeeded}/1 of {spec.get('parallelism', 1)}"
    )
    start, end = _parse_time(status.get("startTime")), _parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end if end is not None else now) - start)
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        state,
        comp_text,
        duration,
        _age(obj, now),
        names,
        images,
        _selector(spec),
    ]


# -- cluster and config kinds -------------------------------------------------


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
        _age(obj, now),
        info.get("kubeletVersion", ""),
        internal,
        external,
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _namespace_row(obj: JsonObj, now: float) -> list[Any]:
    return [obj["metadata"].get("name", ""), obj.get("status", {}).get("phase", ""), _age(obj, now)]


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
        _age(obj, now),
        _selector(spec),
    ]


def _configmap_row(obj: JsonObj, now: float) -> list[Any]:
    return [
        obj["metadata"].get("name", ""),
        len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
        _age(obj, now),
    ]


def _secret_row(obj: JsonObj, now: float) -> list[Any]:
    return [
        obj["metadata"].get("name", ""),
        obj.get("type", "Opaque"),
        len(obj.get("data") or {}),
        _age(obj, now),
    ]


def _pdb_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    return [
        obj["metadata"].get("name", ""),
        spec.get("minAvailable", "N/A"),
        spec.get("maxUnavailable", "N/A"),
        status.get("disruptionsAllowed") or 0,
        _age(obj, now),
    ]


def _name_age_row(obj: JsonObj, now: float) -> list[Any]:
    return [obj.get("metadata", {}).get("name", ""), _age(obj, now)]


PRINTERS: dict[tuple[str, str], tuple[list[JsonObj], Row]] = {
    ("", "pods"): (_POD_COLUMNS, _pod_row),
    ("apps", "deployments"): (
        [
            _NAME,
            _col("Ready"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _deployment_row,
    ),
    ("apps", "replicasets"): (
        [
            _NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _replicaset_row,
    ),
    ("apps", "statefulsets"): ([_NAME, _col("Ready"), _AGE, *_WIDE_WORKLOAD[:2]], _statefulset_row),
    ("apps", "daemonsets"): (
        [
            _NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _col("Node Selector"),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _daemonset_row,
    ),
    ("batch", "jobs"): (
        [_NAME, _col("Status"), _col("Completions"), _col("Duration"), _AGE, *_WIDE_WORKLOAD],
        _job_row,
    ),
    ("", "nodes"): (
        [
            _NAME,
            _col("Status"),
            _col("Roles"),
            _AGE,
            _col("Version"),
            _col("Internal-IP", priority=1),
            _col("External-IP", priority=1),
            _col("OS-Image", priority=1),
            _col("Kernel-Version", priority=1),
            _col("Container-Runtime", priority=1),
        ],
        _node_row,
    ),
    ("", "namespaces"): ([_NAME, _col("Status"), _AGE], _namespace_row),
    ("", "events"): (
        [
            _col("Last Seen"),
            _col("Type"),
            _col("Reason"),
            _col("Object"),
            _col("Subobject", priority=1),
            _col("Source", priority=1),
            _col("Message"),
            _col("First Seen", priority=1),
            _col("Count", "integer", priority=1),
            _col("Name", priority=1),
        ],
        _event_row,
    ),
    ("", "services"): (
        [
            _NAME,
            _col("Type"),
            _col("Cluster-IP"),
            _col("External-IP"),
            _col("Port(s)"),
            _AGE,
            _col("Selector", priority=1),
        ],
        _service_row,
    ),
    ("", "configmaps"): ([_NAME, _col("Data", "integer"), _AGE], _configmap_row),
    ("", "secrets"): ([_NAME, _col("Type"), _col("Data", "integer"), _AGE], _secret_row),
    ("policy", "poddisruptionbudgets"): (
        [
            _NAME,
            _col("Min Available"),
            _col("Max Unavailable"),
            _col("Allowed Disruptions", "integer"),
            _AGE,
        ],
        _pdb_row,
    ),
}
_DEFAULT: tuple[list[JsonObj], Row] = ([_NAME, _AGE], _name_age_row)


def _partial(obj: JsonObj) -> JsonObj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    group: str,
    plural: str,
    obj: JsonObj,
    now: float,
    include_object: str = "Metadata",
    headers: bool = True,
) -> JsonObj:
    """The Table for one object or a ``...List`` of objects of ``group``/``plural``.

    ``headers=False`` omits the column definitions, as the real server does for every
    watch event after the first.
    """
    columns, row = PRINTERS.get((group, plural), _DEFAULT)
    is_list = str(obj.get("kind", "")).endswith("List") and isinstance(obj.get("items"), list)
    items = obj["items"] if is_list else [obj]
    rows = []
    for item in items:
        r: JsonObj = {"cells": row(item, now)}
        if include_object == "Object":
            r["object"] = item
        elif include_object != "None":
            r["object"] = _partial(item)
        rows.append(r)
    meta: JsonObj = {}
    src_meta = obj.get("metadata") or {}
    if is_list:
        for key in ("resourceVersion", "continue", "remainingItemCount"):
            if key in src_meta:
                meta[key] = src_meta[key]
    elif "resourceVersion" in src_meta:
        meta["resourceVersion"] = src_meta["resourceVersion"]
    table: JsonObj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    table["columnDefinitions"] = columns if headers else None
    table["rows"] = rows
    return table
