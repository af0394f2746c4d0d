"""The status rules of a requirement, and the summary counts built on them."""

from __future__ import annotations

import pytest

from harness.evidence import Outcome
from harness.report import Report, attention_rows, build_report, summary_rows
from harness.report.history import HistoryRun
from harness.report.model import CurrentStatus
from tests.unit.report.support import catalogue, meta, scenario

R1, R2, R3 = "BR-WORKFLOW-001", "BR-WORKFLOW-002", "BR-WORKFLOW-003"


def requirement_status(*outcomes: Outcome) -> tuple[str, str]:
    evidence = [
        scenario(f"s{i}", requirements=[R1], status=o, line=10 + i) for i, o in enumerate(outcomes)
    ]
    report = build_report(catalogue(R1), evidence, meta())
    found = report["requirements"][0]
    return found["status"], found["current_status"]


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (("passed",), "passed"),
        (("passed", "passed", "passed"), "passed"),
        (("passed", "failed", "passed"), "failed"),
        (("failed", "skipped"), "failed"),
        (("skipped",), "skipped"),
        (("skipped", "skipped"), "skipped"),
        (("passed", "skipped"), "skipped"),
        ((), "uncovered"),
    ],
)
def test_requirement_status_follows_its_scenarios(
    outcomes: tuple[Outcome, ...], expected: str
) -> None:
    assert requirement_status(*outcomes) == (expected, expected)


def test_a_scenario_counts_for_every_requirement_it_names() -> None:
    report = build_report(
        catalogue(R1, R2, R3),
        [
            scenario("both", requirements=[R1, R2], status="failed"),
            scenario("one", requirements=[R1], line=20),
        ],
        meta(),
    )
    by_id = {r["id"]: r for r in report["requirements"]}
    assert [by_id[r]["status"] for r in (R1, R2, R3)] == ["failed", "failed", "uncovered"]
    assert [s["name"] for s in by_id[R1]["scenarios"]] == ["both", "one"]
    assert by_id[R1]["counts"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert by_id[R3]["scenarios"] == []


def test_outline_examples_sharing_a_line_are_all_kept_in_a_fixed_order() -> None:
    examples = [
        scenario("outline", requirements=[R1], line=7, nodeid=f"f.py::test_outline[{p}]")
        for p in ("b", "a", "c")
    ]
    earlier = scenario("first", requirements=[R1], line=3, feature="features/a.feature")
    report = build_report(catalogue(R1), [*examples, earlier], meta())
    nodeids = [s["nodeid"] for s in report["requirements"][0]["scenarios"]]
    assert nodeids == [
        earlier["nodeid"],
        "f.py::test_outline[a]",
        "f.py::test_outline[b]",
        "f.py::test_outline[c]",
    ]


def test_untagged_and_unknown_scenarios_are_listed_apart() -> None:
    report = build_report(
        catalogue(R1),
        [
            scenario("tagged", requirements=[R1]),
            scenario("untagged", line=20, status="failed"),
            scenario("typo", requirements=["BR-WORKFLOW-999"], line=30),
        ],
        meta(),
    )
    assert [s["name"] for s in report["untagged_scenarios"]] == ["untagged"]
    assert report["unknown_requirements"] == [
        {"id": "BR-WORKFLOW-999", "scenarios": ["features/execution.py::test_typo"]}
    ]
    assert report["summary"]["scenarios"] == {
        "total": 3,
        "passed": 2,
        "failed": 1,
        "skipped": 0,
        "untagged": 1,
    }
    # The untagged failure fails no requirement, but the run still counts it.
    assert report["summary"]["failing_requirements"] == []


def previous(run_id: str, status: CurrentStatus, profile: str | None = None) -> HistoryRun:
    return HistoryRun(
        run_id=run_id,
        finished_at=f"t-{run_id}",
        git_commit=None,
        profile=profile,
        statuses={R1: status},
    )


def flaky_report(history: list[HistoryRun], now: Outcome, size: int = 10) -> Report:
    evidence = [scenario("s", requirements=[R1], status=now)]
    return build_report(catalogue(R1), evidence, meta("now"), history, history_size=size)


def test_a_requirement_whose_history_flips_is_flaky_but_keeps_its_current_status() -> None:
    report = flaky_report([previous("a", "passed"), previous("b", "failed")], "passed")
    found = report["requirements"][0]
    assert (found["status"], found["current_status"]) == ("flaky", "passed")
    assert [p["run_id"] for p in found["history"]] == ["a", "b", "now"]
    assert [p["status"] for p in found["history"]] == ["passed", "failed", "passed"]
    assert report["summary"]["requirements"]["flaky"] == 1
    assert report["summary"]["failing_requirements"] == []

    failing_now = flaky_report([previous("a", "passed")], "failed")
    assert failing_now["requirements"][0]["status"] == "flaky"
    assert failing_now["summary"]["failing_requirements"] == [R1]


def test_a_steady_history_is_not_flaky() -> None:
    steady = flaky_report([previous("a", "failed"), previous("b", "failed")], "failed")
    assert steady["requirements"][0]["status"] == "failed"
    skipped_between = flaky_report([previous("a", "passed"), previous("b", "skipped")], "passed")
    assert skipped_between["requirements"][0]["status"] == "passed"


def test_only_a_pass_or_a_failure_now_can_be_flaky() -> None:
    flipping = [previous("a", "passed"), previous("b", "failed")]
    assert flaky_report(flipping, "skipped")["requirements"][0]["status"] == "skipped"
    report = build_report(catalogue(R1), [], meta("now"), flipping)
    assert report["requirements"][0]["status"] == "uncovered"


def test_flakiness_looks_only_at_the_window_of_this_profile() -> None:
    old_failure = [previous("a", "failed"), *(previous(f"p{i}", "passed") for i in range(3))]
    assert flaky_report(old_failure, "passed", size=4)["requirements"][0]["status"] == "passed"
    assert flaky_report(old_failure, "passed", size=5)["requirements"][0]["status"] == "flaky"

    other_profile = [previous("chaos", "failed", profile="chaos")]
    report = flaky_report(other_profile, "passed")
    assert report["requirements"][0]["status"] == "passed"
    assert report["history"]["runs"] == 1


def test_a_run_already_in_the_history_is_not_counted_twice() -> None:
    report = flaky_report([previous("now", "failed")], "passed")
    assert report["requirements"][0]["status"] == "passed"
    assert [p["run_id"] for p in report["requirements"][0]["history"]] == ["now"]


def test_history_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="history_size must be at least 1"):
        flaky_report([], "passed", size=0)


