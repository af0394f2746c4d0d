"""``windtunnel bench``: benchmarks that print ratios against in-run baselines."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from harness.commands import bench_cluster

app = typer.Typer(
    help="Benchmarks; each prints a ratio against a baseline measured in the same run.",
    no_args_is_help=True,
)


@app.command("engine")
def engine(
    steps: int = typer.Option(10_000, "--steps", min=10, help="Steps in the DAG (multiple of 10)."),
    repeats: int = typer.Option(5, "--repeats", min=1, help="Timed runs of each side."),
    compare_steps: int = typer.Option(
        1_000,
        "--compare-steps",
        min=0,
        help="Smaller DAG for the per-step scaling ratio (0: skip).",
    ),
    store: str = typer.Option(
        "memory",
        "--store",
        help="Stores the engine writes to: memory, or sqlite (a new file per run, in a temp dir).",
    ),
    commit: str = typer.Option(
        "tick",
        "--commit",
        help="SQLite commit policy: tick (one commit per loop tick, the store's default) "
        "or save (one per write).",
    ),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """Engine µs/step on a 10-layer no-op DAG against the plain-asyncio floor."""
    from harness.bench.engine_bench import run_engine_bench

    if store not in ("memory", "sqlite"):
        raise typer.BadParameter(f"--store must be memory or sqlite, got {store!r}")
    if commit not in ("save", "tick"):
        raise typer.BadParameter(f"--commit must be save or tick, got {commit!r}")
    try:
        result = run_engine_bench(
            steps,
            repeats=repeats,
            compare_steps=compare_steps or None,
            store=store,  # type: ignore[arg-type]
            commit=commit,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    table = Table(
        title=f"engine ({result.store} stores) vs asyncio floor, {result.steps:,} steps, "
        f"{result.layers} layers"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("engine µs/step (CPU)", f"{result.engine_us_per_step:.2f}")
    table.add_row("floor µs/task, plain asyncio (CPU)", f"{result.floor_us_per_task:.2f}")
    target = "2.0" if result.store == "memory" else "5.0"
    table.add_row(f"ratio (target ≤ {target})", f"{result.ratio:.3f}")
    table.add_row(
        "wall time: engine / floor µs, ratio",
        f"{result.wall_engine_us_per_step:.2f} / {result.wall_floor_us_per_task:.2f}, "
        f"{result.wall_ratio:.3f}",
    )
    if result.scale_ratio is not None:
        table.add_row(
            f"engine µs/step at {result.compare_steps:,}",
            f"{result.compare_engine_us_per_step:.2f}",
        )
        table.add_row(
            f"scaling {result.steps:,} vs {result.compare_steps:,} (target ≤ 1.2)",
            f"{result.scale_ratio:.3f}",
        )
    table.add_row("peak KiB/step (target ≤ 2)", f"{result.peak_kib_per_step:.3f}")
    table.add_row(
        "compile µs/step (once per template version)", f"{result.compile_us_per_step:.2f}"
    )
    Console().print(table)
    if as_json:
        print(json.dumps(result.as_dict()))


app.command("cluster")(bench_cluster.cluster)


@app.command("testbed")
def bench_testbed(
    profile: str = typer.Option("HighLoadProduction", "--scenario", help="Profile to build."),
    repeats: int = typer.Option(20, "--repeats", min=1, help="Timed builds of each side."),
    store: str = typer.Option("memory", "--store", help="memory or sqlite."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """A fresh testbed's build + teardown against building its cluster alone."""
    from harness.bench.testbed_bench import run_testbed_bench

    if store not in ("memory", "sqlite"):
        raise typer.BadParameter(f"--store must be memory or sqlite, got {store!r}")
    result = run_testbed_bench(profile, repeats=repeats, store=store)
    table = Table(title=f"testbed on {result.profile} ({result.store} stores), median of {repeats}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("testbed build + teardown, ms (target ≤ 50)", f"{result.testbed_ms:.1f}")
    table.add_row(
        "  of which build / teardown, ms", f"{result.build_ms:.1f} / {result.teardown_ms:.1f}"
    )
    table.add_row("cluster alone build + stop, ms (baseline)", f"{result.cluster_ms:.1f}")
    table.add_row("ratio testbed / cluster alone", f"{result.ratio:.2f}")
    Console().print(table)
    if as_json:
        print(json.dumps(result.as_dict()))


@app.command("suite")
def bench_suite(
    workers: int = typer.Option(2, "-n", "--workers", min=1, help="Workers of the parallel run."),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Runs of each side."),
    features: str = typer.Option("features", "--features", help="The feature folder."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """The feature suite's wall time with -n 0 and with -n N, and the speed-up."""
    from pathlib import Path

    from harness.bench.suite_bench import run_suite_bench

    result = run_suite_bench(Path(features), workers=workers, repeats=repeats)
    table = Table(title=f"feature suite: {result.scenarios} scenarios, median of {repeats}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("serial (-n 0), s", f"{result.serial_s:.1f}")
    table.add_row(f"parallel (-n {workers}), s", f"{result.parallel_s:.1f}")
    table.add_row("speed-up (target ≥ 1.6 at -n 2)", f"{result.speedup:.2f}")
    Console().print(table)
    if as_json:
        print(json.dumps(result.as_dict()))
