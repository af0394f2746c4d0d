"""``windtunnel bench inprocess``: is the in-process Locust user a fair load generator?

Measured in one run, on the same profile, the same SQLite-backed testbed and the same
one-step no-op template, with the same number of concurrent clients:

* the floor: the engine alone, driven from a plain asyncio loop (``clients`` coroutines,
  each submitting an execution and awaiting its end, again and again, for
  ``duration`` seconds);
* the in-process user: ``windtunnel load`` in in-process mode with ``clients`` users
  for ``duration`` seconds (a steady shape over a generated profile that extends the
  chosen one and replaces its mix with the one-step template).

The figure is the ratio of the two completion rates; the target is ≥ 0.5 (the load
generator must not be what limits the engine).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from harness.testbed import Testbed, TestbedOptions
from loadtests.runner import LoadOptions, run_load
from scenarios import load_profile

ONE_STEP: dict[str, Any] = {"name": "bench-one-step", "steps": [{"id": "work", "action": "noop"}]}


@dataclass(frozen=True)
class InprocessBench:
    """Medians over ``repeats`` pairs; ``ratios`` holds each pair's own ratio."""

    profile: str
    clients: int
    duration: float
    repeats: int
    engine_alone_per_s: float
    inprocess_user_per_s: float
    ratio: float
    ratios: list[float]
    load_run_ids: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def engine_alone(profile: str, clients: int, duration: float, path: Path) -> float:
    """Completions per second of the engine driven from a plain asyncio loop."""
    options = TestbedOptions(store="sqlite", sqlite_path=path, real_time=True)
    bed = Testbed(load_profile(profile), options)
    await bed.start()
    try:
        compiled = bed.template(ONE_STEP)
        engine = bed.engine
        done = 0
        deadline = 0.0

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                execution_id = await engine.submit(compiled.name, version=compiled.version)
                await engine.finished(execution_id)
                done += 1

        start = time.perf_counter()
        deadline = start + duration
        await asyncio.gather(*(client() for _ in range(clients)))
        return done / (time.perf_counter() - start)
    finally:
        await bed.stop()


def bench_profile(base: str, clients: int, duration: float, folder: Path) -> Path:
    """A profile that extends ``base`` with a steady one-step load (see module doc)."""
    data = {
        "name": "BenchInprocess",
        "extends": str(Path(base).resolve()) if base.endswith((".yaml", ".yml")) else base,
        "load": {
            "mode": "inprocess",
            "nightly": False,
            "shape": {
                # Every user at once: the rate is not diluted by a ramp-up.
                "steady": {"users": clients, "duration": duration, "spawn_rate": clients * 100},
                "ramp": None,
                "spike": None,
                "soak": None,
            },
            "workflows": [{"template": ONE_STEP}],
            "slos": {
                "p95_completion_ms": None,
                "max_failure_ratio": None,
                "min_executions_per_s": None,
            },
            "wait_seconds": 0,
        },
    }
    path = folder / "BenchInprocess.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_inprocess_bench(
    profile: str,
    *,
    clients: int,
    duration: float,
    reports: Path,
    console: Console,
    repeats: int = 1,
) -> InprocessBench:
    """``repeats`` pairs (the engine alone, then the in-process user), medians of each.

    Pairs alternate so that a machine busy for a while weighs on both sides alike.
    """
    alone_rates: list[float] = []
    user_rates: list[float] = []
    run_ids: list[str] = []
    with tempfile.TemporaryDirectory(prefix="windtunnel-bench-") as tmp:
        path = bench_profile(profile, clients, duration, Path(tmp))
        for i in range(repeats):
            store = Path(tmp) / f"alone-{i}.sqlite"
            alone = asyncio.run(engine_alone(profile, clients, duration, store))
            console.print(f"engine alone, plain asyncio: {alone:.1f} executions/s", highlight=False)
            result = run_load(
                LoadOptions(scenario=str(path), mode="inprocess", reports=reports, quiet=True),
                console,
            )
            alone_rates.append(alone)
            user_rates.append(float(result.record["measurement"]["executions_per_s"]))
            run_ids.append(result.record["run_id"])
    ratios = [u / a if a else 0.0 for u, a in zip(user_rates, alone_rates, strict=True)]
    return InprocessBench(
        profile=profile,
        clients=clients,
        duration=duration,
        repeats=repeats,
        engine_alone_per_s=statistics.median(alone_rates),
        inprocess_user_per_s=statistics.median(user_rates),
        ratio=statistics.median(ratios),
        ratios=[round(r, 3) for r in ratios],
        load_run_ids=run_ids,
    )