def test_summary_counts_and_percentages_overall_by_area_and_by_priority() -> None:
    cat = catalogue(
        (R1, "execution", "critical"),
        (R2, "execution", "high"),
        (R3, "durability", "critical"),
        ("BR-WORKFLOW-004", "durability", "critical"),
    )
    evidence = [
        scenario("a", requirements=[R1]),
        scenario("b", requirements=[R2], status="failed", line=20),
        scenario("c", requirements=[R3], line=30),
    ]
    summary = build_report(cat, evidence, meta())["summary"]
    overall = summary["requirements"]
    assert (overall["total"], overall["passed"], overall["failed"], overall["uncovered"]) == (
        4,
        2,
        1,
        1,
    )
    assert overall["percent"] == {
        "failed": 25.0,
        "flaky": 0.0,
        "uncovered": 25.0,
        "skipped": 0.0,
        "passed": 50.0,
    }
    assert list(summary["by_area"]) == ["execution", "durability"]
    assert summary["by_area"]["execution"]["failed"] == 1
    assert summary["by_area"]["durability"]["percent"]["uncovered"] == 50.0
    assert list(summary["by_priority"]) == ["critical", "high"]
    assert summary["by_priority"]["critical"]["passed"] == 2
    assert summary["by_priority"]["high"]["percent"]["failed"] == 100.0


def test_terminal_rows_list_the_whole_run_then_priorities_then_areas() -> None:
    cat = catalogue((R1, "execution", "critical"), (R2, "durability", "high"))
    report = build_report(cat, [scenario("a", requirements=[R1])], meta())
    rows = summary_rows(report)
    assert [r.scope for r in rows] == [
        "all requirements",
        "priority critical",
        "priority high",
        "area execution",
        "area durability",
    ]
    assert rows[0]._replace(scope="") == ("", 2, 1, 0, 0, 0, 1, 50.0)


def test_attention_rows_point_at_the_first_failing_scenario() -> None:
    cat = catalogue(R1, R2, R3)
    evidence = [
        scenario("fine", requirements=[R2], line=5),
        scenario("bad", requirements=[R2], status="failed", line=9, error="E: nope\nmore"),
        scenario("worse", requirements=[R2], status="failed", line=12),
        scenario("ok", requirements=[R1]),
    ]
    rows = attention_rows(build_report(cat, evidence, meta()))
    assert [(r.requirement, r.status) for r in rows] == [(R2, "failed"), (R3, "uncovered")]
    assert rows[0].scenario == "features/execution.feature:9 bad"
    assert rows[0].error == "E: nope"
    assert "bad" in rows[0].reproduce
    assert rows[1].reproduce == ""
