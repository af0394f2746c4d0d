"""Requirement-coverage reports: what a run proved about each catalogue requirement.

The plugin hands over one :class:`~harness.evidence.ScenarioEvidence` per scenario run;
:func:`write_reports` turns them, the requirement catalogue and the run history into,
inside ``out_dir``:

===========================  ==============================================  =====================
file                         for                                             module
===========================  ==============================================  =====================
``requirements.json``        the canonical report, for tools and gates       ``canonical``
``requirements.html``        one self-contained page to explore a run        ``html``, ``detail``
``requirements.md``          a CI log or pull-request comment                ``markdown``
``cucumber.json``            cucumber tooling, complete under xdist          ``cucumber``
``history/runs.jsonl``       one line per run, for flakiness and the strips  ``history``
===========================  ==============================================  =====================

The status rules are in :mod:`harness.report.aggregate`, the shapes in
:mod:`harness.report.model`, the workflow timelines in :mod:`harness.report.timeline`.
A CLI prints :func:`summary_rows` and :func:`attention_rows` and gates on
``report["summary"]["failing_requirements"]`` and ``["scenarios"]["failed"]``, which
count this run only (a flaky requirement that passed now does not fail the run).
"""

from __future__ import annotations

from harness.report.aggregate import build_report
from harness.report.canonical import ReportFormatError, read_requirements_json, schema
from harness.report.cucumber import cucumber_features, normalised
from harness.report.history import History, HistoryRun, history_path, read_history
from harness.report.model import (
    CurrentStatus,
    Report,
    RequirementReport,
    RequirementStatus,
    RunMeta,
    ScenarioReport,
)
from harness.report.summary import AttentionRow, SummaryRow, attention_rows, summary_rows
from harness.report.write import ReportPaths, write_reports

__all__ = [
    "AttentionRow",
    "CurrentStatus",
    "History",
    "HistoryRun",
    "Report",
    "ReportFormatError",
    "ReportPaths",
    "RequirementReport",
    "RequirementStatus",
    "RunMeta",
    "ScenarioReport",
    "SummaryRow",
    "attention_rows",
    "build_report",
    "cucumber_features",
    "history_path",
    "normalised",
    "read_history",
    "read_requirements_json",
    "schema",
    "summary_rows",
    "write_reports",
]
