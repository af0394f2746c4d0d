"""The live view of a load run: what the Locust master reports every two seconds.

The locustfile prints ``WINDTUNNEL-PROGRESS {json}`` lines on stdout; the CLI reads
the Locust process's output line by line (no polling) and shows each as one line:
elapsed time, users, executions ended per second since the last line, p95 completion
latency so far, and submitted vs terminal as the users saw them. Drain lines (one per
process that ran in-process users) say how many executions were still running when
the load stopped and how many did not end within the drain time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from loadtests.plan import PROGRESS_MARK


def parse_line(line: str) -> dict[str, Any] | None:
    """The progress record of a line of Locust's stdout, or None for other output."""
    if not line.startswith(PROGRESS_MARK):
        return None
    try:
        data = json.loads(line[len(PROGRESS_MARK) :])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass
class ProgressView:
    console: Console
    quiet: bool = False
    last: dict[str, Any] = field(default_factory=dict)
    drains: list[dict[str, Any]] = field(default_factory=list)
    _prev: tuple[float, int] | None = None

    def show(self, data: dict[str, Any]) -> None:
        if data.get("drain"):
            self.drains.append(data)
            if not self.quiet:
                self.console.print(
                    f"  drain (pid {data['pid']}): {data['running_at_stop']} running at stop, "
                    f"{data['unfinished']} unfinished after the drain",
                    soft_wrap=True,
                )
            return
        self.last = data
        t = data.get("t")
        terminal = int(data.get("terminal") or 0)
        rate = ""
        if t is not None:
            if self._prev is not None and t > self._prev[0]:
                rate = f"{(terminal - self._prev[1]) / (t - self._prev[0]):.0f} exec/s"
            self._prev = (float(t), terminal)
        p95 = data.get("p95_completion_ms")
        if self.quiet:
            return
        when = f"{t:5.1f} s" if t is not None else "  end  "
        self.console.print(
            f"  {when} {data.get('users', 0):>5} users {rate:>13}  "
            f"p95 {'–' if p95 is None else f'{p95:.0f} ms':>7}  "
            f"submitted/terminal {data.get('submitted', 0)}/{terminal}  "
            f"failed {data.get('failures', 0)}",
            highlight=False,
            soft_wrap=True,
        )
