"""``windtunnel demo``: run a remediation-shaped workflow through the real engine.

This is the main job until the BDD requirement suite lands: it proves the engine end
to end (validation, conditions, retries with jittered backoff, timeouts, trigger rules,
persistence, events) on virtual time, prints each step's outcome and writes a JSON report.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from engine import Engine, ExecutionState, ExecutionStatus, TemplateError, default_registry
from engine.loader import load_template, load_template_file
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage
from harness.virtual_time import run_virtual


async def _run(path: Path | None, seed: int) -> ExecutionState:
    registry = default_registry()
    if path is None:
        text = resources.files("harness").joinpath("data/demo_workflow.yaml").read_text("utf-8")
        compiled = load_template(text, registry, source="demo_workflow.yaml")
    else:
        compiled = load_template_file(path, registry)
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        actions=registry,
        seed=seed,
    )
    return await engine.run(compiled)


def demo(
    template: Path | None = typer.Option(
        None, "--template", help="A workflow YAML/JSON file to run instead."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed for retry jitter and injected failures."),
    report: Path = typer.Option(
        Path("reports/demo-execution.json"), "--report", help="Where to write the JSON report."
    ),
) -> None:
    """Run a workflow through the real engine on virtual time and report each step."""
    console = Console()
    wall = time.perf_counter()
    try:
        result = run_virtual(_run(template, seed))
    except TemplateError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    wall = time.perf_counter() - wall
    record = result.execution
    table = Table(title=f"{record.workflow} v{record.version}: {record.status}")
    for column in ("step", "status", "attempts", "virtual s", "detail"):
        table.add_column(column)
    for step in result.steps.values():
        took = (
            ""
            if step.started_at is None or step.finished_at is None
            else f"{step.finished_at - step.started_at:.1f}"
        )
        detail = step.error or step.reason or ""
        table.add_row(step.step_id, str(step.status), str(len(step.attempts)), took, detail)
    console.print(table)
    virtual = (record.finished_at or 0) - (record.started_at or 0)
    console.print(
        f"{virtual:.1f} s of workflow time in {wall * 1000:.0f} ms of wall time (virtual clock)"
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "execution": record._asdict(),
                "steps": {sid: s._asdict() for sid, s in result.steps.items()},
            },
            indent=2,
            default=str,
        )
    )
    console.print(f"report: {report}")
    if record.status not in (ExecutionStatus.SUCCEEDED, ExecutionStatus.PARTIALLY_SUCCEEDED):
        raise typer.Exit(1)
