"""Readiness and liveness probes: when they pass, and which pods fail them.

The simulated kubelet does not run probe handlers; it knows *when* a probe would
report, from the probe's timing, and *whether* it passes, from failure rules.

Timing follows kube's prober worker: the first probe runs when the container starts,
then one every ``periodSeconds``; a probe before ``initialDelaySeconds`` is skipped.
So a passing readiness probe makes the container ready at the first period tick at or
after the initial delay, plus ``successThreshold - 1`` periods; a failing probe counts
from the first tick at or after it began failing, and acts (unready, or a liveness
kill) at the ``failureThreshold``-th failure. Unset fields take kube's defaults:
initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1,
failureThreshold 3.

A :class:`ProbeFailure` names the pods whose readiness or liveness probe fails: one
pod, the pods of a Deployment, pods with some labels, and of those a seeded share
(each pod is in or out by a hash of the seed, the rule's label and the pod's name, so a
run is repeatable). Rules come from the scenario profile (``cluster.probe_failures``)
or are added at run time::

    sim.probes.fail_readiness(deployment="api", namespace="default")
    sim.probes.fail_liveness(pod="worker-0", share=1.0)
    sim.probes.remove(rule)                     # the probe passes again

A probe only fails where the container has one: a rule for pods without a
readinessProbe changes nothing (such a container is ready as soon as it runs).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

JsonObj = dict[str, Any]
ProbeKind = Literal["readiness", "liveness"]

HASH_LABEL = "pod-template-hash"


@dataclass(frozen=True)
class ProbeTiming:
    """A probe's schedule, with kube's defaults for unset fields."""

    initial_delay: float = 0.0
    period: float = 10.0
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def of(cls, probe: JsonObj) -> ProbeTiming:
        def number(key: str, default: float, low: float) -> float:
            value = probe.get(key)
            return float(value) if isinstance(value, int | float) and value >= low else default

        return cls(
            initial_delay=number("initialDelaySeconds", 0.0, 0),
            period=number("periodSeconds", 10.0, 1),
            success_threshold=int(number("successThreshold", 1, 1)),
            failure_threshold=int(number("failureThreshold", 3, 1)),
        )

    def first_probe(self) -> float:
        """Seconds after the container starts of the first probe that is not skipped."""
        return math.ceil(self.initial_delay / self.period - 1e-9) * self.period

    def tick_at(self, started: float, since: float) -> float:
        """The first probe (not skipped) at or after ``since``, for a container started then."""
        first = started + self.first_probe()
        if since > first:
            first += math.ceil((since - first) / self.period - 1e-9) * self.period
        return first

    def passes_at(self, started: float, since: float) -> float:
        """When a probe passing from ``since`` on reaches its success threshold."""
        return self.tick_at(started, since) + (self.success_threshold - 1) * self.period

    def fails_at(self, started: float, since: float) -> float:
        """When a probe failing from ``since`` on reaches its failure threshold."""
        return self.tick_at(started, since) + (self.failure_threshold - 1) * self.period


def failure_output(probe: JsonObj, pod_ip: str) -> str:
    """What kube's prober reports for a failing probe of this handler type."""
    if "httpGet" in probe:
        return "HTTP probe failed with statuscode: 503"
    if "tcpSocket" in probe:
        port = (probe.get("tcpSocket") or {}).get("port", "")
        return f"dial tcp {pod_ip}:{port}: connect: connection refused"
    if "grpc" in probe:
        port = (probe.get("grpc") or {}).get("port", "")
        return f'timeout: failed to connect service ":{port}" within 1s'
    return ""  # exec: the command's output, empty here


@dataclass
class ProbeFailure:
    """The pods (and containers) whose ``probe`` fails (see module docstring).

    Every given field must match: ``namespace``; ``pod`` (a name); ``deployment`` (the
    pods of its ReplicaSets); ``labels`` (each pair); ``container`` (a name; unset:
    every container that has such a probe). ``share`` of the matching pods fail, chosen
    by a seeded hash. ``message`` replaces the probe's failure output. ``since`` is the
    cluster-clock time the probe began failing (rules added at run time).
    """

    probe: ProbeKind = "readiness"
    namespace: str | None = None
    pod: str | None = None
    deployment: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    container: str | None = None
    share: float = 1.0
    message: str | None = None
    label: str = ""
    since: float = 0.0

    def __post_init__(self) -> None:
        if self.probe not in ("readiness", "liveness"):
            raise ValueError(f"probe {self.probe!r} must be 'readiness' or 'liveness'")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"share {self.share} must be between 0 and 1")

    def selects(self, pod: JsonObj, seed: int) -> bool:
        """Whether this rule applies to ``pod`` (any container)."""
        meta = pod["metadata"]
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        if self.pod is not None and meta.get("name") != self.pod:
            return False
        labels = meta.get("labels") or {}
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        if self.deployment is not None and not _owned_by_deployment(pod, self.deployment):
            return False
        return self.share >= 1.0 or _fraction(seed, self.label, pod) < self.share


def _owned_by_deployment(pod: JsonObj, deployment: str) -> bool:
    """A Deployment's pods are owned by its ReplicaSet ``<deployment>-<pod-template-hash>``."""
    meta = pod["metadata"]
    rs_name = f"{deployment}-{(meta.get('labels') or {}).get(HASH_LABEL, '')}"
    return any(
        ref.get("kind") == "ReplicaSet" and ref.get("name") == rs_name
        for ref in meta.get("ownerReferences") or ()
    )


def _fraction(seed: int, label: str, pod: JsonObj) -> float:
    meta = pod["metadata"]
    key = f"{seed}-{label}-{meta.get('namespace', '')}/{meta.get('name', '')}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64


class ProbeFaults:
    """The probe failure rules of one cluster, and the run-time way to change them.

    ``now`` is the cluster clock (a rule added now fails from now on); ``changed`` asks
    the kubelet to look at every pod again.
    """

    def __init__(
        self,
        rules: list[ProbeFailure],
        seed: int = 0,
        now: Callable[[], float] = lambda: 0.0,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.rules = rules
        self.seed = seed
        self.now = now
        self.changed = changed
        self._count = 0
        for rule in rules:
            self._name(rule)

    def _name(self, rule: ProbeFailure) -> None:
        self._count += 1
        if not rule.label:
            rule.label = f"probe-{self._count}"

    def fail(self, probe: ProbeKind = "readiness", **match: Any) -> ProbeFailure:
        """Make ``probe`` fail for the pods ``match`` selects (:class:`ProbeFailure` fields)."""
        rule = ProbeFailure(probe=probe, **match)
        self._name(rule)
        rule.since = self.now()
        self.rules.append(rule)
        self.changed()
        return rule

    def fail_readiness(self, **match: Any) -> ProbeFailure:
        return self.fail("readiness", **match)

    def fail_liveness(self, **match: Any) -> ProbeFailure:
        return self.fail("liveness", **match)

    def remove(self, rule: ProbeFailure) -> None:
        """The probes ``rule`` failed pass again."""
        self.rules.remove(rule)
        self.changed()

    def clear(self) -> None:
        self.rules.clear()
        self.changed()

    def failing(self, pod: JsonObj, container: JsonObj, kind: ProbeKind) -> ProbeFailure | None:
        """The rule that fails ``container``'s ``kind`` probe, or None (it passes, or has none)."""
        if not self.rules or not container.get(f"{kind}Probe"):
            return None
        name = container.get("name")
        for rule in list(self.rules):
            if (
                rule.probe == kind
                and (rule.container is None or rule.container == name)
                and rule.selects(pod, self.seed)
            ):
                return rule
        return None
