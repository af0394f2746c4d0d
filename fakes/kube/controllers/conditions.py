"""Status conditions as the kubelet and controllers write them.

``set_condition`` moves ``lastTransitionTime`` only when the status changes, as kube's
helpers do; ``containers_not_ready``/``set_containers_ready`` derive a pod's Ready and
ContainersReady conditions from its containers' ready flags, with kube's reason and
message (``ContainersNotReady``, ``containers with unready status: [a b]``).
"""

from __future__ import annotations

from typing import Any

JsonObj = dict[str, Any]


def condition(obj: JsonObj, type: str) -> JsonObj | None:
    for c in obj.get("status", {}).get("conditions") or ():
        if c.get("type") == type:
            found: JsonObj = c
            return found
    return None


def is_true(obj: JsonObj, type: str) -> bool:
    c = condition(obj, type)
    return c is not None and c.get("status") == "True"


def set_condition(
    obj: JsonObj, type: str, status: str, now: str, reason: str = "", message: str = ""
) -> None:
    """Set a condition, moving lastTransitionTime only when the status changes."""
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == type:
            if c.get("status") != status:
                c["lastTransitionTime"] = now
            c["status"] = status
            c["lastProbeTime"] = None
            _reason(c, reason, message)
            return
    c = {"type": type, "status": status, "lastProbeTime": None, "lastTransitionTime": now}
    _reason(c, reason, message)
    conditions.append(c)


def _reason(c: JsonObj, reason: str, message: str) -> None:
    if reason:
        c["reason"] = reason
    else:
        c.pop("reason", None)
    if message:
        c["message"] = message
    else:
        c.pop("message", None)


def pod_ready(pod: JsonObj) -> bool:
    return pod.get("status", {}).get("phase") == "Running" and is_true(pod, "Ready")


def unready_names(pod: JsonObj) -> list[str]:
    """The pod's containers that are not ready, in spec order (all of them before start)."""
    ready = {
        cs.get("name")
        for cs in pod.get("status", {}).get("containerStatuses") or ()
        if cs.get("ready")
    }
    return [
        str(c.get("name", ""))
        for c in pod.get("spec", {}).get("containers") or ()
        if c.get("name") not in ready
    ]


def not_ready_message(names: list[str]) -> str:
    """kube's ``containers with unready status: [a b]`` (a Go string slice)."""
    return f"containers with unready status: [{' '.join(names)}]"


def containers_not_ready(pod: JsonObj, now: str) -> None:
    """Ready and ContainersReady False, as the kubelet reports a pod whose containers are not."""
    message = not_ready_message(unready_names(pod))
    for type in ("Ready", "ContainersReady"):
        set_condition(pod, type, "False", now, "ContainersNotReady", message)


def set_containers_ready(pod: JsonObj, now: str) -> None:
    """Ready and ContainersReady from the containers' ready flags (True when all are).

    A pod without container statuses (written Running by hand) counts as ready.
    """
    if pod.get("status", {}).get("containerStatuses") and unready_names(pod):
        containers_not_ready(pod, now)
        return
    set_condition(pod, "Ready", "True", now)
    set_condition(pod, "ContainersReady", "True", now)
