"""Server-sent events, as the engine's service streams them: parse, and spot the end.

The service's ``GET /v1/executions/{id}/events`` streams one SSE event per engine event,
each ``data:`` a CloudEvents 1.0 JSON object (``type: io.windtunnel.<event kind>``,
``subject``: the execution id, ``data``: the event's fields); it replays the terminal
state of an execution that already ended and closes after the terminal event. So a
client follows an execution to its end by reading one stream, without polling.

:class:`SseParser` implements the WHATWG event-stream rules a client needs (fields
split on the first colon, one optional space stripped, ``data`` lines joined by
newlines, comment lines ignored, an event dispatched on a blank line, CRLF/CR/LF line
ends, chunks split anywhere).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

FINISHED_TYPE = "io.windtunnel.execution_finished"


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str | None = None


class SseParser:
    """Feed it chunks as they arrive; it returns the events each chunk completed."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._pending_cr = False

    def feed(self, chunk: str | bytes) -> list[SseEvent]:
        text = chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else chunk
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = text.endswith("\r")
        self._buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        events: list[SseEvent] = []
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = SseEvent(self._event or "message", "\n".join(self._data), self._id)
            self._data, self._event = [], ""
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None


def cloud_event(event: SseEvent) -> dict[str, Any] | None:
    """The CloudEvents object an SSE event carries, or None if its data is not one."""
    try:
        data = json.loads(event.data)
    except ValueError:
        return None
    return data if isinstance(data, dict) and "type" in data else None


def terminal_status(event: dict[str, Any]) -> str | None:
    """The end status a CloudEvent announces ('' if it is the end but names none)."""
    if event.get("type") != FINISHED_TYPE:
        return None
    data = event.get("data")
    status = data.get("status") if isinstance(data, dict) else None
    return str(status) if status else ""
