"""``windtunnel demo``: run a remediation-shaped workflow through the real engine.

This is the main job until the BDD requirement suite lands: it proves the engine end
to end (validation, conditions, retries with jittered backoff, timeouts, trigger rules,
persistence, events) on virtual time, prints each step's outcome and writes a JSON report.

With ``--cluster kubeconfig:PATH`` the Kubernetes actions are registered against the
cluster that kubeconfig names (a real one, or ``windtunnel cluster serve``), and the
workflow runs in real time: a remote cluster does not follow a virtual clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from engine import Engine, ExecutionState, ExecutionStatus, TemplateError, default_registry
from engine.kube_actions import register_kube_actions
from engine.kube_actions.client import KubeconfigError, api_client_from_kubeconfig, kubeconfig_path
from engine.loader import load_template, load_template_file
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage
from harness.virtual_time import run_virtual


async def _run(path: Path | None, seed: int, cluster: str | None) -> ExecutionState:
    registry = default_registry()
    client = None
    if cluster is not None:
        client = await api_client_from_kubeconfig(kubeconfig_path(cluster))
        register_kube_actions(registry, client)
    try:
        if path is None:
            data = resources.files("harness").joinpath("data/demo_workflow.yaml")
            compiled = load_template(data.read_text("utf-8"), registry, source="demo_workflow.yaml")
        else:
            compiled = load_template_file(path, registry)
        engine = Engine(
            state_storage=InMemoryStateStorage(),
            repository=InMemoryExecutionRepository(),
            actions=registry,
            seed=seed,
        )
        return await engine.run(compiled)
    finally:
        if client is not None:
            await client.close()


def demo(
    template: Path | None = typer.Option(
        None, "--template", help="A workflow YAML/JSON file to run instead."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed for retry jitter and injected failures."),
    report: Path = typer.Option(
        Path("reports/demo-execution.json"), "--report", help="Where to write the JSON report."
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="kubeconfig:PATH — run the Kubernetes actions against that cluster (real time).",
    ),
) -> None:
    """Run a workflow through the real engine on virtual time and report each step."""
    console = Console()
    wall = time.perf_counter()
    try:
        job = _run(template, seed, cluster)
        result = asyncio.run(job) if cluster is not None else run_virtual(job)
    except (TemplateError, KubeconfigError) as exc:
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
    took_s = (record.finished_at or 0) - (record.started_at or 0)
    clock = "real clock" if cluster is not None else "virtual clock"
    console.print(f"{took_s:.1f} s of workflow time in {wall * 1000:.0f} ms of wall time ({clock})")
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
