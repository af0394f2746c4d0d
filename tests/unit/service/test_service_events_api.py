"""Event streams: CloudEvents over SSE per execution and for all, and the hub's bounds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

import httpx
import pytest
from service_api_helpers import NOOP, Register, Submit, assert_problem

from engine import Engine, Event, EventBus, EventKind
from engine.service import ServiceContext
from engine.service.cloudevents import CloudEventFactory
from engine.service.streams import EventHub, EventStream

PACED = {
    "name": "paced",
    "steps": [
        {"id": "first", "action": "sleep", "params": {"seconds": 5}},
        {"id": "second", "action": "sleep", "params": {"seconds": 5}, "depends_on": ["first"]},
    ],
}


def parse_sse(text: str) -> list[dict[str, Any]]:
    """The CloudEvents of an SSE body, checking each frame's id against its event's."""
    events = []
    for frame in text.split("\n\n"):
        lines = [line for line in frame.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        event = json.loads(fields["data"])
        assert fields["id"] == event["id"]
        events.append(event)
    return events


def assert_cloudevent(event: dict[str, Any]) -> None:
    assert event["specversion"] == "1.0"
    assert event["source"] == "windtunnel/engine"
    assert event["type"].startswith("io.windtunnel.")
    assert event["datacontenttype"] == "application/json"
    assert datetime.fromisoformat(event["time"].replace("Z", "+00:00")).tzinfo is not None
    assert isinstance(event["data"], dict)
    assert event["id"]


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_an_execution_stream_follows_it_to_its_end(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(PACED)
    execution_id = await submit("paced")
    response = await client.get(f"/v1/executions/{execution_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    events = parse_sse(response.text)
    for event in events:
        assert_cloudevent(event)
        assert event["subject"] == execution_id
        assert event["data"]["workflow"] == "paced"
    kinds = [(e["type"].removeprefix("io.windtunnel."), e["data"].get("step_id")) for e in events]
    assert kinds[-1] == ("execution_finished", None)
    assert events[-1]["data"]["status"] == "Succeeded"
    assert ("step_finished", "first") in kinds
    assert kinds.index(("step_finished", "first")) < kinds.index(("step_started", "second"))
    assert len({e["id"] for e in events}) == len(events)
    assert (await engine.wait(execution_id)).status == "Succeeded"


@pytest.mark.asyncio
async def test_a_finished_execution_stream_replays_its_end(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    execution_id = await submit("noop-flow")
    await engine.wait(execution_id)
    events = parse_sse((await client.get(f"/v1/executions/{execution_id}/events")).text)
    assert len(events) == 1
    (event,) = events
    assert_cloudevent(event)
    assert event["type"] == "io.windtunnel.execution_finished"
    assert event["data"] == {"workflow": "noop-flow", "status": "Succeeded", "replayed": True}


@pytest.mark.asyncio
async def test_the_all_events_stream_carries_every_execution_until_shutdown(
    client: httpx.AsyncClient,
    ctx: ServiceContext,
    engine: Engine,
    register: Register,
    submit: Submit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await register(NOOP)
    listening = asyncio.Event()
    listen = ctx.hub.listen

    def listen_and_tell(execution_id: str | None = None) -> Any:
        listener = listen(execution_id)
        listening.set()
        return listener

    monkeypatch.setattr(ctx.hub, "listen", listen_and_tell)
    stream = asyncio.ensure_future(client.get("/v1/events"))
    async with asyncio.timeout(10):
        await listening.wait()
    ids = [await submit("noop-flow") for _ in range(2)]
    for execution_id in ids:
        await engine.wait(execution_id)
    ctx.start_draining()
    async with asyncio.timeout(10):
        response = await stream
    events = parse_sse(response.text)
    for event in events:
        assert_cloudevent(event)
    finished = [e["subject"] for e in events if e["type"] == "io.windtunnel.execution_finished"]
    submitted = [e["subject"] for e in events if e["type"] == "io.windtunnel.execution_submitted"]
    assert finished == ids
    assert submitted == ids
    assert ctx.hub.listeners == 0


@pytest.mark.asyncio
async def test_streams_take_no_parameters(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/events?since=1"), 400, "bad-request")
    assert_problem(await client.get("/v1/executions/x/events?since=1"), 400, "bad-request")


# ---------------------------------------------------------------------- the hub itself


def _event(kind: EventKind, execution_id: str = "e1", step: str | None = None) -> Event:
    return Event(kind, execution_id, 1_700_000_000.0, "wf", step_id=step, status="Running")


@pytest.mark.asyncio
async def test_the_hub_listens_to_the_bus_only_while_someone_listens() -> None:
    bus = EventBus()
    hub = EventHub(bus, CloudEventFactory())
    before = bus.active
    listener = hub.listen("e1")
    during = bus.active
    hub.forget(listener)
    assert (before, during, bus.active) == (False, True, False)
    assert hub.listeners == 0


@pytest.mark.asyncio
async def test_a_listener_gets_only_its_execution_and_ends_after_its_end() -> None:
    bus = EventBus()
    hub = EventHub(bus, CloudEventFactory())
    mine, everything = hub.listen("e1"), hub.listen(None)
    bus.emit(_event(EventKind.STEP_STARTED, step="a"))
    bus.emit(_event(EventKind.STEP_STARTED, "e2", step="b"))
    bus.emit(_event(EventKind.EXECUTION_FINISHED))
    bus.emit(_event(EventKind.STEP_STARTED, step="late"))
    frames = [frame async for frame in hub.frames(mine)]
    events = parse_sse("".join(frames))
    assert [(e["type"], e["data"].get("step_id")) for e in events] == [
        ("io.windtunnel.step_started", "a"),
        ("io.windtunnel.execution_finished", None),
    ]
    assert len(everything.frames_waiting) == 4


@pytest.mark.asyncio
async def test_a_slow_listener_is_cut_off_with_an_overflow_event() -> None:
    bus = EventBus()
    hub = EventHub(bus, CloudEventFactory(), backlog=3)
    listener = hub.listen(None)
    for step in "abcd":
        bus.emit(_event(EventKind.STEP_STARTED, step=step))
    events = parse_sse("".join([frame async for frame in hub.frames(listener)]))
    assert [e["data"].get("step_id") for e in events[:3]] == ["a", "b", "c"]
    assert events[3]["type"] == "io.windtunnel.stream_overflow"
    assert "reconnect" in events[3]["data"]["detail"]


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_a_quiet_stream_gets_heartbeats_and_ends_on_close() -> None:
    bus = EventBus()
    hub = EventHub(bus, CloudEventFactory(), heartbeat=15.0)
    listener = hub.listen(None)
    frames = hub.frames(listener)
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await anext(frames) == ": keep-alive\n\n"
    assert loop.time() - start == pytest.approx(15.0)
    hub.close()
    assert [frame async for frame in frames] == []
    assert hub.listen("e9").finished  # a stream opened after close ends at once


@pytest.mark.asyncio
async def test_a_client_that_goes_away_is_forgotten_at_once() -> None:
    bus = EventBus()
    hub = EventHub(bus, CloudEventFactory())
    stream = EventStream(hub, hub.listen("e1"))
    sent: list[MutableMapping[str, Any]] = []
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b""},
        {"type": "http.disconnect"},
    ]
    never: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else await never

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async with asyncio.timeout(10):
        await stream({"type": "http"}, receive, send)
    assert sent[0]["status"] == 200
    assert hub.listeners == 0
    assert not bus.active
