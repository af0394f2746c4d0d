"""``windtunnel load`` end to end: both users, --processes, SLO gates, the loss check.

Each test is one short real run (Locust and, for HTTP, the service as subprocesses).
What is asserted is what a user relies on: the exit code, the ``--json`` line, the
files in ``reports/load/<run-id>/``, the history line, and submitted = terminal as
counted from the engine's stores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.loadtests.load_helpers import last_json, profile, windtunnel

pytestmark = pytest.mark.slow

RUN_FILES = (
    "plan.json",
    "stats.json",
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "report.html",
    "result.json",
    "summary.md",
    "throughput.png",
    "latency.png",
    "locust.log",
)


def check_run(tmp_path: Path, out: dict[str, object], mode: str) -> Path:
    for key in (
        "executions_per_s",
        "p95_completion_ms",
        "failure_ratio",
        "submitted",
        "terminal",
        "slo_passed",
    ):
        assert key in out
    assert out["mode"] == mode
    assert out["submitted"] == out["terminal"]
    assert isinstance(out["submitted"], int)
    assert out["submitted"] > 0
    assert isinstance(out["acknowledged"], int)
    assert out["submitted"] >= out["acknowledged"] > 0
    assert out["failure_ratio"] == 0.0
    run_dir = Path(str(out["run_dir"]))
    assert run_dir.parent == tmp_path / "reports" / "load"
    missing = [name for name in RUN_FILES if not (run_dir / name).exists()]
    assert missing == []
    history = (tmp_path / "reports" / "load" / "history" / "runs.jsonl").read_text()
    assert json.loads(history.splitlines()[-1])["run_id"] == out["run_id"]
    return run_dir


@pytest.mark.parametrize("mode", ["inprocess", "http"])
def test_a_short_run_in_each_mode_passes_and_loses_nothing(tmp_path: Path, mode: str) -> None:
    path = profile(tmp_path, "  slos: {max_failure_ratio: 0, p95_completion_ms: 5000}\n")
    done = windtunnel(
        "load", "--scenario", str(path), "--mode", mode, "--reports", "reports", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = last_json(done.stdout)
    run_dir = check_run(tmp_path, out, mode)
    assert out["slo_passed"] is True
    assert out["passed"] is True
    assert "submitted/terminal" in done.stdout  # the progress lines
    stores = list((run_dir / "stores").glob("*.sqlite"))
    if mode == "http":
        assert (run_dir / "service.sqlite").exists()
        assert stores == []
    else:
        assert len(stores) == 1


def test_two_processes_each_run_an_engine_and_the_check_counts_both(tmp_path: Path) -> None:
    path = profile(tmp_path, users=4)
    done = windtunnel(
        "load", "--scenario", str(path), "--processes", "2", "--reports", "reports", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = last_json(done.stdout)
    run_dir = check_run(tmp_path, out, "inprocess")
    result = json.loads((run_dir / "result.json").read_text())
    assert result["processes"] == 2
    assert len(result["ledger"]["stores"]) == 2  # one engine per forked process
    # (Each process's drain line is informational, and a forked process may be gone
    # before Locust relays it: the loss check counts the stores, as asserted above.)


def test_a_breached_slo_exits_non_zero_naming_the_slo_target_and_measure(tmp_path: Path) -> None:
    path = profile(tmp_path, "  slos: {min_executions_per_s: 1000000000, max_failure_ratio: 0}\n")
    done = windtunnel(
        "load", "--scenario", str(path), "--duration", "2", "--reports", "reports", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    out = last_json(done.stdout)
    assert out["slo_passed"] is False
    assert out["slos"]["max_failure_ratio"]["passed"] is True
    text = done.stdout.replace("\n", " ")
    assert "SLO min_executions_per_s breached: measured " in text
    assert "target ≥ 1000000000/s" in text
    assert out["submitted"] == out["terminal"]  # a slow run, but nothing lost


def test_executions_that_outlast_the_drain_are_reported_lost(tmp_path: Path) -> None:
    path = tmp_path / "Slow.yaml"
    path.write_text(
        "name: Slow\nextends: BasicDevelopment\nload:\n"
        "  shape: {steady: {users: 2, duration: 1.5}}\n"
        "  drain_seconds: 0.5\n"
        "  workflows:\n"
        "    - template:\n"
        "        name: slow\n"
        "        steps: [{id: wait, action: sleep, params: {seconds: 60}}]\n"
        "  slos: {p95_completion_ms: null, max_failure_ratio: null, min_executions_per_s: null}\n"
    )
    done = windtunnel(
        "load", "--scenario", str(path), "--reports", "reports", "--json", cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    out = last_json(done.stdout)
    assert out["slo_passed"] is True
    assert out["no_loss"] is False
    assert out["submitted"] == 2  # each user's one execution: none could end in time
    assert out["terminal"] == 0
    assert "lost executions: 2 in the store(s), 0 terminal" in done.stdout.replace("\n", " ")


def test_a_profile_problem_is_reported_at_its_line_before_anything_runs(tmp_path: Path) -> None:
    path = profile(tmp_path, "  wait_seconds: -1\n")
    done = windtunnel("load", "--scenario", str(path), "--reports", "reports", cwd=tmp_path)
    assert done.returncode == 2
    assert f"{path}:12 field 'load.wait_seconds': Input should be greater than or equal to 0" in (
        done.stdout.replace("\n", "")
    )
    assert not (tmp_path / "reports" / "load").exists()
