"""``windtunnel run``: the requirement suite on a profile, its reports, and a verdict.

It runs pytest on the feature folder in a child process (so the run is exactly what
``pytest features`` would do, and the CLI's own imports never leak into it), in
parallel with pytest-xdist, writing the requirement reports; then prints a summary
table, what needs attention with the command that reproduces it, and the path of the
HTML page. The exit code is the verdict: 0 only if no requirement failed in this run
(with ``--gate``, also none is uncovered); 1 otherwise; pytest's own code when it could
not run the suite at all (usage errors, a catalogue or feature that does not parse).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

SUITE_PLUGINS_OFF = (
    *("-p", "no:randomly"),  # scenarios are independent; file order reads best
    *("-p", "no:cacheprovider"),
    # Plugins the feature suite does not use, each a few hundred ms of start-up for
    # every xdist worker.
    *("-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:anyio"),
)
"""pytest options of every feature-suite run (``windtunnel run``, ``bench suite``)."""

DEFAULT_FEATURES = Path("features")
DEFAULT_REPORTS = Path("reports")


def run(
    scenario: str = typer.Option(
        "HighLoadProduction", "--scenario", help="Profile for scenarios that choose none."
    ),
    gate: bool = typer.Option(False, "--gate", help="Also fail when a requirement is uncovered."),
    workers: str = typer.Option(
        "auto", "-n", "--workers", help="pytest-xdist workers: a number, 0 (serial) or auto."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the profile's)."),
    store: str | None = typer.Option(
        None, "--store", help="memory or sqlite (default: profile's)."
    ),
    cluster: str = typer.Option("sim", "--cluster", help="sim or kubeconfig:PATH."),
    features: Path = typer.Option(DEFAULT_FEATURES, "--features", help="The feature folder."),
    reports: Path = typer.Option(DEFAULT_REPORTS, "--reports", help="Where reports are written."),
    pytest_args: list[str] | None = typer.Argument(None, help="Extra pytest arguments, after --."),
) -> None:
    """Run the requirement suite, write the coverage reports, and gate on the result."""
    console = Console(width=max(110, Console().width))
    if not features.is_dir():
        console.print(f"[red]no feature folder at {features.resolve()}[/red] (use --features DIR)")
        raise typer.Exit(2)
    args = [sys.executable, "-m", "pytest", str(features), "-q", *SUITE_PLUGINS_OFF]
    args += ["--windtunnel-reports", str(reports)]
    args += ["--scenario", scenario, "--cluster", cluster]
    if workers not in ("0", ""):
        args += ["-n", workers]
    if seed is not None:
        args += ["--seed", str(seed)]
    if store is not None:
        args += ["--store", store]
    args += ["--junitxml", str(reports / "junit.xml")]
    args += list(pytest_args or [])
    reports.mkdir(parents=True, exist_ok=True)
    json_path = reports / "requirements.json"
    before = json_path.stat().st_mtime_ns if json_path.exists() else None
    code = subprocess.call(args, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if not json_path.exists() or json_path.stat().st_mtime_ns == before:
        console.print(f"[red]pytest exited {code} without writing a report[/red]")
        raise typer.Exit(code or 2)
    raise typer.Exit(_verdict(console, json_path, gate))


def _verdict(console: Console, json_path: Path, gate: bool) -> int:
    from harness.report import attention_rows, read_requirements_json, summary_rows

    report = read_requirements_json(json_path)
    table = Table(title="Requirement coverage", show_lines=False)
    for column in ("scope", "total", "passed", "failed", "flaky", "skipped", "uncovered", "%"):
        table.add_column(column, justify="left" if column == "scope" else "right")
    for row in summary_rows(report):
        cells = [row.scope, *(str(v) for v in row[1:7]), f"{row.passed_percent:.0f}"]
        table.add_row(*cells)
    console.print(table)
    attention = attention_rows(report)
    if attention:
        needs = Table(title="Needs attention", show_lines=False)
        for column in ("requirement", "status", "scenario", "reproduce"):
            needs.add_column(column)
        for a in attention:
            needs.add_row(a.requirement, a.status, a.scenario or a.title, a.reproduce)
        console.print(needs)
    summary = report["summary"]
    failing = len(summary["failing_requirements"])
    uncovered = sum(1 for r in report["requirements"] if r["status"] == "uncovered")
    html = json_path.with_name("requirements.html")
    console.print(f"report: {html.resolve()}")
    if failing or summary["scenarios"]["failed"]:
        console.print(
            f"[red]failed: {', '.join(summary['failing_requirements']) or 'scenarios'}[/red]"
        )
        return 1
    if gate and uncovered:
        console.print(f"[red]--gate: {uncovered} requirement(s) uncovered[/red]")
        return 1
    return 0
