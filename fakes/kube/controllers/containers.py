"""Container statuses as the kubelet writes them, with kube's reasons and messages.

Pure functions on decoded pods: what a running, waiting (ErrImagePull,
ImagePullBackOff, CrashLoopBackOff) or killed container looks like in
``status.containerStatuses``, the Ready/ContainersReady conditions that follow from
them, and when each container started (the probes count from there).
"""

from __future__ import annotations

from typing import Any

from fakes.kube.clock import parse_time

JsonObj = dict[str, Any]

ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
PULLING = (ERR_IMAGE_PULL, IMAGE_PULL_BACK_OFF)
LIVENESS_EXIT_CODE = 137
"""A container killed for failing its liveness probe (SIGKILL after the grace period)."""


def go_duration(seconds: float) -> str:
    """``seconds`` as Go's ``time.Duration`` prints it: ``10s``, ``1m20s``, ``5m0s``."""
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes}m{secs}s" if hours else f"{minutes}m{secs}s"


def annotation(pod: JsonObj, key: str) -> str | None:
    value = (pod["metadata"].get("annotations") or {}).get(key)
    return value if isinstance(value, str) else None


def statuses(pod: JsonObj) -> list[JsonObj]:
    found: list[JsonObj] = pod.get("status", {}).get("containerStatuses") or []
    return found


def waiting_reason(cs: JsonObj) -> str | None:
    waiting = (cs.get("state") or {}).get("waiting")
    return waiting.get("reason") if isinstance(waiting, dict) else None


def is_running(cs: JsonObj) -> bool:
    return "running" in (cs.get("state") or {})


def container_id(pod: JsonObj, index: int) -> str:
    return f"containerd://{pod['metadata']['uid'].replace('-', '')}{index}"


def running(pod: JsonObj, index: int, container: JsonObj, now: str) -> JsonObj:
    """A container that has just started (not ready yet)."""
    image = container.get("image", "")
    return {
        "name": container.get("name", ""),
        "image": image,
        "imageID": f"docker.io/library/{image}@sha256:{'0' * 64}",
        "containerID": container_id(pod, index),
        "ready": False,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": now}},
        "lastState": {},
    }


def waiting(container: JsonObj, reason: str, message: str) -> JsonObj:
    """A container that was never created: its image is not there yet."""
    return {
        "name": container.get("name", ""),
        "image": container.get("image", ""),
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason, "message": message}},
        "lastState": {},
    }


def restarted(cs: JsonObj, now: str) -> None:
    """A container that was waiting to restart runs again."""
    cs["state"] = {"running": {"startedAt": now}}
    cs["started"] = True
    cs["ready"] = False


def back_off_message(pod: JsonObj, name: str, delay: float) -> str:
    """The waiting message of a container in CrashLoopBackOff (kuberuntime's doBackOff)."""
    meta = pod["metadata"]
    return (
        f"back-off {go_duration(delay)} restarting failed container={name} "
        f"pod={meta['name']}_{meta['namespace']}({meta.get('uid', '')})"
    )


def back_off_event(pod: JsonObj, name: str) -> str:
    meta = pod["metadata"]
    return f"Back-off restarting failed container {name} in pod {meta['name']}_{meta['namespace']}"


def killed(
    pod: JsonObj, cs: JsonObj, now: str, exit_code: int, reason: str, back_off: float
) -> None:
    """A container that exited (or was killed) and waits ``back_off`` seconds to restart."""
    started = (cs.get("state", {}).get("running") or {}).get("startedAt", now)
    cs["restartCount"] = cs.get("restartCount", 0) + 1
    cs["ready"] = False
    cs["started"] = False
    cs["lastState"] = {
        "terminated": {
            "exitCode": exit_code,
            "reason": reason,
            "startedAt": started,
            "finishedAt": now,
            "containerID": cs.get("containerID", ""),
        }
    }
    cs["state"] = {
        "waiting": {
            "reason": CRASH_LOOP_BACK_OFF,
            "message": back_off_message(pod, cs["name"], back_off),
        }
    }


def started_at(cs: JsonObj) -> float | None:
    """When a running container started, from its status (second precision)."""
    text = (cs.get("state", {}).get("running") or {}).get("startedAt")
    return parse_time(text) if isinstance(text, str) else None
