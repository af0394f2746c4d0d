"""Server-sent events as the service streams them: parsed in any chunking, end spotted."""

from __future__ import annotations

import json

import pytest

from loadtests.sse import FINISHED_TYPE, SseEvent, SseParser, cloud_event, terminal_status

STREAM = (
    ": a comment\n"
    "id: 1\n"
    'data: {"type": "io.windtunnel.step_finished", "data": {"status": "Succeeded"}}\n'
    "\n"
    "event: message\r\n"
    "id: 2\r\n"
    'data: {"type": "io.windtunnel.execution_finished",\r\n'
    'data:  "data": {"status": "Failed"}}\r\n'
    "\r\n"
)


def events_of(chunks: list[str]) -> list[SseEvent]:
    parser = SseParser()
    out: list[SseEvent] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_the_same_events_whatever_the_chunking(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    events = events_of(chunks)
    assert [e.id for e in events] == ["1", "2"]
    assert (
        events[1].data
        == '{"type": "io.windtunnel.execution_finished",\n "data": {"status": "Failed"}}'
    )
    assert [terminal_status(cloud_event(e) or {}) for e in events] == [None, "Failed"]


def test_bytes_and_a_cr_split_from_its_lf() -> None:
    events = events_of([b"data: x\r".decode(), "\n\r", "\n"])
    assert events == [SseEvent("message", "x", None)]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert events_of(["event: ping\n\n", ": keep-alive\n\n"]) == []


def test_the_end_without_a_status_is_still_the_end() -> None:
    assert terminal_status({"type": FINISHED_TYPE, "data": {}}) == ""
    assert terminal_status({"type": "io.windtunnel.step_started"}) is None


def test_data_that_is_no_cloud_event_is_ignored() -> None:
    assert cloud_event(SseEvent("message", "not json")) is None
    assert cloud_event(SseEvent("message", json.dumps([1]))) is None
