"""Workload rows: Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs.

Workloads share the wide columns (the pod template's containers, images and the
selector); the narrow ones are replica counts read from the status, as
``printDeployment`` and its siblings print them.
"""

from __future__ import annotations

from typing import Any

from fakes.kube.tables.columns import (
    AGE,
    NAME,
    NONE,
    JsonObj,
    Printer,
    age,
    col,
    containers,
    human_duration,
    parse_time,
    selector,
    template_spec,
)

_WIDE_WORKLOAD = [
    col("Containers", priority=1, desc="Names of each container in the template."),
    col("Images", priority=1, desc="Images referenced by each container in the template."),
    col("Selector", priority=1, desc="Label selector for pods."),
]


def _deployment_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = containers(template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas") or 0,
        status.get("availableReplicas") or 0,
        age(obj, now),
        names,
        images,
        selector(spec),
    ]


def _replicaset_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = containers(template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        spec.get("replicas", 1),
        status.get("replicas") or 0,
        status.get("readyReplicas") or 0,
        age(obj, now),
        names,
        images,
        selector(spec),
    ]


def _statefulset_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = containers(template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)}",
        age(obj, now),
        names,
        images,
    ]


def _daemonset_row(obj: JsonObj, now: float) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = containers(template_spec(obj))
    node_selector = template_spec(obj).get("nodeSelector") or {}
    return [
        obj["metadata"].get("name", ""),
        status.get("desiredNumberScheduled") or 0,
        status.get("currentNumberScheduled") or 0,
        status.get("numberReady") or 0,
        status.get("updatedNumberScheduled") or 0,
        status.get("numberAvailable") or 0,
        ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or NONE,
        age(obj, now),
        names,
        images,
        selector(spec),
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
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end if end is not None else now) - start)
    names, images = containers(template_spec(obj))
    return [
        obj["metadata"].get("name", ""),
        state,
        comp_text,
        duration,
        age(obj, now),
        names,
        images,
        selector(spec),
    ]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("apps", "deployments"): (
        [
            NAME,
            col("Ready"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            AGE,
            *_WIDE_WORKLOAD,
        ],
        _deployment_row,
    ),
    ("apps", "replicasets"): (
        [
            NAME,
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            AGE,
            *_WIDE_WORKLOAD,
        ],
        _replicaset_row,
    ),
    ("apps", "statefulsets"): ([NAME, col("Ready"), AGE, *_WIDE_WORKLOAD[:2]], _statefulset_row),
    ("apps", "daemonsets"): (
        [
            NAME,
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            col("Node Selector"),
            AGE,
            *_WIDE_WORKLOAD,
        ],
        _daemonset_row,
    ),
    ("batch", "jobs"): (
        [NAME, col("Status"), col("Completions"), col("Duration"), AGE, *_WIDE_WORKLOAD],
        _job_row,
    ),
}
