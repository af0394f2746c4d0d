"""Watches: filtered, resumable streams of changes to one kind.

Contract
--------
:func:`open_watch` registers a :class:`Watcher` on the store and primes it:

* ``resource_version`` unset or ``"0"``: synthetic ADDED events for every current
  matching object, then live changes (the real server's "start at most recent").
* ``resource_version=N``: every change after N from the kind's history, then live
  changes. When N is older than the history window the watcher yields one ERROR
  event carrying a 410 ``Expired`` Status and ends, exactly as the real watch cache
  does (the official clients turn that into ``ApiException(410)``).
* Label/field-filtered watches see an object entering the selection as ADDED and
  leaving it as DELETED.
* ``allow_bookmarks``: a BOOKMARK with the current resourceVersion every
  ``bookmark_interval`` seconds of idleness and just before the timeout ends the
  stream; ``send_initial_events`` adds the ``k8s.io/initial-events-end`` bookmark.
* ``timeout`` (``timeoutSeconds``) ends the stream; unset means 1800 s, the real
  server's minimum request timeout.
* :meth:`Watcher.end_after` ends the stream that many seconds after it starts,
  without a final bookmark: the fault injector's dropped connection.

A watcher is consumed either with ``async for`` on the event loop (waits use the
*running loop's* clock, so looptime fast-forwards timeouts and bookmarks) or with a
plain ``for`` from a thread (the sync official client): there waits go through the
cluster clock's timer (``fakes.kube.clock.sync_timer``) -- real time for the wall
clock, and for a ``VirtualClock`` a watch with nothing to deliver jumps straight to
its next deadline unless another thread holds the clock (see ``fakes.kube.clock``).
Events are delivered as they happen: the store offers each change synchronously and
the waiting consumer is woken at once (thread-safely when the writer is on another
thread). :meth:`Watcher.close` ends the stream from either side.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from fakes.kube.clock import sync_timer
from fakes.kube.errors import dumps, gone
from fakes.kube.store import ADDED, DELETED, MODIFIED, Change

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from fakes.kube.clock import Clock, SyncTimer
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.selectors import FieldSelector, LabelSelector
    from fakes.kube.store import ObjectStore

BOOKMARK = "BOOKMARK"
ERROR = "ERROR"
DEFAULT_TIMEOUT = 1800.0
DEFAULT_BOOKMARK_INTERVAL = 60.0


class WatchEvent:
    """One event of a watch stream: its type and the encoded object.

    ``object`` decodes lazily (and once), so consumers that only need the type or
    the bytes pay nothing for JSON decoding.
    """

    __slots__ = ("_decoded", "raw", "type")

    def __init__(self, type: str, raw: bytes) -> None:
        self.type = type
        self.raw = raw
        self._decoded: dict[str, Any] | None = None

    @property
    def object(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = json.loads(self.raw)
        return self._decoded

    @property
    def resource_version(self) -> str:
        rv = self.object.get("metadata", {}).get("resourceVersion", "")
        return str(rv)

    def line(self) -> bytes:
        """The newline-terminated JSON line of the HTTP watch stream."""
        return b'{"type":"' + self.type.encode() + b'","object":' + self.raw + b"}\n"

    def __repr__(self) -> str:
        return f"<WatchEvent {self.type} {self.raw[:80]!r}>"


class Watcher:
    """A live, filtered subscription; iterate it (async or sync) to get :class:`WatchEvent`."""

    def __init__(
        self,
        store: ObjectStore,
        kind: ResourceKind,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        allow_bookmarks: bool = False,
        timeout: float | None = None,
        bookmark_interval: float = DEFAULT_BOOKMARK_INTERVAL,
        timer: SyncTimer | None = None,
    ) -> None:
        self.store = store
        self.kind = kind
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.allow_bookmarks = allow_bookmarks
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self.bookmark_interval = bookmark_interval
        self.timer = timer if timer is not None else sync_timer(None)
        self.drop_after: float | None = None
        self.queue: deque[WatchEvent] = deque()
        self.closed = False
        self._filtered = not labels.empty or not fields.empty
        self._unsubscribe: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._waiter: asyncio.Future[None] | None = None
        self._cond: threading.Condition | None = None
        self._final_bookmark_sent = False

    # -- producer side (called under the store lock) --------------------------

    def matches(self, labels: dict[str, str], fields: dict[str, str] | None) -> bool:
        if not self.labels.empty and not self.labels.matches(labels):
            return False
        return self.fields.empty or fields is None or self.fields.matches(fields)

    def offer(self, change: Change) -> None:
        if self.closed:
            return
        if self.namespace is not None and change.namespace != self.namespace:
            return
        type = change.type
        if self._filtered:
            need_fields = not self.fields.empty
            now = self.matches(change.labels, change.field_values() if need_fields else None)
            if type == MODIFIED and change.prev_labels is not None:
                before = self.matches(
                    change.prev_labels, change.field_values(previous=True) if need_fields else None
                )
                if now and not before:
                    type = ADDED
                elif before and not now:
                    type = DELETED
                elif not now:
                    return
            elif not now:
                return
        self.push(WatchEvent(type, change.raw))

    def push(self, event: WatchEvent) -> None:
        self.queue.append(event)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and self._loop is not None:
            if threading.get_ident() == self._loop_thread:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                self._loop.call_soon_threadsafe(_resolve, waiter)
        cond = self._cond
        if cond is not None:
            with cond:
                cond.notify_all()

    def close(self) -> None:
        """End the stream; pending events already queued are still delivered."""
        if self.closed:
            return
        self.closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._wake()

    def end_after(self, seconds: float) -> None:
        """End the stream ``seconds`` after its consumer starts (at once if ``<= 0``)."""
        if seconds <= 0:
            self.close()
        else:
            self.drop_after = seconds

    def _ready(self) -> bool:
        return bool(self.queue) or self.closed

    def _idle(self, schedule: _Schedule, now: float) -> WatchEvent | bool | None:
        """What an idle stream does at ``now``: a bookmark to send, ``True`` to end, or
        ``None`` to wait until ``schedule.wake_at``."""
        if schedule.drop_at <= now:
            return True
        if schedule.deadline <= now:
            if self.allow_bookmarks and not self._final_bookmark_sent:
                self._final_bookmark_sent = True
                return self._bookmark()
            return True
        if schedule.next_bookmark <= now:
            schedule.delivered(now)
            return self._bookmark()
        return None

    def _bookmark(self, initial_end: bool = False) -> WatchEvent:
        meta: dict[str, Any] = {"resourceVersion": str(self.store.rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": self.kind.kind, "apiVersion": self.kind.api_version, "metadata": meta}
        return WatchEvent(BOOKMARK, dumps(obj))

    # -- async consumer --------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[WatchEvent]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[WatchEvent]:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._loop_thread = threading.get_ident()
        schedule = _Schedule(self, loop.time())
        # The loop runs a timer up to its clock resolution early (asyncio's rule), and a
        # deadline computed in floats may sit a hair past the clock's value: once our
        # timer has fired, its time counts as reached. Otherwise the idle check would
        # re-arm the same timer forever at one instant, which looptime never moves past.
        reached = -math.inf
        try:
            while True:
                if self.queue:
                    yield self.queue.popleft()
                    schedule.delivered(loop.time())
                    continue
                if self.closed:
                    return
                action = self._idle(schedule, max(loop.time(), reached))
                if action is True:
                    return
                if isinstance(action, WatchEvent):
                    yield action
                    continue
                waiter = loop.create_future()
                self._waiter = waiter
                wake_at = schedule.wake_at
                handle = loop.call_at(wake_at, _resolve, waiter)
                try:
                    await waiter
                finally:
                    handle.cancel()
                    self._waiter = None
                if handle.when() <= loop.time() + _RESOLUTION:
                    reached = wake_at
        finally:
            self.close()

    # -- sync consumer ---------------------------------------------------------

    def __iter__(self) -> Iterator[WatchEvent]:
        return self._iter()

    def _iter(self) -> Iterator[WatchEvent]:
        timer = self.timer
        cond = self._cond = threading.Condition()
        schedule = _Schedule(self, timer.monotonic())
        try:
            while True:
                if self.queue:
                    yield self.queue.popleft()
                    schedule.delivered(timer.monotonic())
                    continue
                if self.closed:
                    return
                action = self._idle(schedule, timer.monotonic())
                if action is True:
                    return
                if isinstance(action, WatchEvent):
                    yield action
                    continue
                timer.wait(cond, schedule.wake_at, self._ready)
        finally:
            self.close()


class _Schedule:
    """A stream's deadlines on its consumer's clock: timeout, next bookmark, drop."""

    __slots__ = ("deadline", "drop_at", "interval", "next_bookmark")

    def __init__(self, watcher: Watcher, now: float) -> None:
        self.deadline = now + watcher.timeout
        self.drop_at = math.inf if watcher.drop_after is None else now + watcher.drop_after
        self.interval = watcher.bookmark_interval if watcher.allow_bookmarks else math.inf
        self.next_bookmark = now + self.interval

    def delivered(self, now: float) -> None:
        """Bookmarks are for idle streams: the next one is an interval after any event."""
        self.next_bookmark = now + self.interval

    @property
    def wake_at(self) -> float:
        return min(self.deadline, self.drop_at, self.next_bookmark)


_RESOLUTION = time.get_clock_info("monotonic").resolution
"""asyncio's own slack when it decides a timer is due."""


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def open_watch(
    store: ObjectStore,
    kind: ResourceKind,
    namespace: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
    *,
    resource_version: str | None = None,
    allow_bookmarks: bool = False,
    timeout: float | None = None,
    send_initial_events: bool | None = None,
    bookmark_interval: float = DEFAULT_BOOKMARK_INTERVAL,
    clock: Clock | None = None,
) -> Watcher:
    """Register and prime a watcher (see the module docstring for the semantics).

    ``clock`` is the cluster's clock; a sync consumer waits on its timer side.
    """
    watcher = Watcher(
        store,
        kind,
        namespace,
        labels,
        fields,
        allow_bookmarks=allow_bookmarks,
        timeout=timeout,
        bookmark_interval=bookmark_interval,
        timer=sync_timer(clock),
    )
    with store.lock:
        table = store.table(kind)
        start = resource_version or ""
        if start in ("", "0"):
            initial = send_initial_events is not False
        else:
            initial = bool(send_initial_events)
        if initial:
            for stored in store.select(kind, namespace, labels, fields):
                watcher.queue.append(WatchEvent(ADDED, stored.raw))
            if send_initial_events:
                watcher.queue.append(watcher._bookmark(initial_end=True))
        elif start not in ("", "0"):
            rv = int(start)
            if rv < table.floor:
                error = gone(f"too old resource version: {rv} ({table.floor + 1})")
                watcher.queue.append(WatchEvent(ERROR, dumps(error.status)))
                watcher.closed = True
                return watcher
            for change in table.history:
                if change.rv > rv:
                    watcher.offer(change)
        table.listeners.append(watcher.offer)

        def unsubscribe() -> None:
            with store.lock:
                if watcher.offer in table.listeners:
                    table.listeners.remove(watcher.offer)

        watcher._unsubscribe = unsubscribe
    return watcher
