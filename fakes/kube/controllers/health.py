"""Readiness and liveness as the kubelet reports them: when containers become ready,
stop being ready, or are killed and restarted.

Stage logic for the kubelet's ``ready``, ``unready``, ``readiness-failing``,
``liveness`` and ``restart`` stages (``kubelet.py``); probe timing and the failure
rules are ``probes.py``'s. In short, for a running container:

* no readinessProbe: ready after the readiness latency (``SimulationConfig.ready_latency``,
  or the ``windtunnel.io/ready-seconds`` annotation), as before probes were modelled;
* a passing readinessProbe: ready at the probe's first passing tick
  (``initialDelaySeconds``/``periodSeconds``/``successThreshold``);
* a failing readinessProbe: never ready (the pod Running, Ready False with
  ``ContainersNotReady``), an ``Unhealthy`` event each period; a ready container whose
  probe starts failing is unready at the ``failureThreshold``-th failure;
* a failing livenessProbe: killed at the ``failureThreshold``-th failure (``Unhealthy``,
  ``Killing``; exit code 137), restartCount+1, CrashLoopBackOff for the crash-loop
  back-off (10 s doubling to 300 s), then running again -- and killed again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.conditions import containers_not_ready, set_containers_ready
from fakes.kube.controllers.config import READY_SECONDS_ANNOTATION
from fakes.kube.controllers.containers import (
    CRASH_LOOP_BACK_OFF,
    LIVENESS_EXIT_CODE,
    annotation,
    back_off_event,
    is_running,
    killed,
    restarted,
    statuses,
    waiting_reason,
)
from fakes.kube.controllers.events import WARNING
from fakes.kube.controllers.probes import ProbeTiming, failure_output

if TYPE_CHECKING:
    import random

    from fakes.kube.controllers.kubelet import Kubelet
    from fakes.kube.controllers.probes import ProbeFailure, ProbeKind

JsonObj = dict[str, Any]
Failing = list[tuple[JsonObj, JsonObj, "ProbeFailure"]]
"""(container status, container spec, the rule failing its probe)."""

_EPSILON = 1e-6

_TITLES = {"readiness": "Readiness", "liveness": "Liveness"}


class PodHealth:
    """The probe-driven part of one kubelet (see module docstring)."""

    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet
        self._killed: dict[str, dict[str, float]] = {}
        self._reported: dict[str, float] = {}

    def forget(self, uid: str) -> None:
        self._killed.pop(uid, None)
        self._reported.pop(uid, None)

    def _specs(self, pod: JsonObj) -> dict[str, JsonObj]:
        return {c.get("name", ""): c for c in pod.get("spec", {}).get("containers") or ()}

    def _failing(self, pod: JsonObj, kind: ProbeKind, test: Any) -> Failing:
        probes = self.kubelet.probes
        if not probes.rules:
            return []
        specs = self._specs(pod)
        found: Failing = []
        for cs in statuses(pod):
            if not test(cs):
                continue
            spec = specs.get(cs.get("name", ""), {})
            rule = probes.failing(pod, spec, kind)
            if rule is not None:
                found.append((cs, spec, rule))
        return found

    def _unhealthy(self, pod: JsonObj, kind: ProbeKind, spec: JsonObj, rule: ProbeFailure) -> None:
        probe = spec.get(f"{kind}Probe") or {}
        output = rule.message
        if output is None:
            output = failure_output(probe, pod.get("status", {}).get("podIP", ""))
        self.kubelet.event(pod, "Unhealthy", f"{_TITLES[kind]} probe failed: {output}", WARNING)

    def _fails_at(self, pod: JsonObj, kind: ProbeKind, item: tuple[JsonObj, JsonObj, Any]) -> float:
        cs, spec, rule = item
        timing = ProbeTiming.of(spec.get(f"{kind}Probe") or {})
        return timing.fails_at(self.kubelet.started(pod, cs), rule.since)

    def _delay_until(self, times: list[float]) -> float:
        now = self.kubelet.access.now()
        return max(0.0, min(times, default=now) - now)

    # -- ready -------------------------------------------------------------------

    def readying(self, pod: JsonObj) -> bool:
        """Some running container is not ready and nothing fails its readiness probe."""
        current = statuses(pod)
        if not current:
            return True  # written Running without container statuses: ready after the latency
        specs = self._specs(pod)
        probes = self.kubelet.probes
        return any(
            is_running(cs)
            and not cs.get("ready")
            and probes.failing(pod, specs.get(cs.get("name", ""), {}), "readiness") is None
            for cs in current
        )

    def ready_delay(self, pod: JsonObj, rng: random.Random) -> float:
        """The latest of the containers' ready times: their probe's first passing tick,
        or the readiness latency for one without a probe (the annotation overrides)."""
        kubelet = self.kubelet
        now = kubelet.access.now()
        specs = self._specs(pod)
        delays: list[float] = []
        latency = not statuses(pod)
        for cs in statuses(pod):
            spec = specs.get(cs.get("name", ""), {})
            if not is_running(cs) or cs.get("ready"):
                continue
            if kubelet.probes.failing(pod, spec, "readiness") is not None:
                continue
            probe = spec.get("readinessProbe")
            if probe:
                timing = ProbeTiming.of(probe)
                delays.append(timing.passes_at(kubelet.started(pod, cs), now) - now)
            else:
                latency = True
        if latency:
            # Drawn whenever a container has no probe, the annotation or not, so the
            # seeded stream moves exactly as it did before probes were modelled.
            sampled: float = kubelet.config.ready_latency.sample(rng)
            delays.append(sampled)
        value = annotation(pod, READY_SECONDS_ANNOTATION)
        if value is not None:
            return float(value)
        return max([0.0, *delays])

    def ready(self, pod: JsonObj) -> None:
        kubelet = self.kubelet
        specs = self._specs(pod)
        for cs in statuses(pod):
            spec = specs.get(cs.get("name", ""), {})
            if is_running(cs) and kubelet.probes.failing(pod, spec, "readiness") is None:
                cs["ready"] = True
        set_containers_ready(pod, kubelet.access.timestamp())
        kubelet.write_status(pod)

    # -- readiness failures ------------------------------------------------------

    def readiness_failing(self, pod: JsonObj, ready: bool) -> Failing:
        """Running containers (ready or not, as asked) whose readiness probe fails."""
        return self._failing(
            pod, "readiness", lambda cs: is_running(cs) and bool(cs.get("ready")) == ready
        )

    def unready_delay(self, pod: JsonObj) -> float:
        failing = self.readiness_failing(pod, ready=True)
        return self._delay_until([self._fails_at(pod, "readiness", f) for f in failing])

    def unready(self, pod: JsonObj) -> None:
        now = self.kubelet.access.now()
        due = [
            f
            for f in self.readiness_failing(pod, ready=True)
            if self._fails_at(pod, "readiness", f) <= now + _EPSILON
        ]
        for cs, _, _ in due:
            cs["ready"] = False
        if due:
            self._reported[pod["metadata"].get("uid", "")] = now
        set_containers_ready(pod, self.kubelet.access.timestamp())
        self.kubelet.write_status(pod)
        for _, spec, rule in due:
            self._unhealthy(pod, "readiness", spec, rule)

    def next_probe(self, pod: JsonObj) -> float:
        """Seconds until the next probe of a container kept unready (after the last one)."""
        now = self.kubelet.access.now()
        last = self._reported.get(pod["metadata"].get("uid", ""))
        ticks = []
        for cs, spec, _ in self.readiness_failing(pod, ready=False):
            timing = ProbeTiming.of(spec.get("readinessProbe") or {})
            started = self.kubelet.started(pod, cs)
            tick = timing.tick_at(started, now)
            if last is not None and tick <= last + _EPSILON:
                tick = timing.tick_at(started, last + _EPSILON)
            ticks.append(tick)
        return self._delay_until(ticks)

    def readiness_failed(self, pod: JsonObj) -> None:
        """A probe of a container kept unready failed again: the kubelet records it."""
        self._reported[pod["metadata"].get("uid", "")] = self.kubelet.access.now()
        for _, spec, rule in self.readiness_failing(pod, ready=False):
            self._unhealthy(pod, "readiness", spec, rule)

    # -- liveness ----------------------------------------------------------------

    def liveness_failing(self, pod: JsonObj) -> Failing:
        return self._failing(pod, "liveness", is_running)

    def kill_delay(self, pod: JsonObj) -> float:
        failing = self.liveness_failing(pod)
        return self._delay_until([self._fails_at(pod, "liveness", f) for f in failing])

    def kill(self, pod: JsonObj) -> None:
        """Kill the containers whose liveness probe reached its failure threshold."""
        kubelet = self.kubelet
        now = kubelet.access.now()
        stamp = kubelet.access.timestamp()
        due = [
            f
            for f in self.liveness_failing(pod)
            if self._fails_at(pod, "liveness", f) <= now + _EPSILON
        ]
        uid = pod["metadata"].get("uid", "")
        for cs, _, _ in due:
            back_off = kubelet.back_off(cs.get("restartCount", 0) + 1)
            killed(pod, cs, stamp, LIVENESS_EXIT_CODE, "Error", back_off)
            self._killed.setdefault(uid, {})[cs["name"]] = now
        containers_not_ready(pod, stamp)
        kubelet.write_status(pod)
        for cs, spec, rule in due:
            name = cs["name"]
            self._unhealthy(pod, "liveness", spec, rule)
            kubelet.event(
                pod, "Killing", f"Container {name} failed liveness probe, will be restarted"
            )
            kubelet.event(pod, "BackOff", back_off_event(pod, name), WARNING)

    # -- restarts ----------------------------------------------------------------

    def _restart_at(self, pod: JsonObj, cs: JsonObj, now: float) -> float:
        killed_at = self._killed.get(pod["metadata"].get("uid", ""), {}).get(cs["name"], now)
        return killed_at + self.kubelet.back_off(max(1, cs.get("restartCount", 0)))

    def restarting(self, pod: JsonObj) -> bool:
        return any(waiting_reason(cs) == CRASH_LOOP_BACK_OFF for cs in statuses(pod))

    def restart_delay(self, pod: JsonObj) -> float:
        now = self.kubelet.access.now()
        return self._delay_until(
            [
                self._restart_at(pod, cs, now)
                for cs in statuses(pod)
                if waiting_reason(cs) == CRASH_LOOP_BACK_OFF
            ]
        )

    def restart(self, pod: JsonObj) -> None:
        """Start again the containers whose back-off ended."""
        kubelet = self.kubelet
        now = kubelet.access.now()
        stamp = kubelet.access.timestamp()
        specs = self._specs(pod)
        due = [
            cs
            for cs in statuses(pod)
            if waiting_reason(cs) == CRASH_LOOP_BACK_OFF
            and self._restart_at(pod, cs, now) <= now + _EPSILON
        ]
        for cs in due:
            restarted(cs, stamp)
            kubelet.mark_started(pod, cs["name"], now)
        containers_not_ready(pod, stamp)
        kubelet.write_status(pod)
        for cs in due:
            name, image = cs["name"], specs.get(cs["name"], {}).get("image", "")
            kubelet.event(pod, "Pulled", f'Container image "{image}" already present on machine')
            kubelet.event(pod, "Created", f"Created container {name}")
            kubelet.event(pod, "Started", f"Started container {name}")
