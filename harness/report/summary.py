"""Counting requirements and scenarios, and the rows a terminal or a PR comment shows.

:func:`summarise` fills ``Report["summary"]``. :func:`summary_rows` and
:func:`attention_rows` are plain tuples of strings and numbers so the CLI can hand them
to ``rich`` (or anything else) without knowing the report's shape: the first is one row
overall, then one per priority and one per area; the second lists what needs a
person's attention (failed, flaky, uncovered) with the command that reproduces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from harness.report.model import (
    DISPLAY_STATUSES,
    Report,
    RequirementReport,
    ScenarioReport,
    ScenarioTally,
    StatusTally,
    Summary,
)

PRIORITIES = ("critical", "high", "medium", "low")
ATTENTION = ("failed", "flaky", "uncovered")
"""The display statuses a summary lists one by one, in this order."""


def summarise(
    requirements: Sequence[RequirementReport],
    scenarios: Sequence[ScenarioReport],
    untagged: Sequence[ScenarioReport],
) -> Summary:
    by_area: dict[str, list[RequirementReport]] = {}
    by_priority: dict[str, list[RequirementReport]] = {p: [] for p in PRIORITIES}
    for requirement in requirements:
        by_area.setdefault(requirement["area"], []).append(requirement)
        by_priority.setdefault(requirement["priority"], []).append(requirement)
    statuses = [s["status"] for s in scenarios]
    return Summary(
        requirements=tally(requirements),
        by_area={area: tally(found) for area, found in by_area.items()},
        by_priority={p: tally(found) for p, found in by_priority.items() if found},
        scenarios=ScenarioTally(
            total=len(statuses),
            passed=statuses.count("passed"),
            failed=statuses.count("failed"),
            skipped=statuses.count("skipped"),
            untagged=len(untagged),
        ),
        failing_requirements=[r["id"] for r in requirements if r["current_status"] == "failed"],
    )


def tally(requirements: Iterable[RequirementReport]) -> StatusTally:
    """Requirements counted by display status, with percentages."""
    statuses = [r["status"] for r in requirements]
    total = len(statuses)
    counts = {status: statuses.count(status) for status in DISPLAY_STATUSES}
    return StatusTally(
        total=total,
        passed=counts["passed"],
        failed=counts["failed"],
        flaky=counts["flaky"],
        skipped=counts["skipped"],
        uncovered=counts["uncovered"],
        percent={s: round(100 * n / total, 1) if total else 0.0 for s, n in counts.items()},
    )


class SummaryRow(NamedTuple):
    """One line of the terminal summary; ``_fields`` are its column headings."""

    scope: str
    total: int
    passed: int
    failed: int
    flaky: int
    skipped: int
    uncovered: int
    passed_percent: float


class AttentionRow(NamedTuple):
    """A requirement that needs a look, and where to start."""

    requirement: str
    status: str
    title: str
    scenario: str
    """``file:line name`` of its first failing scenario, or ``""``."""
    error: str
    """First line of that scenario's error, or ``""``."""
    reproduce: str


def summary_rows(report: Report) -> list[SummaryRow]:
    """Overall, then by priority, then by area."""
    summary = report["summary"]
    scopes = [
        ("all requirements", summary["requirements"]),
        *((f"priority {p}", t) for p, t in summary["by_priority"].items()),
        *((f"area {a}", t) for a, t in summary["by_area"].items()),
    ]
    return [
        SummaryRow(
            scope,
            t["total"],
            t["passed"],
            t["failed"],
            t["flaky"],
            t["skipped"],
            t["uncovered"],
            t["percent"]["passed"],
        )
        for scope, t in scopes
    ]


def attention_rows(report: Report) -> list[AttentionRow]:
    """Failed, then flaky, then uncovered requirements, each in catalogue order."""
    rows: list[AttentionRow] = []
    for status in ATTENTION:
        for requirement in report["requirements"]:
            if requirement["status"] != status:
                continue
            failing = first_failure(requirement["scenarios"])
            rows.append(
                AttentionRow(
                    requirement["id"],
                    status,
                    requirement["title"],
                    where(failing) if failing else "",
                    first_line(failing["error"]) if failing else "",
                    failing["reproduce"] if failing else "",
                )
            )
    return rows


def first_failure(scenarios: Iterable[ScenarioReport]) -> ScenarioReport | None:
    return next((s for s in scenarios if s["status"] == "failed"), None)


def where(scenario: ScenarioReport) -> str:
    return f"{scenario['feature_file']}:{scenario['line']} {scenario['name']}"


def first_line(text: str | None, limit: int = 160) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
