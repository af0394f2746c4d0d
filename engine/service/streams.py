"""Server-sent event streams of engine events, for one execution or for all.

One :class:`EventHub` per service subscribes to the engine's event bus while anybody
listens (so an engine nobody follows builds no events) and hands each event to the
listeners that want it: those following its execution (found by id, so a thousand
clients following a thousand executions cost one dict lookup per event, not a thousand
callbacks) and those following everything. An event is turned into its CloudEvents JSON
once, however many listen.

A listener's backlog is bounded: a client that reads slower than the engine writes
gets an ``io.windtunnel.stream_overflow`` event and the end of its stream (it may
reconnect), rather than making the service hold an unbounded queue for it. Every stream
ends when the service starts shutting down (:meth:`EventHub.close`), and a stream that
has been quiet for ``heartbeat`` seconds gets an SSE comment so proxies keep it open.

The per-execution stream replays the execution's terminal state when it had already
ended before the client listened, and ends after the execution's terminal event: a
client can submit, then follow, without a race (it subscribes before it looks).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from engine.events import Event, EventBus, EventKind
from engine.service.cloudevents import CloudEventFactory
from engine.service.views import dumps

DEFAULT_BACKLOG = 10_000
DEFAULT_HEARTBEAT = 15.0


class Listener:
    """One client's queue of SSE frames; iterate with :meth:`frames`."""

    def __init__(self, execution_id: str | None, backlog: int) -> None:
        self.execution_id = execution_id
        self.backlog = backlog
        self.frames_waiting: deque[str] = deque()
        self.wake = asyncio.Event()
        self.finished = False
        """No more frames will come (terminal event queued, overflow, or shutdown)."""
        self.overflowed = False

    def push(self, frame: str, *, last: bool = False) -> None:
        if self.finished:
            return
        if len(self.frames_waiting) >= self.backlog:
            self.overflowed = self.finished = True
        else:
            self.frames_waiting.append(frame)
            self.finished = last
        self.wake.set()

    def finish(self) -> None:
        self.finished = True
        self.wake.set()

    async def frames(self, heartbeat: float, overflow: Callable[[], str]) -> AsyncIterator[str]:
        """The frames as they come, a heartbeat comment when quiet, until finished."""
        while True:
            while self.frames_waiting:
                yield self.frames_waiting.popleft()
            if self.finished:
                if self.overflowed:
                    yield overflow()
                return
            self.wake.clear()
            try:
                async with asyncio.timeout(heartbeat):
                    await self.wake.wait()
            except TimeoutError:
                yield ": keep-alive\n\n"


class EventHub:
    """Fans engine events out to SSE listeners (see the module docstring)."""

    def __init__(
        self,
        bus: EventBus,
        factory: CloudEventFactory,
        *,
        backlog: int = DEFAULT_BACKLOG,
        heartbeat: float = DEFAULT_HEARTBEAT,
    ) -> None:
        self._bus = bus
        self._factory = factory
        self.backlog = backlog
        self.heartbeat = heartbeat
        self._by_execution: dict[str, list[Listener]] = {}
        self._everything: list[Listener] = []
        self._unsubscribe: Callable[[], None] | None = None
        self.closed = False

    @property
    def listeners(self) -> int:
        return len(self._everything) + sum(len(v) for v in self._by_execution.values())

    def listen(self, execution_id: str | None = None) -> Listener:
        """A new listener for one execution's events (or all, with None); :meth:`forget` it."""
        listener = Listener(execution_id, self.backlog)
        if self.closed:
            listener.finish()
        if execution_id is None:
            self._everything.append(listener)
        else:
            self._by_execution.setdefault(execution_id, []).append(listener)
        if self._unsubscribe is None:
            self._unsubscribe = self._bus.subscribe(self._on_event)
        return listener

    def close(self) -> None:
        """End every stream (the service is shutting down); new ones end at once."""
        self.closed = True
        for listener in list(self._everything):
            listener.finish()
        for group in list(self._by_execution.values()):
            for listener in group:
                listener.finish()

    def forget(self, listener: Listener) -> None:
        """Stop delivering to ``listener``; the hub unsubscribes when nobody is left."""
        if listener.execution_id is None:
            with contextlib.suppress(ValueError):
                self._everything.remove(listener)
        else:
            group = self._by_execution.get(listener.execution_id, [])
            with contextlib.suppress(ValueError):
                group.remove(listener)
            if not group:
                self._by_execution.pop(listener.execution_id, None)
        if not self._everything and not self._by_execution and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        followers = self._by_execution.get(event.execution_id)
        if not followers and not self._everything:
            return
        cloud = self._factory.from_event(event)
        frame = _frame(cloud["id"], cloud)
        for listener in self._everything:
            listener.push(frame)
        if followers:
            last = event.kind is EventKind.EXECUTION_FINISHED
            for listener in followers:
                listener.push(frame, last=last)

    def replay_terminal(self, listener: Listener, cloud: Mapping[str, Any]) -> None:
        """Queue an already-finished execution's terminal event as the stream's last."""
        listener.push(_frame(str(cloud["id"]), cloud), last=True)

    def frames(self, listener: Listener) -> AsyncIterator[str]:
        """The listener's SSE frames, ending with an overflow event if it fell behind."""

        def overflow() -> str:
            cloud = self._factory.notice(
                "stream_overflow",
                listener.execution_id or "",
                {"detail": "this client read too slowly and was cut off; reconnect to go on"},
            )
            return _frame(cloud["id"], cloud)

        return listener.frames(self.heartbeat, overflow)


def _frame(event_id: str, payload: object) -> str:
    # json.dumps escapes newlines inside strings, so one data line holds the whole event.
    return f"id: {event_id}\ndata: {dumps(payload)}\n\n"


class EventStream(Response):
    """The response of one SSE stream; forgets its listener however the stream ends.

    It watches for the client going away while the stream is quiet, so a disconnected
    client's listener is dropped at once rather than at the next event.
    """

    media_type = "text/event-stream"

    def __init__(self, hub: EventHub, listener: Listener) -> None:
        self.hub = hub
        self.listener = listener
        self.status_code = 200
        self.background = None
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        listener = self.listener

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            listener.finish()

        watcher = asyncio.get_running_loop().create_task(watch_disconnect())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
            async for frame in self.hub.frames(listener):
                await send(
                    {"type": "http.response.body", "body": frame.encode(), "more_body": True}
                )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            self.hub.forget(listener)


_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
