"""``windtunnel load``: a headless Locust run of a profile's load, gated on its SLOs.

The work is in :mod:`loadtests.runner` (imported when the command runs, never at CLI
import, and never importing Locust: Locust runs as a subprocess). This module turns
options into a :class:`loadtests.runner.LoadOptions`, prints the summary, and sets the
exit code: 0 when every SLO is met and no execution was lost, 1 when one is breached
or one was lost (each named, with target and measured value), 2 when the run could not
be made. With ``--json`` the last line is one JSON object of the run's figures.

``bench_inprocess`` is ``windtunnel bench inprocess`` (mounted next to the others).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

MODES = ("http", "inprocess")


def load(
    scenario: str = typer.Option(
        "HighLoadProduction", "--scenario", help="Profile (name or file) whose load: to run."
    ),
    mode: str | None = typer.Option(
        None, "--mode", help="http (the service) or inprocess users (default: profile's)."
    ),
    users: int | None = typer.Option(
        None, "--users", min=1, help="Peak users (the profile's shape is scaled to it)."
    ),
    spawn_rate: float | None = typer.Option(
        None, "--spawn-rate", min=0.001, help="Users started per second when the count changes."
    ),
    duration: float | None = typer.Option(
        None, "--duration", min=0.1, help="Seconds (the profile's shape is scaled to it)."
    ),
    processes: int | None = typer.Option(
        None, "--processes", min=1, help="Locust processes on this machine (forked workers)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the profile's)."),
    reports: Path = typer.Option(Path("reports"), "--reports", help="Reports folder."),
    master: bool = typer.Option(False, "--master", help="Be the master of a distributed run."),
    worker: bool = typer.Option(False, "--worker", help="Be a worker of a distributed run."),
    master_host: str = typer.Option(
        "127.0.0.1", "--master-host", help="Worker: the master's host; master: the bind host."
    ),
    master_port: int = typer.Option(5557, "--master-port", help="The master's port."),
    expect_workers: int = typer.Option(
        1, "--expect-workers", min=1, help="Master: workers to wait for before starting."
    ),
    service_host: str = typer.Option(
        "127.0.0.1", "--service-host", help="HTTP mode: where the service listens."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """Run a profile's load (shape, workflow mix, SLOs) against the engine, headless."""
    from loadtests.runner import LoadError, LoadOptions, PlanError, run_load, run_worker
    from scenarios import ProfileError

    console = Console()
    if mode is not None and mode not in MODES:
        raise typer.BadParameter(f"--mode must be http or inprocess, got {mode!r}")
    if master and worker:
        raise typer.BadParameter("--master and --worker exclude each other")
    if master and processes:
        raise typer.BadParameter(
            "a master runs no users: give --processes to the workers (--worker --processes N)"
        )
    options = LoadOptions(
        scenario=scenario,
        mode=mode,  # type: ignore[arg-type]
        users=users,
        spawn_rate=spawn_rate,
        duration=duration,
        processes=processes,
        seed=seed,
        reports=reports,
        role="master" if master else "worker" if worker else "local",
        master_host=master_host,
        master_port=master_port,
        expect_workers=expect_workers,
        service_host=service_host,
        quiet=quiet,
    )
    if worker:
        raise typer.Exit(run_worker(options, console))
    try:
        result = run_load(options, console)
    except (ProfileError, PlanError, LoadError, OSError) as exc:
        console.print(f"[red]windtunnel load: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    record = result.record
    _print_summary(console, record)
    for message in result.messages:
        console.print(f"[red]{message}[/red]", highlight=False)
    if as_json:
        print(json.dumps(json_line(record)))
    raise typer.Exit(result.exit_code)


def json_line(record: Any) -> dict[str, Any]:
    """The ``--json`` object: the run's headline figures and verdicts."""
    m = record["measurement"]
    ledger = record["ledger"]
    return {
        "run_id": record["run_id"],
        "profile": record["profile"],
        "mode": record["mode"],
        "executions_per_s": m["executions_per_s"],
        "p50_completion_ms": m["p50_completion_ms"],
        "p95_completion_ms": m["p95_completion_ms"],
        "p99_completion_ms": m["p99_completion_ms"],
        "p95_submit_ms": m["p95_submit_ms"],
        "failure_ratio": m["failure_ratio"],
        "submitted": ledger["submitted"] if ledger else m["submit_requests"] - m["submit_failures"],
        "terminal": ledger["terminal"] if ledger else m["completions"],
        "acknowledged": m["submit_requests"] - m["submit_failures"],
        "slo_passed": record["slo_passed"],
        "slos": {
            s["name"]: {"target": s["target"], "measured": s["measured"], "passed": s["passed"]}
            for s in record["slos"]
        },
        "no_loss": record["no_loss"],
        "passed": record["passed"],
        "run_dir": record["run_dir"],
    }


def _print_summary(console: Console, record: Any) -> None:
    m = record["measurement"]
    table = Table(title=f"load run {record['run_id']} · {record['profile']} · {record['mode']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("executions/s", f"{m['executions_per_s']:.1f}")
    for key in ("p50", "p95", "p99"):
        value = m[f"{key}_completion_ms"]
        table.add_row(f"completion {key}", "–" if value is None else f"{value:.0f} ms")
    table.add_row(
        "submit p95", "–" if m["p95_submit_ms"] is None else f"{m['p95_submit_ms']:.0f} ms"
    )
    table.add_row("failure ratio", f"{m['failure_ratio']:.4f}")
    ledger = record["ledger"]
    if ledger is not None:
        table.add_row(
            "submitted / terminal (store)", f"{ledger['submitted']} / {ledger['terminal']}"
        )
    for slo in record["slos"]:
        table.add_row(f"SLO {slo['name']}", ("met" if slo["passed"] else "[red]breached[/red]"))
    console.print(table)
    console.print(f"summary: {Path(record['run_dir']) / 'summary.md'}", highlight=False)


def bench_inprocess(
    scenario: str = typer.Option("HighLoadProduction", "--scenario", help="Profile to load."),
    clients: int = typer.Option(20, "--clients", min=1, help="Concurrent clients / users."),
    duration: float = typer.Option(10.0, "--duration", min=1.0, help="Seconds of each side."),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Pairs of runs (medians shown)."),
    reports: Path = typer.Option(Path("reports"), "--reports", help="Reports folder."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """The in-process user's completion rate against the engine alone (same run)."""
    from loadtests.bench import run_inprocess_bench

    console = Console()
    result = run_inprocess_bench(
        scenario,
        clients=clients,
        duration=duration,
        reports=reports,
        console=console,
        repeats=repeats,
    )
    title = f"in-process user vs engine alone · {scenario} · {clients} clients"
    table = Table(title=title + (f" · median of {repeats}" if repeats > 1 else ""))
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("engine alone (plain asyncio), executions/s", f"{result.engine_alone_per_s:.1f}")
    table.add_row("in-process Locust user, executions/s", f"{result.inprocess_user_per_s:.1f}")
    table.add_row("ratio (target ≥ 0.5)", f"{result.ratio:.3f}")
    if repeats > 1:
        table.add_row("ratio of each pair", ", ".join(f"{r:.3f}" for r in result.ratios))
    console.print(table)
    if as_json:
        print(json.dumps(result.as_dict()))
