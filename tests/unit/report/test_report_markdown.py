"""``requirements.md``: a totals line and what needs attention, safe to paste as markdown."""

from __future__ import annotations

from harness.report import build_report
from harness.report.history import HistoryRun
from harness.report.markdown import render_markdown
from tests.unit.report.support import catalogue, meta, sample_run, scenario


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table body row (escaped pipes stay inside their cell)."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip().replace("\\|", "|") for c in line[2:-2].split(" | ")]
            rows.append(cells)
    return rows


def test_totals_and_the_requirements_that_need_attention() -> None:
    cat, evidence = sample_run()
    text = render_markdown(build_report(cat, evidence, meta()))
    assert text.startswith("## Requirement coverage: 1 scenario run(s) failed\n")
    assert (
        "**4 requirements**: 1 passed (25.0%), 1 failed, 0 flaky, 1 skipped, 1 uncovered." in text
    )
    assert "**6 scenario runs**: 4 passed, 1 failed, 1 skipped, 1 naming no requirement." in text
    rows = table_rows(text)
    assert rows[0] == [
        "requirement",
        "status",
        "title",
        "first failing scenario",
        "error",
        "reproduce",
    ]
    assert [r[:2] for r in rows[1:]] == [
        ["BR-WORKFLOW-007", "failed"],
        ["BR-WORKFLOW-020", "uncovered"],
    ]
    failed = rows[1]
    assert failed[3] == "features/retries.feature:12 retry with backoff"
    # Code spans keep <...> visible on GitHub; plain text has < escaped.
    assert failed[4] == '`AssertionError: expected <Succeeded> & got <script>alert("x")</script>`'
    assert (
        failed[5]
        == "`windtunnel scenarios --seed 7 -- 'features/retries.feature::retry with backoff'`"
    )
    assert rows[2][3:] == ["—", "—", "—"]


def test_flaky_rows_come_between_failed_and_uncovered() -> None:
    r1, r2, r3 = "BR-WORKFLOW-001", "BR-WORKFLOW-002", "BR-WORKFLOW-003"
    before = HistoryRun(
        run_id="a", finished_at="t", git_commit=None, profile=None, statuses={r3: "failed"}
    )
    evidence = [
        scenario("x", requirements=[r2], status="failed"),
        scenario("y", requirements=[r3], line=20),
    ]
    text = render_markdown(build_report(catalogue(r1, r2, r3), evidence, meta(), [before]))
    assert [r[:2] for r in table_rows(text)[1:]] == [
        [r2, "failed"],
        [r3, "flaky"],
        [r1, "uncovered"],
    ]


def test_all_green_says_passed_and_has_no_table() -> None:
    r1 = "BR-WORKFLOW-001"
    text = render_markdown(build_report(catalogue(r1), [scenario("ok", requirements=[r1])], meta()))
    assert text.startswith("## Requirement coverage: passed\n")
    assert "|" not in text


def test_pipes_newlines_and_backticks_cannot_break_the_table() -> None:
    r1 = "BR-WORKFLOW-001"
    bad = scenario("a | <b>", requirements=[r1], status="failed", error="x | y\nsecond line")
    bad["reproduce"] = "pytest -k 'a `b` | c'"
    text = render_markdown(build_report(catalogue(r1), [bad], meta()))
    row = table_rows(text)[1]
    assert len(row) == 6
    assert row[3] == "features/execution.feature:10 a | \\<b>"
    assert row[4] == "`x | y`"
    assert row[5] == "``pytest -k 'a `b` | c'``"


def test_failed_untagged_scenarios_are_listed_too() -> None:
    r1 = "BR-WORKFLOW-001"
    evidence = [scenario("ok", requirements=[r1]), scenario("loose", status="failed", line=30)]
    text = render_markdown(build_report(catalogue(r1), evidence, meta()))
    assert "Failed scenarios that name no requirement:" in text
    assert table_rows(text)[-1][0] == "features/execution.feature:30 loose"
