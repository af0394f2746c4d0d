"""The simulated kubelets: pod and node lifecycles declared as stages.

Pod stages, first match wins:

``terminate``  deletionTimestamp set → after min(grace, termination latency) the pod is
               removed (Killing event). Pods on a NotReady node stay Terminating, as
               with a real dead kubelet.
``image-pull`` Pending with a container waiting on its image → ImagePullBackOff, or a
               new pull when the back-off ends (``pulling.py``; steady).
``crash``      Running and configured to crash (annotation ``windtunnel.io/crash-loop``
               or a config crash rule) → restartCount+1, waiting CrashLoopBackOff,
               back-off 10 s doubling to 300 s (steady: does not block settle).
``restart``    a container in CrashLoopBackOff after a liveness kill → running again
               when its back-off ends (``health.py``; steady).
``complete``   Running, restartPolicy Never/OnFailure → Succeeded (or Failed with a
               non-zero ``windtunnel.io/exit-code``) after the run time.
``ready``      Running, a container not ready whose readiness passes → ready after its
               readinessProbe's schedule, or the readiness latency if it has none.
``liveness``   a running container failing its liveness probe → killed at the failure
               threshold, then CrashLoopBackOff (steady).
``unready``    a ready container whose readiness probe now fails → not ready at the
               failure threshold.
``readiness-failing``  a container kept unready by its probe → an ``Unhealthy`` event
               every period (steady; only with kubelet events on).
``start``      bound, Pending → Running after the start latency (Pulled/Created/Started),
               or Pending with ErrImagePull for an image that cannot be pulled.

Which images cannot be pulled and which probes fail are fault rules: ``images.py``
(``Kubelet.images``) and ``probes.py`` (``Kubelet.probes``).

Node stage ``initialize``: a node without a Ready condition gets capacity,
allocatable, nodeInfo and Ready=True at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.conditions import condition as condition
from fakes.kube.controllers.conditions import containers_not_ready
from fakes.kube.controllers.conditions import is_true as is_true
from fakes.kube.controllers.conditions import pod_ready as pod_ready
from fakes.kube.controllers.conditions import set_condition as set_condition
from fakes.kube.controllers.config import (
    CRASH_ANNOTATION,
    EXIT_CODE_ANNOTATION,
    RUN_SECONDS_ANNOTATION,
    START_SECONDS_ANNOTATION,
)
from fakes.kube.controllers.containers import (
    annotation,
    back_off_event,
    is_running,
    killed,
    started_at,
    statuses,
)
from fakes.kube.controllers.events import WARNING
from fakes.kube.controllers.health import PodHealth
from fakes.kube.controllers.images import Images
from fakes.kube.controllers.probes import ProbeFaults
from fakes.kube.controllers.pulling import ImagePuller
from fakes.kube.controllers.stages import Stage, StageRunner
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    import random

    from fakes.kube.controllers.base import Context

JsonObj = dict[str, Any]


class Kubelet:
    """Builds the pod and node stage runners for a simulation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.access = ctx.access
        self.recorder = ctx.recorder
        self.config = ctx.config
        self.images = Images(ctx.config.unpullable_images)
        self.probes = ProbeFaults(
            ctx.config.probe_failures, ctx.seed, self.access.now, self.refresh
        )
        self.puller = ImagePuller(self)
        self.health = PodHealth(self)
        self._started: dict[str, dict[str, float]] = {}
        self.pods = StageRunner(ctx, "pods", self.pod_stages(), "kubelet")
        self.nodes = StageRunner(ctx, "nodes", self.node_stages(), "kubelet-nodes")
        self._ips = 0

    def poke_node(self, node: str) -> None:
        """Re-evaluate every pod on ``node`` (its readiness changed)."""
        index = self.access.store.table(self.pods.resource).field_index["spec.nodeName"]
        for stored in sorted(index.get(node, ()), key=lambda s: (s.namespace, s.name)):
            self.pods.enqueue((stored.namespace, stored.name))

    def refresh(self) -> None:
        """Re-evaluate every pod (a probe rule changed); callable from another thread."""
        queue = self.pods.queue
        if queue is None:
            return
        try:
            here = asyncio.get_running_loop() is queue.loop
        except RuntimeError:
            here = False
        if here:
            self.pods.resync()
        else:
            queue.loop.call_soon_threadsafe(self.pods.resync)

    # -- what the container parts share ------------------------------------------

    def write_status(self, pod: JsonObj) -> None:
        self.access.update_status(self.pods.resource, pod)

    def mark_started(self, pod: JsonObj, container: str, when: float) -> None:
        self._started.setdefault(pod["metadata"].get("uid", ""), {})[container] = when

    def started(self, pod: JsonObj, cs: JsonObj) -> float:
        """When the container of status ``cs`` started (the cluster clock)."""
        when = self._started.get(pod["metadata"].get("uid", ""), {}).get(cs.get("name", ""))
        if when is None:
            when = started_at(cs)
        return self.access.now() if when is None else when

    def forget(self, pod: JsonObj) -> None:
        uid = pod["metadata"].get("uid", "")
        self._started.pop(uid, None)
        self.puller.forget(uid)
        self.health.forget(uid)

    # -- predicates --------------------------------------------------------------

    def _node_alive(self, pod: JsonObj) -> bool:
        node = pod.get("spec", {}).get("nodeName")
        return bool(node) and node not in self.ctx.not_ready_nodes

    def crashes(self, pod: JsonObj) -> bool:
        if annotation(pod, CRASH_ANNOTATION) == "true":
            return True
        labels = pod["metadata"].get("labels") or {}
        return any(
            all(labels.get(k) == v for k, v in rule.items()) for rule in self.config.crash_rules
        )

    def back_off(self, restarts: int) -> float:
        """The crash-loop back-off after ``restarts`` restarts: 10 s doubling to 300 s."""
        cfg = self.config
        return float(min(cfg.crash_backoff_base * 2 ** (restarts - 1), cfg.crash_backoff_cap))

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

        def running_pod(p: JsonObj) -> bool:
            return live(p) and phase(p) == "Running"

        def run_to_completion(p: JsonObj) -> bool:
            return bool(p.get("spec", {}).get("restartPolicy", "Always") != "Always")

        def fixed_or(key: str, dist: Any) -> Any:
            def delay(p: JsonObj, rng: random.Random) -> float:
                value = annotation(p, key)
                sampled: float = dist.sample(rng)
                return float(value) if value is not None else sampled

            return delay

        def crash_delay(p: JsonObj, rng: random.Random) -> float:
            restarts = max((c.get("restartCount", 0) for c in statuses(p)), default=0)
            if restarts == 0:
                return cfg.crash_after
            return self.back_off(restarts)

        def termination_delay(p: JsonObj, rng: random.Random) -> float:
            grace = float(p["metadata"].get("deletionGracePeriodSeconds") or 0)
            return min(grace, cfg.termination_latency.sample(rng))

        puller, health = self.puller, self.health
        return [
            Stage("terminate", terminating, termination_delay, self._terminate),
            Stage(
                "image-pull",
                lambda p: live(p) and phase(p) == "Pending" and puller.pulling(p),
                lambda p, r: puller.delay(p),
                puller.retry,
                steady=True,
            ),
            Stage(
                "crash",
                lambda p: running_pod(p) and self.crashes(p),
                crash_delay,
                self._crash,
                steady=True,
            ),
            Stage(
                "restart",
                lambda p: running_pod(p) and health.restarting(p),
                lambda p, r: health.restart_delay(p),
                health.restart,
                steady=True,
            ),
            Stage(
                "complete",
                lambda p: running_pod(p) and run_to_completion(p),
                fixed_or(RUN_SECONDS_ANNOTATION, cfg.job_run_seconds),
                self._complete,
            ),
            Stage(
                "ready",
                lambda p: running_pod(p) and not is_true(p, "Ready") and health.readying(p),
                lambda p, r: health.ready_delay(p, r),
                health.ready,
            ),
            Stage(
                "liveness",
                lambda p: running_pod(p) and bool(health.liveness_failing(p)),
                lambda p, r: health.kill_delay(p),
                health.kill,
                steady=True,
            ),
            Stage(
                "unready",
                lambda p: running_pod(p) and bool(health.readiness_failing(p, ready=True)),
                lambda p, r: health.unready_delay(p),
                health.unready,
            ),
            Stage(
                "readiness-failing",
                lambda p: (
                    cfg.kubelet_events
                    and running_pod(p)
                    and bool(health.readiness_failing(p, ready=False))
                ),
                lambda p, r: health.next_probe(p),
                health.readiness_failed,
                steady=True,
            ),
            Stage(
                "start",
                lambda p: live(p) and phase(p) == "Pending",
                fixed_or(START_SECONDS_ANNOTATION, cfg.start_latency),
                self._start,
            ),
        ]

    def event(self, pod: JsonObj, reason: str, message: str, type: str = "Normal") -> None:
        if self.config.kubelet_events:
            self.recorder.record(
                pod, reason, message, type, "kubelet", pod.get("spec", {}).get("nodeName", "")
            )

    def _terminate(self, pod: JsonObj) -> None:
        for c in pod.get("spec", {}).get("containers") or ():
            self.event(pod, "Killing", f"Stopping container {c.get('name')}")
        self.forget(pod)
        with contextlib.suppress(ApiError):
            self.access.delete(
                self.pods.resource, pod["metadata"]["namespace"], pod["metadata"]["name"], grace=0
            )

    def _start(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        spec = pod.get("spec", {})
        status = pod.setdefault("status", {})
        self._ips += 1
        status["hostIP"] = _node_ip(spec.get("nodeName", ""))
        status["hostIPs"] = [{"ip": status["hostIP"]}]
        status["podIP"] = f"10.244.{(self._ips // 250) % 250}.{self._ips % 250 + 2}"
        status["podIPs"] = [{"ip": status["podIP"]}]
        status["startTime"] = now
        status["qosClass"] = status.get("qosClass") or "BestEffort"
        # Each container's image is pulled (or found) and the container started; one
        # that cannot be pulled waits, and keeps the pod Pending (kube's getPhase).
        events: list[tuple[str, str, str]] = []
        status["containerStatuses"] = [
            self.puller.create(pod, i, c, now, events)
            for i, c in enumerate(spec.get("containers") or ())
        ]
        status["phase"] = "Running" if all(map(is_running, statuses(pod))) else "Pending"
        set_condition(pod, "PodReadyToStartContainers", "True", now)
        set_condition(pod, "Initialized", "True", now)
        containers_not_ready(pod, now)
        set_condition(pod, "PodScheduled", "True", now)
        self.access.update_status(self.pods.resource, pod)
        for reason, message, type in events:
            self.event(pod, reason, message, type)

    def _crash(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        for cs in statuses(pod):
            back_off = self.back_off(cs.get("restartCount", 0) + 1)
            killed(pod, cs, now, 1, "Error", back_off)
        containers_not_ready(pod, now)
        self.access.update_status(self.pods.resource, pod)
        for cs in statuses(pod):
            self.event(pod, "BackOff", back_off_event(pod, cs["name"]), WARNING)

    def _complete(self, pod: JsonObj) -> None:
        now = self.access.timestamp()
        code = int(annotation(pod, EXIT_CODE_ANNOTATION) or 0)
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
