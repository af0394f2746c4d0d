"""``windtunnel bench suite``: the feature suite serially and in parallel, and the speed-up.

Both runs are the same ``pytest features`` child process as ``windtunnel run`` makes
(its plugin options; reports off), one
with ``-n 0`` and one with ``-n N``, alternated ``repeats`` times; the figure is the
ratio of the medians of their wall times (serial ÷ parallel), measured in the same run.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SuiteBench:
    """Median wall seconds of the feature suite at each worker count."""

    workers: int
    repeats: int
    serial_s: float
    parallel_s: float
    scenarios: int

    @property
    def speedup(self) -> float:
        return self.serial_s / self.parallel_s if self.parallel_s else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "speedup": self.speedup}


def _run(features: Path, workers: int) -> tuple[float, int]:
    from harness.commands.run import SUITE_PLUGINS_OFF

    args = [sys.executable, "-m", "pytest", str(features), "-q", *SUITE_PLUGINS_OFF]
    args += ["-n", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"pytest exited {done.returncode}:\n{done.stdout[-2000:]}")
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    count = sum(
        int(w)
        for w, n in itertools.pairwise(tail.split())
        if n.startswith(("passed", "failed")) and w.isdigit()
    )
    return took, count


def run_suite_bench(features: Path, *, workers: int = 2, repeats: int = 1) -> SuiteBench:
    serial: list[float] = []
    parallel: list[float] = []
    count = 0
    for _ in range(repeats):
        took, count = _run(features, 0)
        serial.append(took)
        took, _ = _run(features, workers)
        parallel.append(took)
    return SuiteBench(
        workers=workers,
        repeats=repeats,
        serial_s=statistics.median(serial),
        parallel_s=statistics.median(parallel),
        scenarios=count,
    )
