"""The execution event stream: what tests, reports and metrics subscribe to.

Events are built only while somebody listens, so an engine without subscribers pays
nothing for them on its dispatch path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What happened."""

    EXECUTION_SUBMITTED = "execution_submitted"
    EXECUTION_STARTED = "execution_started"
    EXECUTION_PAUSED = "execution_paused"
    EXECUTION_RESUMED = "execution_resumed"
    EXECUTION_FINISHED = "execution_finished"
    EXECUTION_ROLLING_BACK = "execution_rolling_back"
    STEP_STARTED = "step_started"
    STEP_RETRYING = "step_retrying"
    STEP_FINISHED = "step_finished"
    STEP_THROTTLED = "step_throttled"
    COMPENSATION_STARTED = "compensation_started"
    COMPENSATION_FINISHED = "compensation_finished"
    BREAKER_STATE_CHANGED = "breaker_state_changed"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to an execution or one of its steps, at loop time ``time``."""

    kind: EventKind
    execution_id: str
    time: float
    workflow: str
    step_id: str | None = None
    status: str | None = None
    attempt: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out of events to synchronous callbacks and async iterators.

    Callbacks run inline, in emission order, and must not block; a callback that
    raises is removed so that one broken listener cannot break the engine.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.errors: list[BaseException] = []
        # Whether anybody listens: a plain attribute, read on the engine's hot path, so
        # that an engine without subscribers skips building events altogether.
        self.active = False

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` for every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        self.active = True

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
                self.active = bool(self._subscribers)

        return unsubscribe

    def emit(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber."""
        for callback in tuple(self._subscribers):
            try:
                callback(event)
            except Exception as exc:
                self.errors.append(exc)
                self._subscribers.remove(callback)
                self.active = bool(self._subscribers)

    async def stream(self, *, until: Callable[[Event], bool] | None = None) -> AsyncIterator[Event]:
        """Iterate over events as they come; stops after an event for which ``until`` holds."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        try:
            while True:
                event = await queue.get()
                yield event
                if until is not None and until(event):
                    return
        finally:
            unsubscribe()
