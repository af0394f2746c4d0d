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

A watcher is consumed either with ``async for`` on the event loop (waits use the
*running loop's* clock, so looptime fast-forwards timeouts and bookmarks) or with a
plain ``for`` from a thread (the sync official client; waits use wall time there).
Events are delivered as they happen: the store offers each change synchronously and
the waiting consumer is woken at once (thread-safely when the writer is on another
thread). :meth:`Watcher.close` ends the stream from either side; the fault injector
uses it to drop watch connections.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from fakes.kube.errors import dumps, gone
from fakes.kube.store import ADDED, DELETED, MODIFIED, Change

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

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
    ) -> None:
        self.store = store
        self.kind = kind
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.allow_bookmarks = allow_bookmarks
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self.bookmark_interval = bookmark_interval
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
        deadline = loop.time() + self.timeout
        next_bookmark = loop.time() + self.bookmark_interval
        try:
            while True:
                if self.queue:
                    yield self.queue.popleft()
                    next_bookmark = loop.time() + self.bookmark_interval
                    continue
                if self.closed:
                    return
                now = loop.time()
                if now >= deadline:
                    if self.allow_bookmarks and not self._final_bookmark_sent:
                        self._final_bookmark_sent = True
                        yield self._bookmark()
                    return
                if self.allow_bookmarks and now >= next_bookmark:
                    next_bookmark = now + self.bookmark_interval
                    yield self._bookmark()
                    continue
                wake_at = min(deadline, next_bookmark) if self.allow_bookmarks else deadline
                waiter = loop.create_future()
                self._waiter = waiter
                handle = loop.call_at(wake_at, _resolve, waiter)
                try:
                    await waiter
                finally:
                    handle.cancel()
                    self._waiter = None
        finally:
            self.close()

    # -- sync consumer ---------------------------------------------------------

    def __iter__(self) -> Iterator[WatchEvent]:
        return self._iter()

    def _iter(self) -> Iterator[WatchEvent]:
        cond = self._cond = threading.Condition()
        deadline = time.monotonic() + self.timeout
        next_bookmark = time.monotonic() + self.bookmark_interval
        try:
            while True:
                if self.queue:
                    yield self.queue.popleft()
                    next_bookmark = time.monotonic() + self.bookmark_interval
                    continue
                if self.closed:
                    return
                now = time.monotonic()
                if now >= deadline:
                    if self.allow_bookmarks:
                        yield self._bookmark()
                    return
                if self.allow_bookmarks and now >= next_bookmark:
                    next_bookmark = now + self.bookmark_interval
                    yield self._bookmark()
                    continue
                wake_at = min(deadline, next_bookmark) if self.allow_bookmarks else deadline
                with cond:
                    if not self.queue and not self.closed:
                        cond.wait(wake_at - now)
        finally:
            self.close()


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
) -> Watcher:
    """Register and prime a watcher (see the module docstring for the semantics)."""
    watcher = Watcher(
        store,
        kind,
        namespace,
        labels,
        fields,
        allow_bookmarks=allow_bookmarks,
        timeout=timeout,
        bookmark_interval=bookmark_interval,
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
