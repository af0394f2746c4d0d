"""SLO gates: a profile's ``load.slos`` checked against what a run measured.

Each declared objective gives one :class:`SloResult`; a breach's message names the
SLO, its target and the measured value, which is what ``windtunnel load`` prints
before it exits non-zero, and what BR-WORKFLOW-038's scenario reports::

    SLO p95_completion_ms breached: measured 812 ms, target ≤ 500 ms

An objective with nothing to measure (p95 of a run in which no execution ended) is a
breach too: a gate that passes on no evidence is no gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from loadtests.stats import Measurement
from scenarios.schema import LoadSlos

Comparison = Literal["max", "min"]

# name: (the Measurement field, comparison, unit)
_SLOS: dict[str, tuple[str, Comparison, str]] = {
    "p95_completion_ms": ("p95_completion_ms", "max", "ms"),
    "max_failure_ratio": ("failure_ratio", "max", ""),
    "min_executions_per_s": ("executions_per_s", "min", "/s"),
}


@dataclass(frozen=True)
class SloResult:
    name: str
    target: float
    measured: float | None
    comparison: Comparison
    unit: str
    passed: bool

    def describe(self, value: float | None) -> str:
        if value is None:
            return "nothing (no execution ended)"
        text = _number(value)
        return f"{text} {self.unit}".rstrip() if self.unit != "/s" else f"{text}/s"

    @property
    def target_text(self) -> str:
        sign = "≤" if self.comparison == "max" else "≥"
        return f"{sign} {self.describe(self.target)}"

    def message(self) -> str:
        verdict = "met" if self.passed else "breached"
        return (
            f"SLO {self.name} {verdict}: measured {self.describe(self.measured)}, "
            f"target {self.target_text}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message()}


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1e-3:
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return f"{value:.2e}"


def check_slos(slos: LoadSlos, measured: Measurement) -> list[SloResult]:
    """One result per objective the profile declares, in the schema's order."""
    results = []
    for name, (field, comparison, unit) in _SLOS.items():
        target = getattr(slos, name)
        if target is None:
            continue
        value = getattr(measured, field)
        if value is None:
            passed = False
        elif comparison == "max":
            passed = value <= target
        else:
            passed = value >= target
        results.append(SloResult(name, float(target), value, comparison, unit, passed))
    return results
