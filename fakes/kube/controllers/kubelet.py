"""The simulated kubelets: pod and node lifecycles declared as stages.

Pod stages, first match wins:

``terminate``  deletionTimestamp set → after min(grace, termination latency) the pod is
               removed (Killing event). Pods on a NotReady node stay Terminating, as
               with a real dead kubelet.
``crash``      Running and configured to crash (annotation ``windtunnel.io/crash-loop``
               or a config crash rule) → restartCount+1, waiting CrashLoopBackOff,
               back-off 10 s doubling to 300 s (steady: does not block settle).
``complete``   Running, restartPolicy Never/OnFailure → Succeeded (or Failed with a
               non-zero ``windtunnel.io/exit-code``) after the run time.
``ready``      Running, not Ready → Ready after the readiness latency.
``start``      bound, Pending → Running after the start latency (Pulled/Created/Started).

Node stage ``initialize``: a node without a Ready condition gets capacity,
allocatable, nodeInfo and Ready=True at once.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.config import (
    CRASH_ANNOTATION,
    EXIT_CODE_ANNOTATION,
    READY_SECONDS_ANNOTATION,
    RUN_SECONDS_ANNOTATION,
    START_SECONDS_ANNOTATION,
)
from fakes.kube.controllers.events import WARNING
from fakes.kube.controllers.stages import Stage, StageRunner
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    import random

    from fakes.kube.controllers.base import Context

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


def _annotation(pod: JsonObj, key: str) -> str | None:
    value = (pod["metadata"].get("annotations") or {}).get(key)
    return value if isinstance(value, str) else None


class Kubelet:
    """Builds the pod and node stage runners for a simulation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.access = ctx.access
        self.recorder = ctx.recorder
        self.config = ctx.config
        self.pods = StageRunner(ctx, "pods", self.pod_stages(), "kubelet")
        self.nodes = StageRunner(ctx, "nodes", self.node_stages(), "kubelet-nodes")
        self._ips = 0

    def poke_node(self, node: str) -> None:
        """Re-evaluate every pod on ``node`` (its readiness changed)."""
        index = self.access.store.table(self.pods.resource).field_index["spec.nodeName"]
        for stored in sorted(index.get(node, ()), key=lambda s: (s.namespace, s.name)):
            self.pods.enqueue((stored.namespace, stored.name))

    # -- predicates --------------------------------------------------------------

    def _node_alive(self, pod: JsonObj) -> bool:
        node = pod.get("spec", {}).get("nodeName")
        return bool(node) and node not in self.ctx.not_ready_nodes

    def crashes(self, pod: JsonObj) -> bool:
        if _annotation(pod, CRASH_ANNOTATION) == "true":
            return True
        labels = pod["metadata"].get("labels") or {}
        return any(
            all(labels.get(k) == v for k, v in rule.items()) for rule in self.config.crash_rules
        )

    # -- pod stages --------------------------------------------------------------

    def pod_stages(self) -> list[Stage]:
        cfg = self.config

        def phase(p: JsonObj) -> str:
            value: str = p.get("status", {}).get("phase") or "Pending"
            return value

        def terminating(p: JsonObj) -> bool:
            return bool(p["metadata"].get("deletionTimestamp")) and (
                not p.get("spec", {}).get("nodeName") or self._node_alive(p)
            )

        def live(p: JsonObj) -> bool:
            return not bool(p["metadata"].get("deletionTimestamp")) and self._node_alive(p)

        def run_to_completion(p: JsonObj) -> bool:
            return bool(p.get("spec", {}).get("restartPolicy", "Always") != "Always")

        def fixed_or(key: str, dist: Any) -> Any:
            def delay(p: JsonObj, rng: random.Random) -> float:
                value = _annotation(p, key)
                sampled: float = dist.sample(rng)
                return float(value) if value is not None else sampled

            return delay

        def crash_delay(p: JsonObj, rng: random.Random) -> float:
            restarts = max(
                (
                    c.get("restartCount", 0)
                    for c in p.get("status", {}).get("containerStatuses") or ()
                ),
                default=0,
            )
            if restarts == 0:
                return cfg.crash_after
            return float(min(cfg.crash_backoff_base * 2 ** (restarts - 1), cfg.crash_backoff_cap))

        def termination_delay(p: JsonObj, rng: random.Random) -> float:
            grace = float(p["metadata"].get("deletionGracePeriodSeconds") or 0)
            return min(grace, cfg.termination_latency.sample(rng))

        return [
            Stage("terminate", terminating, termination_delay, self._terminate),
            Stage(
                "crash",
                lambda p: live(p) and phase(p) == "Running" and self.crashes(p),
                crash_delay,
                self._crash,
                steady=True,
            ),
            Stage(
                "complete",
                lambda p: live(p) and phase(p) == "Running" and run_to_completion(p),
                fixed_or(RUN_SECONDS_ANNOTATION, cfg.job_run_seconds),
                self._complete,
            ),
            Stage(
                "ready",
                lambda p: live(p) and phase(p) == "Running" and not is_true(p, "Ready"),
                fixed_or(READY_SECONDS_ANNOTATION, cfg.ready_latency),
                self._ready,
            ),
            Stage(
                "start",
                lambda p: live(p) and phase(p) == "Pending",
                fixed_or(START_SECONDS_ANNOTATION, cfg.start_latency),
                self._start,
            ),
        ]

    def _event(self, pod: JsonObj, reason: str, message: str, type: str = "Normal") -> None:
        if self.config.kubelet_events:
            self.recorder.record(
                pod, reason, message, type, "kubelet", pod.get("spec", {}).get("nodeName", "")
            )

    def _terminate(self, pod: JsonObj) -> None:
        for c in pod.get("spec", {}).get("containers") or ():
            self._event(pod, "Killing", f"Stopping container {c.get('name')}")
        with contextlib.suppress(ApiError):
            self.access.delete(
                self.pods.resource, pod["metadata"]["namespace"], pod["metadata"]["name"], grace=0
            )

    def _start(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        spec = pod.get("spec", {})
        status = pod.setdefault("status", {})
        self._ips += 1
        status["phase"] = "Running"
        status["hostIP"] = _node_ip(spec.get("nodeName", ""))
        status["hostIPs"] = [{"ip": status["hostIP"]}]
        status["podIP"] = f"10.244.{(self._ips // 250) % 250}.{self._ips % 250 + 2}"
        status["podIPs"] = [{"ip": status["podIP"]}]
        status["startTime"] = now
        status["qosClass"] = status.get("qosClass") or "BestEffort"
        set_condition(pod, "PodReadyToStartContainers", "True", now)
        set_condition(pod, "Initialized", "True", now)
        _containers_not_ready(pod, now)
        set_condition(pod, "PodScheduled", "True", now)
        status["containerStatuses"] = [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "imageID": f"docker.io/library/{c.get('image', '')}@sha256:{'0' * 64}",
                "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}{i}",
                "ready": False,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
                "lastState": {},
            }
            for i, c in enumerate(spec.get("containers") or ())
        ]
        self.access.update_status(self.pods.resource, pod)
        for c in spec.get("containers") or ():
            name, image = c.get("name"), c.get("image")
            self._event(pod, "Pulled", f'Container image "{image}" already present on machine')
            self._event(pod, "Created", f"Created container {name}")
            self._event(pod, "Started", f"Started container {name}")

    def _ready(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        for cs in pod.get("status", {}).get("containerStatuses") or ():
            cs["ready"] = True
        set_condition(pod, "Ready", "True", now)
        set_condition(pod, "ContainersReady", "True", now)
        self.access.update_status(self.pods.resource, pod)

    def _crash(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        for cs in pod.get("status", {}).get("containerStatuses") or ():
            started = (cs.get("state", {}).get("running") or {}).get("startedAt", now)
            cs["restartCount"] = cs.get("restartCount", 0) + 1
            cs["ready"] = False
            cs["started"] = False
            cs["lastState"] = {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": cs.get("containerID", ""),
                }
            }
            cs["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off restarting failed container={cs['name']} "
                    f"pod={pod['metadata']['name']}",
                }
            }
        _containers_not_ready(pod, now)
        self.access.update_status(self.pods.resource, pod)
        for cs in pod.get("status", {}).get("containerStatuses") or ():
            self._event(
                pod,
                "BackOff",
                f"Back-off restarting failed container {cs['name']} in pod "
                f"{pod['metadata']['name']}_{pod['metadata']['namespace']}",
                WARNING,
            )

    def _complete(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        code = int(_annotation(pod, EXIT_CODE_ANNOTATION) or 0)
        status = pod["status"]
        status["phase"] = "Succeeded" if code == 0 else "Failed"
        for cs in status.get("containerStatuses") or ():
            started = (cs.get("state", {}).get("running") or {}).get("startedAt", now)
            cs["ready"] = False
            cs["started"] = False
            cs["state"] = {
                "terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": cs.get("containerID", ""),
                }
            }
        reason = "PodCompleted" if code == 0 else "PodFailed"
        set_condition(pod, "Ready", "False", now, reason)
        set_condition(pod, "ContainersReady", "False", now, reason)
        self.access.update_status(self.pods.resource, pod)

    # -- node stages -------------------------------------------------------------

    def node_stages(self) -> list[Stage]:
        return [
            Stage(
                "initialize",
                lambda n: condition(n, "Ready") is None,
                lambda n, r: 0.0,
                self._init_node,
            ),
        ]

    def _init_node(self, node: JsonObj) -> None:
        now = self.access.timestamp()
        shape = self.config.node_shape
        status = node.setdefault("status", {})
        capacity = status.setdefault("capacity", {})
        capacity.setdefault("cpu", shape.cpu)
        capacity.setdefault("memory", shape.memory)
        capacity.setdefault("pods", str(shape.pods))
        capacity.setdefault("ephemeral-storage", "100Gi")
        status.setdefault("allocatable", dict(capacity))
        name = node["metadata"]["name"]
        status.setdefault("addresses", node_addresses(name))
        status.setdefault("nodeInfo", dict(NODE_INFO))
        labels = node["metadata"].setdefault("labels", {})
        labels.setdefault("kubernetes.io/hostname", name)
        labels.setdefault("kubernetes.io/os", "linux")
        labels.setdefault("kubernetes.io/arch", "amd64")
        status["conditions"] = []
        for type, reason in _PRESSURE_REASONS.items():
            set_condition(node, type, "False", now, reason)
            condition(node, type)["lastHeartbeatTime"] = now  # type: ignore[index]
        set_condition(node, "Ready", "True", now, "KubeletReady", "kubelet is posting ready status")
        condition(node, "Ready")["lastHeartbeatTime"] = now  # type: ignore[index]
        for c in status["conditions"]:
            c.pop("lastProbeTime", None)
        if labels != (self.access.get(self.nodes.resource, "", name) or {}).get("metadata", {}).get(
            "labels"
        ):
            node = {**self.access.update(self.nodes.resource, node), "status": status}
        self.access.update_status(self.nodes.resource, node)


