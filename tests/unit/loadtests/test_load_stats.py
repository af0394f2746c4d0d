"""What a run measured, from Locust's serialised stats: merged histograms, ratios, rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadtests.stats import COMPLETION, REGISTER, SUBMIT, measure, percentile, read_stats


def entry(method: str, name: str, times: dict[int, int], failures: int = 0, **kw: Any) -> Any:
    return {
        "name": name,
        "method": method,
        "num_requests": sum(times.values()),
        "num_failures": failures,
        "response_times": {str(k): v for k, v in times.items()},
        "start_time": kw.get("start", 100.0),
        "last_request_timestamp": kw.get("end", 110.0),
    }


def test_percentiles_are_the_smallest_time_covering_the_share() -> None:
    histogram = {10: 50, 20: 45, 100: 4, 900: 1}
    assert percentile(histogram, 0.50) == 10.0
    assert percentile(histogram, 0.95) == 20.0
    assert percentile(histogram, 0.96) == 100.0
    assert percentile(histogram, 0.99) == 100.0
    assert percentile(histogram, 1.0) == 900.0
    assert percentile({}, 0.95) is None


def test_completion_percentiles_are_over_every_template_not_an_average_of_them() -> None:
    m = measure(
        [
            entry(COMPLETION, "fast", {5: 90}),
            entry(COMPLETION, "slow", {1000: 10}),
            entry(SUBMIT, "fast", {1: 90}),
            entry(SUBMIT, "slow", {2: 10}),
        ]
    )
    assert m.p50_completion_ms == 5.0
    assert m.p95_completion_ms == 1000.0  # 10 of 100 are slow: p95 falls among them
    assert m.p95_submit_ms == 2.0


def test_rates_and_failure_ratio() -> None:
    m = measure(
        [
            entry(SUBMIT, "a", {1: 200}, failures=4, start=100.0, end=110.0),
            entry(COMPLETION, "a", {9: 190}, failures=6, start=100.5, end=110.0),
            entry(REGISTER, "a", {3: 1}),
        ]
    )
    assert m.duration_s == 10.0
    assert (m.submit_requests, m.submit_failures, m.acknowledged) == (200, 4, 196)
    assert (m.completions, m.completion_failures) == (190, 6)
    assert m.executions_per_s == 19.0
    assert m.submits_per_s == 19.6
    assert m.failure_ratio == pytest.approx(10 / 200)


def test_no_requests_measure_nothing() -> None:
    m = measure([])
    assert (m.executions_per_s, m.failure_ratio, m.p95_completion_ms) == (0.0, 0.0, None)


def test_read_stats_reads_locusts_json_file(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    path.write_text(json.dumps([entry(COMPLETION, "a", {7: 3})]))
    assert read_stats(path).p50_completion_ms == 7.0
    path.write_text("{}")
    with pytest.raises(ValueError, match="is not Locust's JSON stats"):
        read_stats(path)
