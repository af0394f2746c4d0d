"""Pod rows: READY, STATUS and RESTARTS computed as ``printPod`` does.

The STATUS cell is the subtlest cell kubectl prints: the waiting or terminated reason
of the first container that has one wins, ``Completed`` with a running container turns
back into ``Running``/``NotReady``, and a pod being deleted shows ``Terminating``
(``Unknown`` when its node was lost).
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
    human_duration,
    parse_time,
)


def _pod_row(pod: JsonObj, now: float) -> list[Any]:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    meta = pod.get("metadata", {})
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    total = len(spec.get("containers") or [])
    ready = restarts = 0
    last_restart: float | None = None
    has_running = False
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        finished = parse_time(
            ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        )
        if finished is not None and (last_restart is None or finished > last_restart):
            last_restart = finished
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
        # kube: "2 (5s ago)" once a container has a last termination to date it by.
        f"{restarts} ({human_duration(now - last_restart)} ago)"
        if restarts and last_restart is not None
        else str(restarts),
        age(pod, now),
        ip,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        gates_text,
    ]


_POD_COLUMNS = [
    NAME,
    col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    col("Status", desc="The aggregate status of the containers in this pod."),
    col(
        "Restarts",
        desc=(
            "The number of times the containers in this pod have been restarted and when "
            "the last container in this pod has restarted."
        ),
    ),
    AGE,
    col(
        "IP",
        priority=1,
        desc=(
            "IP address allocated to the pod. Routable at least within the cluster. "
            "Empty if not yet allocated."
        ),
    ),
    col(
        "Node", priority=1, desc="NodeName is a request to schedule this pod onto a specific node."
    ),
    col(
        "Nominated Node",
        priority=1,
        desc="nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    col(
        "Readiness Gates",
        priority=1,
        desc="If specified, all readiness gates will be evaluated for pod readiness.",
    ),
]


PRINTERS: dict[tuple[str, str], Printer] = {("", "pods"): (_POD_COLUMNS, _pod_row)}
