"""Writing every report of one run into a folder, and recording the run in its history.

:func:`write_reports` is the one entry point the CLI needs: it reads the history,
builds the :class:`~harness.report.model.Report`, writes ``requirements.json``,
``requirements.html``, ``requirements.md`` and ``cucumber.json``, and only then
appends this run to ``history/runs.jsonl`` (a run whose reports could not be written
leaves no trace in the history). Each file is written to a temporary name and renamed
into place, so a reader never sees half a report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Catalogue
from harness.evidence import ScenarioEvidence
from harness.report.aggregate import build_report, history_entry
from harness.report.canonical import dumps_report
from harness.report.cucumber import cucumber_features
from harness.report.history import append_run, history_path, read_history
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.model import Report, RunMeta


@dataclass(frozen=True)
class ReportPaths:
    """Where each report went, and the report itself for a summary and an exit code."""

    requirements_json: Path
    requirements_html: Path
    requirements_md: Path
    cucumber_json: Path
    history: Path
    report: Report


def write_reports(
    out_dir: Path,
    catalogue: Catalogue,
    evidence: Sequence[ScenarioEvidence],
    meta: RunMeta,
    *,
    history_size: int = 10,
) -> ReportPaths:
    """Write every report of this run into ``out_dir`` and append it to the history.

    Flakiness is judged on the last ``history_size`` runs of ``meta["profile"]``, this
    one included (see :mod:`harness.report.history`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_file = history_path(out_dir)
    history = read_history(runs_file)
    report = build_report(
        catalogue,
        evidence,
        meta,
        history.runs,
        history_size=history_size,
        skipped_history_lines=history.skipped_lines,
    )
    paths = ReportPaths(
        requirements_json=out_dir / "requirements.json",
        requirements_html=out_dir / "requirements.html",
        requirements_md=out_dir / "requirements.md",
        cucumber_json=out_dir / "cucumber.json",
        history=runs_file,
        report=report,
    )
    _write(paths.requirements_json, dumps_report(report))
    _write(paths.requirements_html, render_html(report))
    _write(paths.requirements_md, render_markdown(report))
    _write(paths.cucumber_json, json.dumps(cucumber_features(evidence), indent=2) + "\n")
    append_run(runs_file, history_entry(report))
    return paths


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
