"""Where object timestamps come from.

Timestamps written into objects (``creationTimestamp``, ``deletionTimestamp``,
condition ``lastTransitionTime``, managedFields ``time``) come from a :class:`Clock`
given to the cluster. The default is the wall clock, which is what a real API server
does. Tests under virtual time pass a :class:`LoopClock`, which maps the running
event loop's time onto a fixed epoch so timestamps advance with fast-forwarded time.

Nothing that *waits* uses this clock: watch timeouts and bookmarks wait on the
running asyncio loop (see ``fakes.kube.watch``), so looptime fast-forwards them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Seconds since the Unix epoch, as a float."""

    def now(self) -> float: ...


class WallClock:
    """The host's real time."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that only moves when told to; handy for unit tests of timestamps."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.value = start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


class LoopClock:
    """``epoch + loop.time()`` of the running loop (falls back to ``epoch`` outside one).

    Use it with looptime so that object timestamps follow virtual time.
    """

    def __init__(self, epoch: float = 1_700_000_000.0) -> None:
        self.epoch = epoch

    def now(self) -> float:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self.epoch
        return self.epoch + loop.time()


class TimestampFormatter:
    """RFC 3339 second-precision timestamps, cached per second (they repeat a lot)."""

    __slots__ = ("_last", "_text")

    def __init__(self) -> None:
        self._last = -1
        self._text = ""

    def format(self, when: float) -> str:
        second = int(when)
        if second != self._last:
            self._last = second
            self._text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._text


def format_micro(when: float) -> str:
    """RFC 3339 with microseconds, the ``MicroTime`` format (events, leases)."""
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    """Parse an RFC 3339 timestamp written by the server or a client."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
