"""The shapes of the requirement-coverage report: what ``requirements.json`` holds.

These ``TypedDict`` s are the contract between the aggregation (which builds a
:class:`Report` from the catalogue, the scenario evidence and the run history) and
every writer and reader of it: the HTML page, the markdown summary, the terminal
summary and anyone who loads ``requirements.json`` in CI. The JSON Schema in
``requirements.schema.json`` describes the same shapes for readers outside Python; a
unit test holds the two together.

Statuses of a requirement:

- ``current_status`` is what *this* run proved: ``passed``, ``failed``, ``skipped``
  or ``uncovered`` (the rules are in :mod:`harness.report.aggregate`). Gate on it.
- ``status`` is what to show: the current status, or ``flaky`` when the recent
  history of the requirement holds both a pass and a failure.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from harness.evidence import ExecutionEvidence, GherkinStepEvidence, Outcome

SCHEMA_VERSION = 1
"""Bumped whenever a field of :class:`Report` changes meaning or disappears."""

CurrentStatus = Literal["passed", "failed", "skipped", "uncovered"]
RequirementStatus = Literal["passed", "failed", "skipped", "uncovered", "flaky"]

DISPLAY_STATUSES: tuple[RequirementStatus, ...] = (
    "failed",
    "flaky",
    "uncovered",
    "skipped",
    "passed",
)
"""Every display status, worst first: the order summaries and filters list them in."""


class RunMeta(TypedDict):
    """What identifies one run of the suite; the CLI fills it in."""

    run_id: str
    started_at: str
    """ISO-8601 in UTC, e.g. ``2025-01-31T12:00:00Z``."""
    finished_at: str
    git_commit: str | None
    profile: str | None
    cluster: str
    store: str
    seed: int | None
    """The run's base seed; ``None`` when it was not fixed."""
    pytest_args: list[str]
    workers: int
    """pytest-xdist worker processes; 0 when the scenarios ran in the pytest process."""


class ScenarioReport(TypedDict):
    """One scenario test run (one example of an outline), as the reports show it."""

    nodeid: str
    """Unique per run: the examples of one outline share ``line`` but not ``nodeid``."""
    feature_file: str
    feature_name: str
    name: str
    line: int
    tags: list[str]
    requirements: list[str]
    status: Outcome
    duration_wall: float
    duration_virtual: float
    failing_step: str | None
    error: str | None
    reproduce: str
    steps: list[GherkinStepEvidence]
    executions: list[ExecutionEvidence]
    profile: str | None
    cluster: str
    store: str
    seed: int


class ScenarioCounts(TypedDict):
    """How a requirement's scenarios went in this run."""

    passed: int
    failed: int
    skipped: int


class HistoryPoint(TypedDict):
    """A requirement's status in one run of its history window, oldest first.

    ``status`` is ``None`` for a run that did not know the requirement (it was added to
    the catalogue later).
    """

    run_id: str
    finished_at: str
    git_commit: str | None
    status: CurrentStatus | None


class RequirementReport(TypedDict):
    """One catalogue requirement, its status and the scenarios that prove it."""

    id: str
    title: str
    description: str
    priority: str
    area: str
    status: RequirementStatus
    current_status: CurrentStatus
    counts: ScenarioCounts
    scenarios: list[ScenarioReport]
    history: list[HistoryPoint]
    """The window flakiness is judged on; its last point is this run."""


class UnknownRequirement(TypedDict):
    """A requirement-looking tag the catalogue lacks, and the scenarios carrying it."""

    id: str
    scenarios: list[str]
    """Node ids."""


class StatusTally(TypedDict):
    """Requirements counted by display status, with percentages of ``total``."""

    total: int
    passed: int
    failed: int
    flaky: int
    skipped: int
    uncovered: int
    percent: dict[str, float]
    """Keyed by display status; one decimal; all ``0.0`` when ``total`` is 0."""


class ScenarioTally(TypedDict):
    """Scenario test runs of this run, tagged or not."""

    total: int
    passed: int
    failed: int
    skipped: int
    untagged: int


class Summary(TypedDict):
    requirements: StatusTally
    by_area: dict[str, StatusTally]
    """In catalogue order of each area's first requirement."""
    by_priority: dict[str, StatusTally]
    """critical, high, medium, low: only those the catalogue uses."""
    scenarios: ScenarioTally
    failing_requirements: list[str]
    """Ids whose ``current_status`` is ``failed``: what a gate should look at."""


class HistoryInfo(TypedDict):
    """How much history the flakiness verdicts rest on."""

    size: int
    """The window asked for: the last ``size`` runs of this profile, this one included."""
    runs: int
    """How many runs the window actually held."""
    skipped_lines: list[int]
    """Line numbers of ``runs.jsonl`` that were unreadable and left out."""


class Report(TypedDict):
    """Everything ``requirements.json`` holds."""

    schema_version: int
    run: RunMeta
    summary: Summary
    requirements: list[RequirementReport]
    """In catalogue order."""
    untagged_scenarios: list[ScenarioReport]
    unknown_requirements: list[UnknownRequirement]
    history: HistoryInfo
