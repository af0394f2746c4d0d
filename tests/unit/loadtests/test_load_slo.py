"""SLO gates: a breach names the SLO, its target and the measured value."""

from __future__ import annotations

from dataclasses import replace

from loadtests.slo import check_slos
from loadtests.stats import Measurement
from scenarios.schema import LoadSlos

RUN = Measurement(
    duration_s=10.0,
    submit_requests=1000,
    submit_failures=2,
    completions=990,
    completion_failures=3,
    executions_per_s=99.0,
    failure_ratio=0.005,
    p50_completion_ms=40.0,
    p95_completion_ms=812.0,
    p99_completion_ms=1500.0,
    p95_submit_ms=9.0,
    submits_per_s=99.8,
)


def test_every_declared_slo_is_checked_and_undeclared_ones_are_not() -> None:
    results = check_slos(LoadSlos(p95_completion_ms=1000, min_executions_per_s=50), RUN)
    assert [(r.name, r.passed) for r in results] == [
        ("p95_completion_ms", True),
        ("min_executions_per_s", True),
    ]
    assert check_slos(LoadSlos(), RUN) == []


def test_a_breach_names_the_slo_the_target_and_the_measured_value() -> None:
    slos = LoadSlos(p95_completion_ms=500, max_failure_ratio=0.001, min_executions_per_s=100)
    messages = [r.message() for r in check_slos(slos, RUN)]
    assert messages == [
        "SLO p95_completion_ms breached: measured 812 ms, target ≤ 500 ms",
        "SLO max_failure_ratio breached: measured 0.005, target ≤ 0.001",
        "SLO min_executions_per_s breached: measured 99/s, target ≥ 100/s",
    ]


def test_limits_are_inclusive() -> None:
    slos = LoadSlos(p95_completion_ms=812, max_failure_ratio=0.005, min_executions_per_s=99)
    assert all(r.passed for r in check_slos(slos, RUN))


def test_nothing_measured_is_a_breach_not_a_pass() -> None:
    empty = replace(RUN, p95_completion_ms=None, completions=0, executions_per_s=0.0)
    [result] = check_slos(LoadSlos(p95_completion_ms=1000), empty)
    assert not result.passed
    assert result.message() == (
        "SLO p95_completion_ms breached: measured nothing (no execution ended), target ≤ 1000 ms"
    )


def test_results_serialise_with_their_message() -> None:
    [result] = check_slos(LoadSlos(min_executions_per_s=1), RUN)
    data = result.as_dict()
    assert data["name"] == "min_executions_per_s"
    assert data["target"] == 1.0
    assert data["measured"] == 99.0
    assert data["message"] == "SLO min_executions_per_s met: measured 99/s, target ≥ 1/s"
