"""What a load run measured, read from Locust's final JSON stats.

Users report two request types (plus ``register`` for template registration in HTTP
mode), one entry per template name:

* ``submit``: from the submit call to the engine's answer with an execution id;
* ``completion``: from the same submit call to the execution's terminal status (a
  failure when the execution ended in a status its mix entry does not expect, or the
  stream broke first).

Locust writes every entry's response-time histogram (``--json-file``); the percentiles
here are computed from the merged histograms of all templates, so p95 is over every
execution, not an average of per-template p95s. Locust rounds response times above
100 ms to two significant digits, which bounds the percentiles' precision.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SUBMIT = "submit"
COMPLETION = "completion"
REGISTER = "register"


@dataclass(frozen=True)
class Measurement:
    """The figures SLOs are checked against and trends are drawn from."""

    duration_s: float
    submit_requests: int
    submit_failures: int
    completions: int
    completion_failures: int
    executions_per_s: float
    failure_ratio: float
    p50_completion_ms: float | None
    p95_completion_ms: float | None
    p99_completion_ms: float | None
    p95_submit_ms: float | None
    submits_per_s: float

    @property
    def acknowledged(self) -> int:
        """Submits the engine answered with an execution id."""
        return self.submit_requests - self.submit_failures

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """The smallest response time at or below which ``fraction`` of the requests fall."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


def measure(entries: Iterable[Mapping[str, Any]]) -> Measurement:
    """The run's figures from Locust's serialised stats entries."""
    entries = list(entries)
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for e in entries:
        by_type.setdefault(str(e.get("method")), []).append(e)
    submits = by_type.get(SUBMIT, [])
    completions = by_type.get(COMPLETION, [])
    starts = [float(e["start_time"]) for e in entries if e.get("start_time")]
    ends = [float(e["last_request_timestamp"]) for e in entries if e.get("last_request_timestamp")]
    duration = max(ends) - min(starts) if starts and ends else 0.0
    done = sum(int(e["num_requests"]) for e in completions)
    submitted = sum(int(e["num_requests"]) for e in submits)
    submit_failed = sum(int(e["num_failures"]) for e in submits)
    done_failed = sum(int(e["num_failures"]) for e in completions)
    completion_times = _merged(completions)
    submit_times = _merged(submits)
    per_s = (lambda n: n / duration) if duration > 0 else (lambda n: 0.0)
    return Measurement(
        duration_s=round(duration, 3),
        submit_requests=submitted,
        submit_failures=submit_failed,
        completions=done,
        completion_failures=done_failed,
        executions_per_s=round(per_s(done), 3),
        failure_ratio=round((submit_failed + done_failed) / submitted, 6) if submitted else 0.0,
        p50_completion_ms=percentile(completion_times, 0.50),
        p95_completion_ms=percentile(completion_times, 0.95),
        p99_completion_ms=percentile(completion_times, 0.99),
        p95_submit_ms=percentile(submit_times, 0.95),
        submits_per_s=round(per_s(submitted - submit_failed), 3),
    )


def read_stats(path: Path) -> Measurement:
    """:func:`measure` over a ``--json-file`` Locust wrote."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path} is not Locust's JSON stats (a list of entries)")
    return measure(data)


def _merged(entries: Iterable[Mapping[str, Any]]) -> Counter[int]:
    merged: Counter[int] = Counter()
    for e in entries:
        for key, count in (e.get("response_times") or {}).items():
            merged[int(float(key))] += int(count)
    return merged
