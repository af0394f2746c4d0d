"""``windtunnel bench engine``: the engine's per-step overhead against the asyncio floor.

Both sides run the same DAG: ``layers`` layers of no-op steps, each step depending on
two steps of the layer before. The floor is plain asyncio, one Task per node awaiting
its dependencies' Tasks: the least any asyncio DAG runner can do. The engine runs the
same shape through its real dispatch path, with stores receiving every state
transition: the in-memory fakes, or with ``store="sqlite"`` a fresh SQLite file per run in
a temporary directory (``commit`` picks its commit policy, see
:mod:`engine.sqlite_store`). Runs alternate (engine, floor, engine, ...) so drift on a
shared machine hits both sides alike. ``ratio`` compares the fastest run of each side in CPU time of
the benchmark thread (robust to other processes on the machine); ``wall_ratio`` is the
same in wall time, and the two agree on an idle machine.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from engine import Engine, ExecutionStatus, StepSpec, WorkflowTemplate
from engine.compiled import CompiledWorkflow
from engine.sqlite_store import CommitPolicy, SqliteStore
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

StoreKind = Literal["memory", "sqlite"]


@dataclass(frozen=True)
class EngineBenchResult:
    """The figures ``windtunnel bench engine`` prints."""

    steps: int
    layers: int
    repeats: int
    engine_us_per_step: float
    floor_us_per_task: float
    ratio: float
    wall_engine_us_per_step: float
    wall_floor_us_per_task: float
    wall_ratio: float
    peak_kib_per_step: float
    compile_us_per_step: float
    compare_steps: int | None = None
    compare_engine_us_per_step: float | None = None
    scale_ratio: float | None = None
    store: str = "memory"

    def as_dict(self) -> dict[str, float | int | None]:
        """The result as a JSON-ready dict."""
        return asdict(self)


def layered_template(steps: int, layers: int = 10) -> WorkflowTemplate:
    """``steps`` no-op steps in ``layers`` layers, each depending on two of the layer before."""
    if steps < layers or steps % layers:
        raise ValueError(f"steps ({steps}) must be a positive multiple of layers ({layers})")
    width = steps // layers
    specs = []
    for layer in range(layers):
        for i in range(width):
            deps: tuple[str, ...] = ()
            if layer:
                deps = tuple(
                    dict.fromkeys((f"s{layer - 1}_{i}", f"s{layer - 1}_{(i + 1) % width}"))
                )
            specs.append(StepSpec(id=f"s{layer}_{i}", action="noop", depends_on=deps))
    return WorkflowTemplate(name=f"bench-{steps}", steps=tuple(specs))


async def _floor(steps: int, layers: int) -> None:
    width = steps // layers

    async def node(deps: tuple[asyncio.Task[None], ...]) -> None:
        for dep in deps:
            await dep

    previous: list[asyncio.Task[None]] = []
    for layer in range(layers):
        current = []
        for i in range(width):
            deps = (
                () if not layer else tuple(dict.fromkeys((previous[i], previous[(i + 1) % width])))
            )
            current.append(asyncio.ensure_future(node(deps)))
        previous = current
    await asyncio.gather(*previous)


def _new_engine() -> Engine:
    return Engine(state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository())


@dataclass(frozen=True)
class _Stores:
    """Where the engine under measurement writes: memory, or a new SQLite file per run."""

    kind: StoreKind = "memory"
    commit: CommitPolicy = "tick"
    directory: Path | None = None

    @asynccontextmanager
    async def engine(self) -> AsyncIterator[Engine]:
        if self.kind == "memory":
            yield _new_engine()
            return
        assert self.directory is not None
        path = Path(tempfile.mktemp(suffix=".db", dir=self.directory))
        try:
            with SqliteStore(path, commit=self.commit) as store:
                yield Engine(state_storage=store, repository=store)
        finally:
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()


async def _engine_run(compiled: CompiledWorkflow, stores: _Stores) -> None:
    async with stores.engine() as engine:
        engine.register(compiled)
        # The outcome only: reading every step back is not part of running them.
        record = await engine.finished(await engine.submit(compiled))
    if record.status is not ExecutionStatus.SUCCEEDED:
        raise RuntimeError(f"benchmark workflow ended {record.status}: {record.error}")


def _timed(factory: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run on a fresh event loop."""
    gc.collect()
    cpu, wall = time.thread_time(), time.perf_counter()
    asyncio.run(_as_coro(factory))
    return time.thread_time() - cpu, time.perf_counter() - wall


