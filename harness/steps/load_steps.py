"""Steps for the load SLOs (BR-WORKFLOW-038): a load run's result, gated on the profile.

The rule for which run a scenario judges: the latest run in the load history
(``<reports>/load/history/runs.jsonl``; ``<reports>`` is ``--windtunnel-reports``,
else ``$WINDTUNNEL_LOAD_REPORTS``, else ``reports/`` under the rootdir) of the profile
whose fingerprint (the engine's and the load tests' sources, the testbed, the resolved
profile: :func:`loadtests.history.fingerprint`) equals the current one. A run of
other code or settings does not count. When there is none, the step makes a short run
first: ``windtunnel load --mode inprocess --duration S`` in a subprocess (Locust never
runs in the pytest process), which records itself in the same history.

The report shows, on each SLO step, the measured value against the target: the steps
leave a note that :func:`pytest_runtest_makereport` adds to the step's text in the
scenario's evidence (this module is registered as a plugin, like every step module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import evidence as ev
from harness.steps.catalog import given, then
from harness.world import World

REPORTS_ENV = "WINDTUNNEL_LOAD_REPORTS"
RECORD = "load_run"
NOTE = "load_note"
SHORT_RUN_TIMEOUT = 180.0

MEASURES = {
    "p95 completion latency": "p95_completion_ms",
    "failure ratio": "max_failure_ratio",
    "throughput": "min_executions_per_s",
}


def _reports(config: pytest.Config) -> Path:
    given_dir = config.getoption("windtunnel_reports", None) or os.environ.get(REPORTS_ENV)
    return Path(given_dir) if given_dir else Path(str(config.rootpath)) / "reports"


def _short_run(profile: str, seconds: float, reports: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "harness.cli", "load", "--scenario", profile]
    cmd += ["--mode", "inprocess", "--duration", f"{seconds:g}", "--reports", str(reports)]
    cmd += ["--quiet", "--json"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=SHORT_RUN_TIMEOUT, check=False
    )
    lines = done.stdout.strip().splitlines()
    try:
        run_dir = Path(json.loads(lines[-1])["run_dir"])
        record: dict[str, Any] = json.loads((run_dir / "result.json").read_text("utf-8"))
    except (IndexError, ValueError, KeyError, OSError):
        raise AssertionError(
            f"the short load run could not be made (exit code {done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        ) from None
    return record


@given(
    "the latest load run of the {profile} profile, or a new {seconds:g} second one",
    example="Given the latest load run of the HighLoadProduction profile, or a new 6 second one",
)
def latest_load_run(
    world: World, pytestconfig: pytest.Config, profile: str, seconds: float
) -> None:
    """The load run of this code and profile (see the module docstring for the rule)."""
    from loadtests.history import fingerprint, read_runs
    from scenarios import load_profile

    reports = _reports(pytestconfig)
    current = fingerprint(load_profile(profile))
    resolved = load_profile(profile).name
    runs = [
        r
        for r in read_runs(reports / "load", resolved)
        if r["fingerprint"] == current and r["role"] in ("local", "master")
    ]
    record: dict[str, Any] = dict(runs[-1]) if runs else _short_run(profile, seconds, reports)
    world.memory[RECORD] = record


def _record(world: World) -> dict[str, Any]:
    record = world.memory.get(RECORD)
    if record is None:
        raise AssertionError("no load run yet: start with 'Given the latest load run of ...'")
    assert isinstance(record, dict)
    return record


@then(
    "the load run's {measure} meets its SLO",
    example="Then the load run's p95 completion latency meets its SLO",
)
def meets_slo(world: World, measure: str) -> None:
    """One SLO of the profile (p95 completion latency, failure ratio, throughput)."""
    if measure not in MEASURES:
        raise AssertionError(f"no SLO measures {measure!r}; known: {', '.join(MEASURES)}")
    name = MEASURES[measure]
    record = _record(world)
    found = [s for s in record["slos"] if s["name"] == name]
    where = f"run {record['run_id']}, {Path(record['run_dir']) / 'summary.md'}"
    if not found:
        raise AssertionError(
            f"the {record['profile']} profile declares no {name} SLO: add "
            f"load.slos.{name} to it ({where})"
        )
    slo = found[0]
    measured = slo["message"].split(": ", 1)[1]
    world.memory[NOTE] = f"{measured} ({where})"
    if not slo["passed"]:
        raise AssertionError(f"{slo['message']} ({where})")


@then("the load run lost no execution", example="Then the load run lost no execution")
def lost_nothing(world: World) -> None:
    """Every execution the engine accepted reached a terminal status (its stores say)."""
    record = _record(world)
    ledger = record.get("ledger")
    if ledger is None:
        raise AssertionError(
            f"run {record['run_id']} could not count its executions here (its stores are "
            "on the workers): use a local run"
        )
    acknowledged = (
        record["measurement"]["submit_requests"] - record["measurement"]["submit_failures"]
    )
    world.memory[NOTE] = (
        f"{ledger['submitted']} submitted, {ledger['terminal']} terminal, "
        f"{acknowledged} acknowledged (run {record['run_id']})"
    )
    if not record["no_loss"]:
        unfinished = ", ".join(ledger["unfinished"]) or "none listed"
        raise AssertionError(
            f"run {record['run_id']} lost executions: {ledger['submitted']} in the store(s), "
            f"{ledger['terminal']} terminal, {acknowledged} acknowledged; unfinished: {unfinished}"
        )


# -- the notes in the report ---------------------------------------------------------


_NOTES_KEY = pytest.StashKey[dict[int, str]]()


def _keep_note(request: pytest.FixtureRequest, step: Any) -> None:
    """After a step: move the note it left in the world to the test item, by line."""
    if "world" not in request.fixturenames:
        return
    world = request.getfixturevalue("world")
    if isinstance(world, World) and NOTE in world.memory:
        notes = request.node.stash.setdefault(_NOTES_KEY, {})
        notes[step.line_number] = str(world.memory.pop(NOTE))


def pytest_bdd_after_step(request: pytest.FixtureRequest, step: Any) -> None:
    _keep_note(request, step)


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any) -> None:
    _keep_note(request, step)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Add each step's note (measured vs target) to its text in the scenario evidence."""
    report: pytest.TestReport = yield
    notes = item.stash.get(_NOTES_KEY, None)
    if not notes:
        return report
    for i, (name, value) in enumerate(report.user_properties):
        if name != ev.USER_PROPERTY:
            continue
        data = ev.loads(str(value))
        for step in data["steps"]:
            note = notes.get(step["line"])
            if note and not step["name"].endswith(note):
                step["name"] = f"{step['name']}: {note}"
        report.user_properties[i] = (name, ev.dumps(data))
    return report
