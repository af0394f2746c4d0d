"""Engine events as CloudEvents 1.0 (structured JSON mode).

Each :class:`engine.Event` becomes::

    {"specversion": "1.0", "id": "3f2c...-17", "source": "windtunnel/engine",
     "type": "io.windtunnel.step_finished", "time": "2030-01-31T12:00:00.000123Z",
     "subject": "<execution id>", "datacontenttype": "application/json",
     "data": {"workflow": "scale-api", "step_id": "scale", "status": "Succeeded",
              "attempt": 1, "duration": 0.0123}}

``type`` is ``io.windtunnel.`` plus the :class:`engine.EventKind` value; ``subject`` is
the execution id (absent for events of no execution, such as a breaker changing state);
``data`` holds the workflow, the status, the step and attempt when the event is about a
step, and the event's own data. ``id`` is unique per service process: a random prefix
chosen when the service starts and a counter.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from engine.events import Event, EventKind
from engine.records import ExecutionRecord
from engine.service.views import timestamp

SOURCE = "windtunnel/engine"
TYPE_PREFIX = "io.windtunnel."


class CloudEventFactory:
    """Builds CloudEvents with ids unique to this factory (one per service process)."""

    def __init__(self, source: str = SOURCE) -> None:
        self.source = source
        self._prefix = uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)

    def from_event(self, event: Event) -> dict[str, Any]:
        data: dict[str, Any] = {"workflow": event.workflow}
        if event.status is not None:
            data["status"] = event.status
        if event.step_id is not None:
            data["step_id"] = event.step_id
            data["attempt"] = event.attempt
        data.update(event.data)
        return self._envelope(event.kind.value, event.execution_id, event.time, data)

    def terminal(self, record: ExecutionRecord) -> dict[str, Any]:
        """The ``execution_finished`` event of an execution that ended before one listened."""
        data: dict[str, Any] = {"workflow": record.workflow, "status": str(record.status)}
        if record.error:
            data["error"] = record.error
        data["replayed"] = True
        when = record.finished_at if record.finished_at is not None else record.created_at
        return self._envelope(EventKind.EXECUTION_FINISHED.value, record.execution_id, when, data)

    def notice(self, kind: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
        """An event of the service itself (``io.windtunnel.<kind>``), at wall-clock now."""
        return self._envelope(kind, subject, time.time(), data)

    def _envelope(
        self, kind: str, subject: str, when: float, data: dict[str, Any]
    ) -> dict[str, Any]:
        envelope: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"{self._prefix}-{next(self._counter)}",
            "source": self.source,
            "type": TYPE_PREFIX + kind,
            "time": timestamp(when),
            "datacontenttype": "application/json",
            "data": data,
        }
        if subject:
            envelope["subject"] = subject
        return envelope
