"""BR-WORKFLOW-038 in the requirement report: measured value against target, and a gate.

The feature is run by pytest in a child process on a reports folder prepared here, so
the rule is exercised as the suite runs it: a recorded run of the current code (same
fingerprint) is judged without a new run; a breached SLO fails the requirement with
the SLO, target and measured value; a record of other code is not judged, a short run
is made instead.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests.history import append_run, fingerprint, read_runs
from scenarios import load_profile
from tests.integration.loadtests.load_helpers import ROOT

pytestmark = pytest.mark.slow

SCENARIO = "loses_no_execution"


def recorded(p95: float) -> Any:
    passed = p95 <= 30000
    slos = [
        {"name": "p95_completion_ms", "target": 30000.0, "measured": p95, "comparison": "max",
         "unit": "ms", "passed": passed,
         "message": f"SLO p95_completion_ms {'met' if passed else 'breached'}: "
                    f"measured {p95:g} ms, target ≤ 30000 ms"},
        {"name": "max_failure_ratio", "target": 0.01, "measured": 0.0, "comparison": "max",
         "unit": "", "passed": True,
         "message": "SLO max_failure_ratio met: measured 0, target ≤ 0.01"},
        {"name": "min_executions_per_s", "target": 50.0, "measured": 812.0,
         "comparison": "min", "unit": "/s", "passed": True,
         "message": "SLO min_executions_per_s met: measured 812/s, target ≥ 50/s"},
    ]  # fmt: skip
    return {
        "run_id": "20260101T000000Z-abcdef",
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:05:00+00:00",
        "git_commit": None,
        "fingerprint": fingerprint(load_profile("HighLoadProduction")),
        "profile": "HighLoadProduction",
        "mode": "inprocess",
        "role": "local",
        "processes": 1,
        "shape": {},
        "users_peak": 200,
        "measurement": {"submit_requests": 1000, "submit_failures": 0},
        "slos": slos,
        "slo_passed": passed,
        "ledger": {"submitted": 1000, "terminal": 1000, "unfinished": [], "stores": [], "lost": 0},
        "no_loss": True,
        "passed": passed,
        "run_dir": "/nowhere/20260101T000000Z-abcdef",
    }


def run_feature(reports: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "features"), "-k", SCENARIO, "-q",
         "-p", "no:randomly", "-p", "no:cacheprovider", "--windtunnel-reports", str(reports)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    report = json.loads((reports / "requirements.json").read_text())
    [requirement] = [r for r in report["requirements"] if r["id"] == "BR-WORKFLOW-038"]
    return done, requirement


def steps(requirement: dict[str, Any]) -> list[str]:
    [scenario] = requirement["scenarios"]
    return [f"{s['status']}: {s['name']}" for s in scenario["steps"]]


def test_a_recorded_run_of_this_code_is_judged_and_shown_against_its_targets(
    tmp_path: Path,
) -> None:
    append_run(tmp_path / "load", recorded(812.0))
    done, requirement = run_feature(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert requirement["current_status"] == "passed"
    assert steps(requirement)[1:] == [
        "passed: the load run's p95 completion latency meets its SLO: measured 812 ms, "
        "target ≤ 30000 ms (run 20260101T000000Z-abcdef, "
        "/nowhere/20260101T000000Z-abcdef/summary.md)",
        "passed: the load run's failure ratio meets its SLO: measured 0, target ≤ 0.01 "
        "(run 20260101T000000Z-abcdef, /nowhere/20260101T000000Z-abcdef/summary.md)",
        "passed: the load run's throughput meets its SLO: measured 812/s, target ≥ 50/s "
        "(run 20260101T000000Z-abcdef, /nowhere/20260101T000000Z-abcdef/summary.md)",
        "passed: the load run lost no execution: 1000 submitted, 1000 terminal, "
        "1000 acknowledged (run 20260101T000000Z-abcdef)",
    ]
    assert len(read_runs(tmp_path / "load")) == 1  # judged, not re-run


def test_a_breached_slo_fails_the_requirement_naming_slo_target_and_measure(
    tmp_path: Path,
) -> None:
    append_run(tmp_path / "load", recorded(45000.0))
    done, requirement = run_feature(tmp_path)
    assert done.returncode == 1
    assert requirement["current_status"] == "failed"
    [scenario] = requirement["scenarios"]
    assert scenario["failing_step"] == "Then the load run's p95 completion latency meets its SLO"
    assert scenario["error"].startswith(
        "SLO p95_completion_ms breached: measured 45000 ms, target ≤ 30000 ms"
    )
    assert steps(requirement)[1].startswith(
        "failed: the load run's p95 completion latency meets its SLO: measured 45000 ms, "
        "target ≤ 30000 ms"
    )


def test_a_lost_execution_fails_the_requirement(tmp_path: Path) -> None:
    record = recorded(812.0)
    record["ledger"] = {**record["ledger"], "terminal": 999, "lost": 1, "unfinished": ["x-1"]}
    record["no_loss"] = False
    append_run(tmp_path / "load", record)
    done, requirement = run_feature(tmp_path)
    assert done.returncode == 1
    [scenario] = requirement["scenarios"]
    assert scenario["error"].startswith(
        "run 20260101T000000Z-abcdef lost executions: 1000 in the store(s), 999 terminal"
    )


def test_a_record_of_other_code_is_not_judged_a_short_run_is_made(tmp_path: Path) -> None:
    stale = copy.deepcopy(recorded(45000.0))  # would fail, were it judged
    stale["fingerprint"] = "0000000000000000"
    append_run(tmp_path / "load", stale)
    done, requirement = run_feature(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert requirement["current_status"] == "passed"
    runs = read_runs(tmp_path / "load")
    assert len(runs) == 2
    assert runs[-1]["fingerprint"] == fingerprint(load_profile("HighLoadProduction"))
    assert runs[-1]["run_id"] in steps(requirement)[1]
