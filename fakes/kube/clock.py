"""Where object timestamps come from, and how a thread waits.

Timestamps written into objects (``creationTimestamp``, ``deletionTimestamp``,
condition ``lastTransitionTime``, managedFields ``time``) come from a :class:`Clock`
given to the cluster. The default is the wall clock, which is what a real API server
does (the HTTP server and ``windtunnel cluster serve`` keep it).

Waits have two homes, one per front end:

* On the event loop (the asyncio client, controllers, the HTTP server) watch timeouts,
  bookmarks and injected latency wait on the *running loop*, so looptime
  fast-forwards them; :class:`LoopClock` makes timestamps follow that loop time.
* In a plain thread (the sync official client through ``fakes.kube.inprocess``) a
  watch or an injected latency waits through the cluster clock's :class:`SyncTimer`
  side (:func:`sync_timer`). :class:`WallClock` waits in real time.
  :class:`VirtualClock` is the sync counterpart of looptime: a sleep advances it at
  once, and a waiting watch jumps straight to its next deadline when nothing else can
  happen. Clocks without a timer side (:class:`FixedClock`, :class:`LoopClock`, your
  own) wait in real time from threads.

The :class:`VirtualClock` contract, because threads make "nothing else can happen"
subtle: a thread blocked in :meth:`VirtualClock.wait` is woken at once by an event
(its producer notifies it), and jumps virtual time to its deadline only when no
*other* thread holds the clock. A thread that will write while another thread
waits -- a test feeding a sync watch from the main thread -- says so with
``with clock.hold(): ...``; while it holds, waiters wait for real (no spinning: they
sleep on a condition until an event, a hold is released or time is advanced by
someone else) and virtual time does not move on their behalf. Sleeps
(:meth:`VirtualClock.sleep`, injected request latency) never wait for anyone: they
advance time at once, and waiters whose deadline that passes wake up.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


class Clock(Protocol):
    """Seconds since the Unix epoch, as a float."""

    def now(self) -> float: ...


@runtime_checkable
class SyncTimer(Protocol):
    """How a plain thread measures and waits for time (see the module docstring).

    ``wait`` blocks until ``ready()`` is true, the timer's :meth:`monotonic` reaches
    ``deadline``, or spuriously: callers re-check and loop. It is called *without*
    ``cond`` held; ``ready`` is evaluated under ``cond``, and producers make it true
    and then notify ``cond`` under it, so no wake-up is lost.
    """

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(
        self, cond: threading.Condition, deadline: float, ready: Callable[[], bool]
    ) -> None: ...


class WallClock:
    """The host's real time; threads wait for real."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wait(self, cond: threading.Condition, deadline: float, ready: Callable[[], bool]) -> None:
        with cond:
            if not ready():
                cond.wait(max(0.0, deadline - time.monotonic()))


WALL = WallClock()


def sync_timer(clock: Clock | None) -> SyncTimer:
    """The timer threads wait on for a cluster with ``clock``: the clock itself when it
    has a timer side (:class:`WallClock`, :class:`VirtualClock`), else real time."""
    return clock if isinstance(clock, SyncTimer) else WALL


class VirtualClock:
    """Virtual time for the sync front end: sleeps advance it, idle waits jump it.

    ``now()`` and ``monotonic()`` are the same virtual seconds since the Unix epoch,
    starting at ``start``, so object timestamps follow it too. Thread-safe; see the
    module docstring for the contract between waiting and writing threads.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._value = start
        self._lock = threading.Lock()
        self._holds: dict[int, int] = {}
        self._waiters: set[threading.Condition] = set()

    def now(self) -> float:
        return self._value

    def monotonic(self) -> float:
        return self._value

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake waiters whose deadline passed."""
        with self._lock:
            self._value += max(0.0, seconds)
            waiters = list(self._waiters)
        _notify(waiters)

    def sleep(self, seconds: float) -> None:
        """Return at once, ``seconds`` later in virtual time."""
        self.advance(seconds)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """While inside, waits in *other* threads do not jump time: they wait for events.

        Use it around code in one thread that writes what a sync watch in another
        thread is waiting for. Holds nest and are per thread.
        """
        me = threading.get_ident()
        with self._lock:
            self._holds[me] = self._holds.get(me, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._holds[me] - 1
                if left:
                    self._holds[me] = left
                else:
                    del self._holds[me]
                waiters = list(self._waiters)
            _notify(waiters)

    def wait(self, cond: threading.Condition, deadline: float, ready: Callable[[], bool]) -> None:
        """Return when ``ready()`` or at ``deadline``, jumping there unless another thread holds."""
        me = threading.get_ident()
        while not ready():
            with self._lock:
                if self._value >= deadline:
                    return
                jump = not self._held_by_others(me)
                if jump:
                    self._value = deadline
                    waiters = list(self._waiters)
                else:
                    self._waiters.add(cond)
            if jump:
                # Only after releasing every lock: notifying takes the waiters' conditions.
                _notify(waiters)
                return
            try:
                with cond:
                    if not ready() and not self._may_proceed(me, deadline):
                        cond.wait()
            finally:
                with self._lock:
                    self._waiters.discard(cond)

    def _held_by_others(self, me: int) -> bool:
        return any(thread != me for thread in self._holds)

    def _may_proceed(self, me: int, deadline: float) -> bool:
        # Re-checked under ``cond``: a hold released or time advanced between our
        # registration and the wait has already notified, and must not be missed.
        with self._lock:
            return self._value >= deadline or not self._held_by_others(me)


def _notify(conditions: list[threading.Condition]) -> None:
    for cond in conditions:
        with cond:
            cond.notify_all()


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
