"""The load history, the run summary and the trend plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtests.history import append_run, fingerprint, history_path, read_runs
from loadtests.summary import summary_markdown
from loadtests.trends import write_trends
from scenarios import load_profile


def record(run_id: str, profile: str = "P", passed: bool = True, **kw: Any) -> Any:
    return {
        "run_id": run_id,
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:01:00+00:00",
        "git_commit": None,
        "fingerprint": "f",
        "profile": profile,
        "mode": "inprocess",
        "role": "local",
        "processes": 1,
        "shape": {"steady": {"users": 2, "duration": 1.0}},
        "users_peak": 2,
        "measurement": {
            "duration_s": 1.0,
            "submit_requests": 10,
            "submit_failures": 0,
            "completions": 10,
            "completion_failures": 0,
            "executions_per_s": kw.get("rate", 10.0),
            "failure_ratio": 0.0,
            "p50_completion_ms": 1.0,
            "p95_completion_ms": kw.get("p95", 5.0),
            "p99_completion_ms": 9.0,
            "p95_submit_ms": 1.0,
            "submits_per_s": 10.0,
        },
        "slos": [
            {
                "name": "p95_completion_ms",
                "target": 4.0,
                "measured": kw.get("p95", 5.0),
                "comparison": "max",
                "unit": "ms",
                "passed": passed,
                "message": "SLO p95_completion_ms breached: measured 5 ms, target ≤ 4 ms",
            }
        ],
        "slo_passed": passed,
        "ledger": {"submitted": 10, "terminal": 10, "unfinished": [], "stores": [], "lost": 0},
        "no_loss": True,
        "passed": passed,
        "run_dir": "x",
    }


def test_runs_are_read_back_in_order_and_by_profile(tmp_path: Path) -> None:
    append_run(tmp_path, record("1"))
    append_run(tmp_path, record("2", profile="Q"))
    append_run(tmp_path, record("3"))
    assert [r["run_id"] for r in read_runs(tmp_path)] == ["1", "2", "3"]
    assert [r["run_id"] for r in read_runs(tmp_path, "P")] == ["1", "3"]


def test_a_line_cut_short_by_a_kill_is_skipped_and_the_next_run_kept(tmp_path: Path) -> None:
    append_run(tmp_path, record("1"))
    with history_path(tmp_path).open("ab") as f:
        f.write(b'{"run_id": "cut')
    append_run(tmp_path, record("2"))
    with history_path(tmp_path).open("ab") as f:
        f.write(b"[1, 2]\n")
    assert [r["run_id"] for r in read_runs(tmp_path)] == ["1", "2"]


def test_the_fingerprint_follows_the_profile() -> None:
    high = load_profile("HighLoadProduction")
    assert fingerprint(high) == fingerprint(load_profile("HighLoadProduction"))
    assert fingerprint(high) != fingerprint(load_profile("DisasterRecovery"))
    assert fingerprint(high) != fingerprint(high.model_copy(update={"seed": 7}))


def test_the_summary_says_what_was_breached_and_links_what_exists(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("<html></html>")
    text = summary_markdown(record("r1", passed=False), tmp_path)
    assert text.startswith("# Load run r1: P — FAILED\n")
    assert "| p95_completion_ms | 4 | 5 | **breached** |" in text
    assert "10 executions in the engine's store(s), 10 terminal, 0 not" in text
    assert "- [report.html](report.html): Locust's HTML report" in text
    assert "stats.json" not in text.split("## Files")[1]


def test_trend_plots_are_pngs(tmp_path: Path) -> None:
    runs = [record(str(i), rate=10.0 + i, p95=5.0 + i, passed=i != 2) for i in range(4)]
    paths = write_trends(runs, tmp_path)
    assert [p.name for p in paths] == ["throughput.png", "latency.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
