"""From scenario evidence to requirement statuses: the rules a coverage report rests on.

A requirement's ``current_status`` in this run, from the scenarios that name it:

=========================================  ===========
its scenarios                              status
=========================================  ===========
none                                       uncovered
any failed                                 failed
all passed (at least one)                  passed
none failed, at least one skipped          skipped
=========================================  ===========

The last row is the choice to know: a requirement with two passing scenarios and one
skipped one is *skipped*, not passed, because part of what it claims went unproven in
this run. ``counts`` keeps the numbers, so the page can say "2 passed, 1 skipped".

Its display ``status`` is ``flaky`` instead when its current status is passed or
failed and its history window (:func:`harness.report.history.window`, this run
included) holds both a pass and a failure; ``current_status`` keeps the outcome of this
run, and a gate should look only at that (``summary.failing_requirements``).

Every scenario test run is kept, the examples of an outline included (they share a line
and differ by node id), in the order (feature file, line, node id) so a serial and a
parallel run list them alike. A scenario naming no requirement is listed under
``untagged_scenarios``; one naming an id the catalogue lacks under
``unknown_requirements`` too (``harness.catalogue.check_tags`` should have refused it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.catalogue import Catalogue
from harness.evidence import ScenarioEvidence
from harness.report.history import HistoryRun, is_flaky, window
from harness.report.model import (
    SCHEMA_VERSION,
    CurrentStatus,
    HistoryInfo,
    HistoryPoint,
    Report,
    RequirementReport,
    RequirementStatus,
    RunMeta,
    ScenarioCounts,
    ScenarioReport,
    UnknownRequirement,
)
from harness.report.summary import summarise


def build_report(
    catalogue: Catalogue,
    evidence: Iterable[ScenarioEvidence],
    meta: RunMeta,
    previous_runs: Sequence[HistoryRun] = (),
    *,
    history_size: int = 10,
    skipped_history_lines: Sequence[int] = (),
) -> Report:
    """The report of one run; ``previous_runs`` are the history before it, oldest first."""
    scenarios = sorted((scenario_report(e) for e in evidence), key=scenario_order)
    covering: dict[str, list[ScenarioReport]] = {rid: [] for rid in catalogue.requirements}
    unknown: dict[str, list[str]] = {}
    for scenario in scenarios:
        for rid in scenario["requirements"]:
            if rid in covering:
                covering[rid].append(scenario)
            else:
                unknown.setdefault(rid, []).append(scenario["nodeid"])

    current = {rid: current_status(found) for rid, found in covering.items()}
    this_run = HistoryRun(
        run_id=meta["run_id"],
        finished_at=meta["finished_at"],
        git_commit=meta["git_commit"],
        profile=meta["profile"],
        statuses=current,
    )
    runs = window(previous_runs, this_run, history_size)

    requirements: list[RequirementReport] = []
    for requirement in catalogue.requirements.values():
        rid = requirement.id
        trail = [
            HistoryPoint(
                run_id=run["run_id"],
                finished_at=run["finished_at"],
                git_commit=run["git_commit"],
                status=run["statuses"].get(rid),
            )
            for run in runs
        ]
        requirements.append(
            RequirementReport(
                id=rid,
                title=requirement.title,
                description=requirement.description,
                priority=requirement.priority,
                area=requirement.area,
                status=display_status(current[rid], (p["status"] for p in trail)),
                current_status=current[rid],
                counts=_counts(covering[rid]),
                scenarios=covering[rid],
                history=trail,
            )
        )
    untagged = [s for s in scenarios if not s["requirements"]]
    return Report(
        schema_version=SCHEMA_VERSION,
        run=meta,
        summary=summarise(requirements, scenarios, untagged),
        requirements=requirements,
        untagged_scenarios=untagged,
        unknown_requirements=[
            UnknownRequirement(id=rid, scenarios=nodeids)
            for rid, nodeids in sorted(unknown.items())
        ],
        history=HistoryInfo(
            size=history_size, runs=len(runs), skipped_lines=list(skipped_history_lines)
        ),
    )


def current_status(scenarios: Sequence[ScenarioReport]) -> CurrentStatus:
    """What the scenarios of one requirement prove in this run (table in module doc)."""
    outcomes = {s["status"] for s in scenarios}
    if not outcomes:
        return "uncovered"
    if "failed" in outcomes:
        return "failed"
    if "skipped" in outcomes:
        return "skipped"
    return "passed"


def display_status(
    current: CurrentStatus, trail: Iterable[CurrentStatus | None]
) -> RequirementStatus:
    """``flaky`` for a pass or failure whose history flips; otherwise ``current``."""
    if current in ("passed", "failed") and is_flaky(trail):
        return "flaky"
    return current


def history_entry(report: Report) -> HistoryRun:
    """The line of ``runs.jsonl`` that records ``report``'s run."""
    run = report["run"]
    return HistoryRun(
        run_id=run["run_id"],
        finished_at=run["finished_at"],
        git_commit=run["git_commit"],
        profile=run["profile"],
        statuses={r["id"]: r["current_status"] for r in report["requirements"]},
    )


def scenario_report(evidence: ScenarioEvidence) -> ScenarioReport:
    """The report's view of one scenario's evidence."""
    return ScenarioReport(
        nodeid=evidence["nodeid"],
        feature_file=evidence["feature_file"],
        feature_name=evidence["feature_name"],
        name=evidence["scenario_name"],
        line=evidence["line"],
        tags=list(evidence["tags"]),
        requirements=sorted(set(evidence["requirements"])),
        status=evidence["status"],
        duration_wall=evidence["duration_wall"],
        duration_virtual=evidence["duration_virtual"],
        failing_step=evidence["failing_step"],
        error=evidence["error"],
        reproduce=evidence["reproduce"],
        steps=list(evidence["steps"]),
        executions=list(evidence["executions"]),
        profile=evidence["profile"],
        cluster=evidence["cluster"],
        store=evidence["store"],
        seed=evidence["seed"],
    )


def scenario_order(scenario: ScenarioReport) -> tuple[str, int, str]:
    """Feature file, then line, then node id: the same in a serial and a parallel run."""
    return (scenario["feature_file"], scenario["line"], scenario["nodeid"])


def _counts(scenarios: Sequence[ScenarioReport]) -> ScenarioCounts:
    statuses = [s["status"] for s in scenarios]
    return ScenarioCounts(
        passed=statuses.count("passed"),
        failed=statuses.count("failed"),
        skipped=statuses.count("skipped"),
    )
