"""``requirements.json``: the canonical report, and reading it back.

Every other output (HTML, markdown, the terminal summary) is a view of this one
document, and CI gates and dashboards should read it rather than scrape the others.
Its shapes are the ``TypedDict`` s of :mod:`harness.report.model`; the JSON Schema
(draft 2020-12) is ``harness/report/requirements.schema.json`` (:func:`schema`), and
a unit test validates written reports against it. In short::

    {
      "schema_version": 1,
      "run": {run_id, started_at, finished_at, git_commit, profile, cluster, store,
              seed, pytest_args, workers},
      "summary": {
        "requirements": {total, passed, failed, flaky, skipped, uncovered,
                         percent: {status: float}},
        "by_area": {area: <same>}, "by_priority": {priority: <same>},
        "scenarios": {total, passed, failed, skipped, untagged},
        "failing_requirements": [id, ...]          # current_status == failed
      },
      "requirements": [                            # catalogue order
        {id, title, description, priority, area,
         status,                                   # passed|failed|skipped|uncovered|flaky
         current_status,                           # passed|failed|skipped|uncovered
         counts: {passed, failed, skipped},
         scenarios: [<scenario>, ...],             # (feature_file, line, nodeid) order
         history: [{run_id, finished_at, git_commit, status}, ...]}   # oldest first
      ],
      "untagged_scenarios": [<scenario>, ...],
      "unknown_requirements": [{id, scenarios: [nodeid, ...]}],
      "history": {size, runs, skipped_lines}
    }

    <scenario> = {nodeid, feature_file, feature_name, name, line, tags, requirements,
                  status, duration_wall, duration_virtual, failing_step, error,
                  reproduce, steps: [{keyword, name, line, status, duration_wall}],
                  executions: [<harness.evidence.ExecutionEvidence>], profile,
                  cluster, store, seed}

Durations are seconds; ``duration_virtual`` and every execution time are virtual
seconds since the scenario began. ``schema_version`` changes when a field changes
meaning or disappears; :func:`read_requirements_json` refuses other versions.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

from harness.report.model import SCHEMA_VERSION, Report

SCHEMA_FILE = "requirements.schema.json"

_TOP_LEVEL = (
    "schema_version",
    "run",
    "summary",
    "requirements",
    "untagged_scenarios",
    "unknown_requirements",
    "history",
)


class ReportFormatError(ValueError):
    """A file that should be a ``requirements.json`` is not one this code can read."""


def dumps_report(report: Report) -> str:
    """The text of ``requirements.json``: indented, keys in the report's order."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def read_requirements_json(path: Path) -> Report:
    """A report written by :func:`harness.report.write_reports`, checked for its version."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportFormatError(f"{path}: cannot read a requirements report: {exc}") from None
    if not isinstance(data, dict):
        raise ReportFormatError(f"{path}: a requirements report is a JSON object, not this")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ReportFormatError(
            f"{path}: schema_version is {version!r}, this windtunnel reads {SCHEMA_VERSION}; "
            "rewrite the report with this version"
        )
    missing = [key for key in _TOP_LEVEL if key not in data]
    if missing:
        raise ReportFormatError(f"{path}: the report lacks {', '.join(missing)}")
    # Only the envelope is checked here; the schema test holds the writer to the rest.
    return cast(Report, data)


def schema() -> dict[str, Any]:
    """The JSON Schema of ``requirements.json``."""
    loaded: dict[str, Any] = json.loads(
        files("harness.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    )
    return loaded
