"""``windtunnel bench testbed``: what a fresh testbed costs, against its cluster alone.

Every scenario builds a fresh testbed (settled cluster, clients, stores, engine, the
capacity tracker's first measurement) and tears it down, so this cost is paid once per
scenario. The baseline, measured in the same run, is building and stopping the
profile's cluster alone (``scenarios.build_cluster``): the ratio is what the wiring
around the cluster adds. Each side runs ``repeats`` times on a fresh virtual-time loop
(the profile is resolved once, outside the timing); the medians are reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from harness.testbed import Testbed, TestbedOptions
from harness.virtual_time import run_virtual
from scenarios import build_cluster, load_profile


@dataclass(frozen=True)
class TestbedBench:
    """Median wall milliseconds of a build + teardown, each side."""

    __test__ = False  # not a pytest test class

    profile: str
    store: str
    repeats: int
    testbed_ms: float
    cluster_ms: float
    build_ms: float
    teardown_ms: float

    @property
    def ratio(self) -> float:
        return self.testbed_ms / self.cluster_ms if self.cluster_ms else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def run_testbed_bench(
    profile_name: str, *, repeats: int = 20, store: str = "memory"
) -> TestbedBench:
    profile = load_profile(profile_name)
    options = TestbedOptions(store=store)  # type: ignore[arg-type]

    async def testbed() -> tuple[float, float]:
        start = time.perf_counter()
        bed = Testbed(profile, options)
        await bed.start()
        built = time.perf_counter()
        await bed.stop()
        return built - start, time.perf_counter() - built

    async def cluster() -> tuple[float, float]:
        start = time.perf_counter()
        sim = await build_cluster(profile)
        built = time.perf_counter()
        await sim.stop()
        return built - start, time.perf_counter() - built

    def timed(fn: Callable[[], Awaitable[tuple[float, float]]]) -> tuple[float, float]:
        return run_virtual(fn())  # type: ignore[arg-type]

    timed(testbed)  # warm imports and caches outside the timing
    timed(cluster)
    beds: list[tuple[float, float]] = []
    clusters: list[tuple[float, float]] = []
    for _ in range(repeats):  # alternate, so drift on a shared machine hits both sides
        beds.append(timed(testbed))
        clusters.append(timed(cluster))
    ms = 1000.0
    return TestbedBench(
        profile=profile_name,
        store=store,
        repeats=repeats,
        testbed_ms=statistics.median(b + t for b, t in beds) * ms,
        cluster_ms=statistics.median(b + t for b, t in clusters) * ms,
        build_ms=statistics.median(b for b, _ in beds) * ms,
        teardown_ms=statistics.median(t for _, t in beds) * ms,
    )
