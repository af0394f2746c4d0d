"""The run history survives crashes: a cut or corrupt line never loses the others."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import write_reports
from harness.report.history import HistoryRun, append_run, history_path, read_history
from harness.report.model import CurrentStatus
from tests.unit.report.support import catalogue, meta, scenario

R1 = "BR-WORKFLOW-001"


def run(run_id: str, status: CurrentStatus = "passed") -> HistoryRun:
    return HistoryRun(
        run_id=run_id,
        finished_at=f"t-{run_id}",
        git_commit="abc",
        profile=None,
        statuses={R1: status},
    )


def test_append_then_read_keeps_every_run_in_order(tmp_path: Path) -> None:
    path = tmp_path / "history" / "runs.jsonl"
    for name in ("a", "b", "c"):
        append_run(path, run(name))
    history = read_history(path)
    assert [r["run_id"] for r in history.runs] == ["a", "b", "c"]
    assert history.runs[0] == run("a")
    assert history.skipped_lines == []
    assert len(path.read_text().splitlines()) == 3


def test_a_missing_file_is_an_empty_history(tmp_path: Path) -> None:
    history = read_history(tmp_path / "nope.jsonl")
    assert (history.runs, history.skipped_lines) == ([], [])


def test_a_truncated_last_line_is_skipped_and_the_next_run_still_lands(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    append_run(path, run("a"))
    append_run(path, run("b"))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 15])  # a crash mid-write of "b"

    history = read_history(path)
    assert [r["run_id"] for r in history.runs] == ["a"]
    assert history.skipped_lines == [2]

    append_run(path, run("c"))
    history = read_history(path)
    assert [r["run_id"] for r in history.runs] == ["a", "c"]
    assert history.skipped_lines == [2]


def test_lines_that_are_not_run_records_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    good = json.dumps(run("a"))
    wrong_status = json.dumps({**run("x"), "statuses": {R1: "flaky"}})
    no_profile = json.dumps({k: v for k, v in run("y").items() if k != "profile"})
    lines = [good, "not json", "[1, 2]", wrong_status, no_profile, "", json.dumps(run("b"))]
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")
    history = read_history(path)
    assert [r["run_id"] for r in history.runs] == ["a", "b"]
    assert history.skipped_lines == [2, 3, 4, 5, 8]


def test_a_run_written_twice_counts_once_at_its_last_place(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    for record in (run("a", "failed"), run("b"), run("a", "passed")):
        append_run(path, record)
    runs = read_history(path).runs
    assert [(r["run_id"], r["statuses"][R1]) for r in runs] == [("b", "passed"), ("a", "passed")]


def test_write_reports_appends_one_line_per_run_and_finds_the_flip(tmp_path: Path) -> None:
    cat = catalogue(R1)
    first = write_reports(
        tmp_path, cat, [scenario("s", requirements=[R1], status="failed")], meta("r1")
    )
    assert first.report["requirements"][0]["status"] == "failed"
    second = write_reports(tmp_path, cat, [scenario("s", requirements=[R1])], meta("r2"))
    assert second.history == history_path(tmp_path)
    lines = [json.loads(line) for line in second.history.read_text().splitlines()]
    assert [(line["run_id"], line["statuses"]) for line in lines] == [
        ("r1", {R1: "failed"}),
        ("r2", {R1: "passed"}),
    ]
    assert lines[1]["git_commit"] == "0123456789abcdef0123"
    assert second.report["requirements"][0]["status"] == "flaky"
    assert second.report["requirements"][0]["current_status"] == "passed"

    third = write_reports(
        tmp_path, cat, [scenario("s", requirements=[R1])], meta("r3"), history_size=2
    )
    assert third.report["requirements"][0]["status"] == "passed"
