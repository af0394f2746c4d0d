"""``windtunnel nightly``: every nightly load run, then the requirement suite, one index.

1. For each profile whose ``load.nightly`` is true, a full ``windtunnel load`` run
   (:func:`loadtests.runner.run_load`; ``--load-duration`` shortens them for a trial).
2. The requirement suite, as ``windtunnel run`` does it (a child process), with
   ``WINDTUNNEL_HYPOTHESIS_PROFILE=nightly``. It runs after the loads on purpose:
   BR-WORKFLOW-038's scenario then reads tonight's full-length results.
3. ``reports/index.html``: one page linking the requirement report and, per load run,
   its summary, Locust report and result, with the trend plots shown.

Exit code 0 when the suite passed and every load run passed; 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from html import escape
from pathlib import Path
from typing import Any

import typer
from rich.console import Console


def nightly(
    reports: Path = typer.Option(Path("reports"), "--reports", help="Reports folder."),
    scenario: str = typer.Option(
        "HighLoadProduction",
        "--scenario",
        help="Profile of the suite's scenarios that choose none.",
    ),
    workers: str = typer.Option("auto", "-n", "--workers", help="pytest-xdist workers."),
    load_duration: float | None = typer.Option(
        None, "--load-duration", min=1.0, help="Scale every load run to this many seconds."
    ),
    features: Path = typer.Option(Path("features"), "--features", help="The feature folder."),
    skip_suite: bool = typer.Option(False, "--skip-suite", help="Only the load runs."),
) -> None:
    """The nightly job: load runs of the nightly profiles, the suite, and an index page."""
    from loadtests.plan import load_of
    from loadtests.runner import LoadError, LoadOptions, run_load
    from scenarios import ProfileError, list_profiles, load_profile

    console = Console()
    started = time.time()
    reports.mkdir(parents=True, exist_ok=True)
    loads: list[dict[str, Any]] = []
    for name in list_profiles():
        profile = load_profile(name)
        if profile.load is None or not load_of(profile).nightly:
            continue
        console.rule(f"nightly load run: {name}")
        try:
            result = run_load(
                LoadOptions(scenario=name, duration=load_duration, reports=reports), console
            )
        except (ProfileError, LoadError, OSError) as exc:
            console.print(f"[red]{name}: the load run could not be made: {exc}[/red]")
            loads.append({"profile": name, "error": str(exc)})
            continue
        for message in result.messages:
            console.print(f"[red]{name}: {message}[/red]", highlight=False)
        loads.append({"profile": name, "record": result.record})
    suite_code = 0
    if not skip_suite:
        console.rule("requirement suite (Hypothesis profile: nightly)")
        cmd = [sys.executable, "-m", "harness.cli", "run", "--reports", str(reports)]
        cmd += ["--scenario", scenario, "-n", workers, "--features", str(features)]
        env = {**os.environ, "WINDTUNNEL_HYPOTHESIS_PROFILE": "nightly"}
        suite_code = subprocess.call(cmd, env=env)
    index = reports / "index.html"
    index.write_text(index_html(reports, loads, suite_code, skip_suite, started), encoding="utf-8")
    console.print(f"index: {index.resolve()}")
    failed = suite_code != 0 or any(not e.get("record", {}).get("passed") for e in loads)
    raise typer.Exit(1 if failed else 0)


def _link(reports: Path, path: Path, text: str) -> str:
    if not path.exists():
        return f'<span class="missing">{escape(text)} (missing)</span>'
    href = path.resolve().relative_to(reports.resolve()).as_posix()
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def index_html(
    reports: Path, loads: list[dict[str, Any]], suite_code: int, skipped: bool, started: float
) -> str:
    """The nightly index page (every link relative to ``reports``)."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    suite = (
        "skipped"
        if skipped
        else ("passed" if suite_code == 0 else f"failed (exit code {suite_code})")
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>windtunnel nightly {escape(when)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        ".passed{color:#176f2c}.failed{color:#b3261e}img{max-width:100%;border:1px solid #ddd}"
        "td,th{padding:.2rem .6rem;text-align:left}</style></head><body>",
        f"<h1>windtunnel nightly, {escape(when)}</h1>",
        "<h2>Requirement suite</h2>",
        f"<p class='{'passed' if suite_code == 0 else 'failed'}'>{escape(suite)}</p><ul>",
    ]
    for name, text in (
        ("requirements.html", "requirement coverage report"),
        ("requirements.md", "summary (markdown)"),
        ("junit.xml", "JUnit XML"),
    ):
        parts.append(f"<li>{_link(reports, reports / name, text)}</li>")
    parts.append("</ul><h2>Load runs</h2>")
    if not loads:
        parts.append("<p>No profile is marked <code>load.nightly: true</code>.</p>")
    for entry in loads:
        parts.append(f"<h3>{escape(entry['profile'])}</h3>")
        record = entry.get("record")
        if record is None:
            parts.append(f"<p class='failed'>not run: {escape(entry.get('error', ''))}</p>")
            continue
        run_dir = Path(record["run_dir"])
        m = record["measurement"]
        verdict = "passed" if record["passed"] else "failed"
        parts.append(
            f"<p class='{verdict}'>{verdict} · run {escape(record['run_id'])} · "
            f"{m['executions_per_s']:.1f} executions/s · p95 completion "
            f"{m['p95_completion_ms'] if m['p95_completion_ms'] is not None else '–'} ms · "
            f"failure ratio {m['failure_ratio']:.4f}</p><table><tr><th>SLO</th><th>target</th>"
            "<th>measured</th><th>verdict</th></tr>"
        )
        for slo in record["slos"]:
            parts.append(
                f"<tr><td>{escape(slo['name'])}</td><td>{slo['target']:g}</td>"
                f"<td>{'–' if slo['measured'] is None else format(slo['measured'], '.4g')}</td>"
                f"<td class='{'passed' if slo['passed'] else 'failed'}'>"
                f"{'met' if slo['passed'] else 'breached'}</td></tr>"
            )
        parts.append("</table><ul>")
        for name, text in (
            ("summary.md", "summary"),
            ("report.html", "Locust report"),
            ("result.json", "result (JSON)"),
        ):
            parts.append(f"<li>{_link(reports, run_dir / name, text)}</li>")
        parts.append("</ul>")
        for png in ("throughput.png", "latency.png"):
            if (run_dir / png).exists():
                href = (run_dir / png).resolve().relative_to(reports.resolve()).as_posix()
                parts.append(f"<p><img src='{escape(href)}' alt='{escape(png)}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
