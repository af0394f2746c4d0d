"""Knobs of the simulated controllers: latencies, capacities, crash, image and probe rules.

Latencies are :class:`Delay` distributions sampled from seeded streams, so a run is
repeatable for a seed and still varied across pods. Defaults are small (about a
second from bind to Ready) so the HTTP mode feels like a fast real cluster; under
virtual time they cost nothing anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.images import ImageRule
from fakes.kube.controllers.probes import ProbeFailure

if TYPE_CHECKING:
    import random

JsonObj = dict[str, Any]

CRASH_ANNOTATION = "windtunnel.io/crash-loop"
"""Pod (template) annotation: ``"true"`` makes its containers crash after starting."""
RUN_SECONDS_ANNOTATION = "windtunnel.io/run-seconds"
"""Pod annotation: how long a run-to-completion pod (Job pod) runs before exiting."""
EXIT_CODE_ANNOTATION = "windtunnel.io/exit-code"
"""Pod annotation: exit code of a run-to-completion pod (non-zero fails it)."""
START_SECONDS_ANNOTATION = "windtunnel.io/start-seconds"
"""Pod annotation: fixed bind-to-Running latency, overriding the distribution."""
READY_SECONDS_ANNOTATION = "windtunnel.io/ready-seconds"
"""Pod annotation: fixed Running-to-Ready latency, overriding the distribution."""


@dataclass(frozen=True)
class Delay:
    """A latency distribution in seconds: fixed, uniform, or log-normal-ish with a cap."""

    low: float = 0.0
    high: float | None = None
    kind: str = "uniform"

    @classmethod
    def fixed(cls, seconds: float) -> Delay:
        return cls(seconds, seconds, "fixed")

    @classmethod
    def uniform(cls, low: float, high: float) -> Delay:
        return cls(low, high, "uniform")

    @classmethod
    def exponential(cls, mean: float, cap: float) -> Delay:
        return cls(mean, cap, "exponential")

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed" or self.high is None:
            return self.low
        if self.kind == "exponential":
            return min(rng.expovariate(1.0 / self.low) if self.low > 0 else 0.0, self.high)
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class NodeShape:
    """Capacity of a simulated node."""

    cpu: str = "4"
    memory: str = "16Gi"
    pods: int = 110
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class SimulationConfig:
    """Everything the controllers can be tuned with (see module docstring)."""

    start_latency: Delay = field(default_factory=lambda: Delay.uniform(0.3, 1.0))
    ready_latency: Delay = field(default_factory=lambda: Delay.uniform(0.1, 0.5))
    termination_latency: Delay = field(default_factory=lambda: Delay.uniform(0.2, 1.0))
    job_run_seconds: Delay = field(default_factory=lambda: Delay.uniform(2.0, 5.0))
    crash_after: float = 1.0
    crash_backoff_base: float = 10.0
    crash_backoff_cap: float = 300.0
    crash_rules: list[dict[str, str]] = field(default_factory=list)
    """Label sets: a pod whose labels include every pair of one rule crash-loops."""
    unpullable_images: list[ImageRule] = field(default_factory=list)
    """Images whose pulls fail (``fakes.kube.controllers.images``); ``sim.images`` at run time."""
    image_backoff_base: float = 10.0
    image_backoff_cap: float = 300.0
    pull_error_seconds: float = 1.0
    """How long a failed pull shows ErrImagePull before the next sync says ImagePullBackOff."""
    probe_failures: list[ProbeFailure] = field(default_factory=list)
    """Pods whose readiness or liveness probes fail (``fakes.kube.controllers.probes``);
    ``sim.probes`` at run time."""
    node_eviction_grace: float | None = None
    """Seconds before pods on a NotReady node are evicted; ``None`` follows each pod's
    NoExecute tolerationSeconds (300 by default), like taint-based eviction."""
    node_shape: NodeShape = field(default_factory=NodeShape)
    kubelet_events: bool = True
    """Pulled/Created/Started/Killing events; switch off for very large clusters."""