_PRESSURE_REASONS = {
    "MemoryPressure": "KubeletHasSufficientMemory",
    "DiskPressure": "KubeletHasNoDiskPressure",
    "PIDPressure": "KubeletHasSufficientPID",
}


NODE_INFO = {
    "architecture": "amd64",
    "operatingSystem": "linux",
    "kubeletVersion": "v1.33.0",
    "kubeProxyVersion": "",
    "containerRuntimeVersion": "containerd://1.7.0",
    "kernelVersion": "6.1.0",
    "osImage": "windtunnel",
    "machineID": "",
    "systemUUID": "",
    "bootID": "",
}
"""What a simulated kubelet reports; every field the official client requires is set."""


def node_addresses(name: str) -> list[dict[str, str]]:
    """A node's InternalIP and Hostname addresses, as its kubelet reports them."""
    return [
        {"type": "InternalIP", "address": _node_ip(name)},
        {"type": "Hostname", "address": name},
    ]


def _node_ip(name: str) -> str:
    n = (
        sum(name.encode())
        if not name[-1:].isdigit()
        else int("".join(ch for ch in name if ch.isdigit())[-4:] or 0)
    )
    return f"172.18.{(n // 250) % 250}.{n % 250 + 2}"


def _containers_not_ready(pod: JsonObj, now: str) -> None:
    """Ready and ContainersReady False, as the kubelet reports a pod whose containers are not."""
    for condition in ("Ready", "ContainersReady"):
        set_condition(
            pod, condition, "False", now, "ContainersNotReady", "containers with unready status"
        )