async def _as_coro(factory: Callable[[], Awaitable[None]]) -> None:
    await factory()


@dataclass(frozen=True)
class _Sides:
    engine_cpu: float
    floor_cpu: float
    engine_wall: float
    floor_wall: float


def _per_step(
    compiled: CompiledWorkflow, steps: int, layers: int, repeats: int, stores: _Stores
) -> _Sides:
    """µs per step of each side: the fastest of ``repeats`` alternating runs.

    The fastest run, because on a shared machine slower runs measure the neighbours, not
    the code (timeit's reasoning); CPU time of this thread, for the same reason.
    """
    engine_runs, floor_runs = [], []
    for _ in range(repeats):
        engine_runs.append(_timed(lambda: _engine_run(compiled, stores)))
        floor_runs.append(_timed(lambda: _floor(steps, layers)))
    scale = 1e6 / steps
    return _Sides(
        engine_cpu=min(cpu for cpu, _ in engine_runs) * scale,
        floor_cpu=min(cpu for cpu, _ in floor_runs) * scale,
        engine_wall=min(wall for _, wall in engine_runs) * scale,
        floor_wall=min(wall for _, wall in floor_runs) * scale,
    )


def _peak_kib_per_step(compiled: CompiledWorkflow, steps: int, stores: _Stores) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        asyncio.run(_engine_run(compiled, stores))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - base) / steps / 1024


def run_engine_bench(
    steps: int = 10_000,
    *,
    layers: int = 10,
    repeats: int = 5,
    compare_steps: int | None = 1_000,
    store: StoreKind = "memory",
    commit: CommitPolicy = "tick",
) -> EngineBenchResult:
    """Measure the engine and the floor at ``steps`` (and per-step scaling vs ``compare_steps``).

    ``store`` is where the engine writes; ``commit`` is the SQLite store's commit policy.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if store not in ("memory", "sqlite"):
        raise ValueError(f"store must be 'memory' or 'sqlite', got {store!r}")
    if store == "memory":
        return _run(steps, layers, repeats, compare_steps, _Stores())
    with tempfile.TemporaryDirectory(prefix="windtunnel-bench-") as directory:
        return _run(steps, layers, repeats, compare_steps, _Stores(store, commit, Path(directory)))


def _run(
    steps: int, layers: int, repeats: int, compare_steps: int | None, stores: _Stores
) -> EngineBenchResult:
    template = layered_template(steps, layers)
    start = time.perf_counter()
    compiled = _new_engine().register(template)
    compile_us = (time.perf_counter() - start) / steps * 1e6
    # One warm-up round so imports and first-call caches are not billed to either side.
    _per_step(compiled, steps, layers, 1, stores)
    sides = _per_step(compiled, steps, layers, repeats, stores)
    engine_us, floor_us = sides.engine_cpu, sides.floor_cpu
    compare_us = scale = None
    if compare_steps:
        small = _new_engine().register(layered_template(compare_steps, layers))
        # The small run is ten times shorter, so noise weighs ten times more: more tries.
        compare_us = _per_step(
            small, compare_steps, layers, max(repeats * 3, 15), stores
        ).engine_cpu
        scale = engine_us / compare_us
    return EngineBenchResult(
        steps=steps,
        layers=layers,
        repeats=repeats,
        engine_us_per_step=round(engine_us, 2),
        floor_us_per_task=round(floor_us, 2),
        ratio=round(engine_us / floor_us, 3),
        wall_engine_us_per_step=round(sides.engine_wall, 2),
        wall_floor_us_per_task=round(sides.floor_wall, 2),
        wall_ratio=round(sides.engine_wall / sides.floor_wall, 3),
        peak_kib_per_step=round(_peak_kib_per_step(compiled, steps, stores), 3),
        compile_us_per_step=round(compile_us, 2),
        compare_steps=compare_steps or None,
        compare_engine_us_per_step=None if compare_us is None else round(compare_us, 2),
        scale_ratio=None if scale is None else round(scale, 3),
        store=stores.kind if stores.kind == "memory" else f"{stores.kind}:{stores.commit}",
    )
