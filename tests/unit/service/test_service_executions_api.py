"""``/v1/executions``: submit, read, list and page, cancel, pause, resume, and refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from service_api_helpers import NOOP, SLOW, TWO_STEPS, Register, Submit, assert_problem

from engine import Engine, ExecutionStatus, StoreError
from engine.service import ServiceContext


@pytest.mark.asyncio
async def test_a_submitted_execution_runs_and_reads_back_with_its_steps_in_order(
    client: httpx.AsyncClient, engine: Engine, register: Register
) -> None:
    await register(TWO_STEPS)
    response = await client.post(
        "/v1/executions", json={"template": "two-steps", "inputs": {"x": 1}, "priority": 3}
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"execution_id", "status"}
    assert created["status"] in ("Pending", "Running")
    await engine.wait(created["execution_id"])
    detail = (await client.get(f"/v1/executions/{created['execution_id']}")).json()
    assert detail["status"] == "Succeeded"
    assert (detail["workflow"], detail["version"], detail["priority"]) == ("two-steps", 1, 3)
    assert detail["inputs"] == {"x": 1}
    assert [s["step_id"] for s in detail["steps"]] == ["first", "second"]
    first = detail["steps"][0]
    assert first["outputs"] == {"n": 1}
    assert [a["number"] for a in first["attempts"]] == [1]
    created_at = datetime.fromisoformat(detail["created_at"].replace("Z", "+00:00"))
    finished_at = datetime.fromisoformat(detail["finished_at"].replace("Z", "+00:00"))
    assert created_at.tzinfo is UTC or created_at.utcoffset() is not None
    assert created_at <= finished_at


@pytest.mark.asyncio
async def test_an_idempotency_key_returns_the_first_execution(
    client: httpx.AsyncClient, engine: Engine, register: Register
) -> None:
    await register(NOOP)
    await register(TWO_STEPS)
    body = {"template": "noop-flow", "idempotency_key": "order-42"}
    first = await client.post("/v1/executions", json=body)
    again = await client.post("/v1/executions", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert len(engine.repository.list()) == 1
    other = await client.post(
        "/v1/executions", json={"template": "two-steps", "idempotency_key": "order-42"}
    )
    assert "order-42" in assert_problem(other, 409, "conflict")["detail"]


@pytest.mark.asyncio
async def test_a_dry_run_is_recorded_as_one(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    execution_id = await submit("noop-flow", dry_run=True)
    await engine.wait(execution_id)
    detail = (await client.get(f"/v1/executions/{execution_id}")).json()
    assert detail["dry_run"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": "nope"}, "template"),
        ({"template": "noop-flow", "version": 9}, "version"),
    ],
)
async def test_an_unknown_template_or_version_is_unprocessable(
    client: httpx.AsyncClient, register: Register, body: dict[str, Any], field: str
) -> None:
    await register(NOOP)
    problem = assert_problem(
        await client.post("/v1/executions", json=body), 422, "validation-error"
    )
    assert problem["errors"][0]["field"] == field
    assert "POST /v1/templates" in problem["detail"]


@pytest.mark.asyncio
async def test_inputs_are_checked_against_the_declared_ones(
    client: httpx.AsyncClient, register: Register
) -> None:
    await register(
        {
            "name": "typed",
            "inputs": {"replicas": {"type": "integer", "required": True}},
            "steps": [{"id": "a", "action": "noop"}],
        }
    )
    response = await client.post(
        "/v1/executions", json={"template": "typed", "inputs": {"replicas": "3", "extra": 1}}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert {e["field"] for e in problem["errors"]} == {"inputs.replicas", "inputs.extra"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": "noop-flow", "version": "1"}, "version"),
        ({"template": "noop-flow", "priority": 2**40}, "priority"),
        ({"template": "noop-flow", "dry_run": "yes"}, "dry_run"),
        ({"template": "noop-flow", "inputs": []}, "inputs"),
        ({"template": ""}, "template"),
        ({"template": "noop-flow", "colour": "red"}, "colour"),
        ({}, "template"),
    ],
)
async def test_submissions_that_break_the_schema_name_the_field(
    client: httpx.AsyncClient, register: Register, body: dict[str, Any], field: str
) -> None:
    await register(NOOP)
    problem = assert_problem(
        await client.post("/v1/executions", json=body), 422, "validation-error"
    )
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.asyncio
async def test_malformed_json_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/executions", content=b"{'template': 1}", headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in assert_problem(response, 400, "bad-request")["detail"]


@pytest.mark.asyncio
async def test_an_unknown_execution_is_not_found(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/v1/executions/missing"),
        ("POST", "/v1/executions/missing/cancel"),
        ("POST", "/v1/executions/missing/pause"),
        ("POST", "/v1/executions/missing/resume"),
        ("GET", "/v1/executions/missing/events"),
        ("GET", "/v1/executions/a/b/1"),
    ]:
        body = assert_problem(await client.request(method, path), 404, "not-found")
        assert "'missing'" in body["detail"] or "'a/b/1'" in body["detail"]
    assert_problem(await client.get("/v1/executions/missing?x=1"), 400, "bad-request")


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_cancel_pause_and_resume_answer_202_with_the_status_after(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(SLOW)
    await register(TWO_STEPS)
    paused = await submit("two-steps")
    response = await client.post(f"/v1/executions/{paused}/pause")
    assert (response.status_code, response.json()["status"]) == (202, "Paused")
    response = await client.post(f"/v1/executions/{paused}/resume")
    assert (response.status_code, response.json()["status"]) == (202, "Running")
    slow = await submit("slow")
    response = await client.post(f"/v1/executions/{slow}/cancel", json={"compensate": False})
    assert response.status_code == 202
    assert (await engine.wait(slow)).status is ExecutionStatus.CANCELLED
    assert asyncio.get_running_loop().time() < 600  # cancelled, not slept out


@pytest.mark.asyncio
async def test_control_of_a_finished_execution_is_a_conflict(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    execution_id = await submit("noop-flow")
    await engine.wait(execution_id)
    for action in ("cancel", "pause", "resume"):
        response = await client.post(f"/v1/executions/{execution_id}/{action}")
        assert "already finished" in assert_problem(response, 409, "conflict")["detail"]


@pytest.mark.asyncio
async def test_a_cancel_body_must_be_the_cancel_schema(
    client: httpx.AsyncClient, register: Register, submit: Submit
) -> None:
    await register(SLOW)
    execution_id = await submit("slow")
    response = await client.post(f"/v1/executions/{execution_id}/cancel", json={"compensate": 1})
    assert_problem(response, 422, "validation-error")
    response = await client.post(
        f"/v1/executions/{execution_id}/cancel",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400, "bad-request")


@pytest.mark.asyncio
async def test_while_draining_new_work_is_refused_with_503(
    client: httpx.AsyncClient, ctx: ServiceContext, register: Register, submit: Submit
) -> None:
    await register(SLOW)
    running = await submit("slow")
    await client.post(f"/v1/executions/{running}/pause")
    ctx.start_draining()
    for method, path, body in [
        ("POST", "/v1/executions", {"template": "slow"}),
        ("POST", "/v1/templates", NOOP),
        ("POST", f"/v1/executions/{running}/resume", None),
        ("POST", "/v1/dead-letters/x/replay", None),
    ]:
        response = await client.request(method, path, json=body)
        assert_problem(response, 503, "unavailable")
        assert response.headers["retry-after"] == "5"
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["draining: the service is shutting down"]


@pytest.mark.asyncio
async def test_a_store_that_refuses_the_write_gives_503(
    client: httpx.AsyncClient, engine: Engine, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(NOOP)

    def refuse(*_: Any, **__: Any) -> None:
        raise StoreError("disk full (test)")

    monkeypatch.setattr(engine.repository, "store", refuse)
    response = await client.post("/v1/executions", json={"template": "noop-flow"})
    assert "disk full" in assert_problem(response, 503, "unavailable")["detail"]


# ---------------------------------------------------------------------- listing


async def _submit_finished(engine: Engine, submit: Submit, template: str, count: int) -> list[str]:
    ids = [await submit(template) for _ in range(count)]
    for execution_id in ids:
        await engine.wait(execution_id)
    return ids


@pytest.mark.asyncio
async def test_listing_pages_through_everything_once_in_order(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    ids = await _submit_finished(engine, submit, "noop-flow", 7)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v1/executions", params=params)).json()
        assert "steps" not in body["items"][0]
        seen += [item["execution_id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    expected = [r.execution_id for r in engine.repository.list()]
    assert seen == expected
    assert sorted(seen) == sorted(ids)


@pytest.mark.asyncio
async def test_executions_with_the_same_created_at_page_without_loss(
    client: httpx.AsyncClient, engine: Engine, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a frozen clock every execution has one created_at: the cursor's id breaks ties."""
    await register(NOOP)
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: 1000.0)
    ids = []
    for _ in range(5):
        response = await client.post("/v1/executions", json={"template": "noop-flow"})
        ids.append(response.json()["execution_id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v1/executions", params=params)).json()
        seen += [item["execution_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)


@pytest.mark.asyncio
async def test_listing_filters_by_template_status_and_time(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    await register(SLOW)
    done = await _submit_finished(engine, submit, "noop-flow", 2)
    slow = await submit("slow")

    async def ids(**params: Any) -> list[str]:
        body = (await client.get("/v1/executions", params=params)).json()
        return [item["execution_id"] for item in body["items"]]

    assert await ids(template="noop-flow") == done
    assert await ids(status="Running") == [slow]
    assert sorted(await ids(status="Running,Succeeded")) == sorted([*done, slow])
    assert sorted(await ids(status=["Running", "Succeeded"])) == sorted([*done, slow])
    records = engine.repository.list()
    cut = records[1].created_at
    assert await ids(since=str(cut)) == [r.execution_id for r in records[1:]]
    assert await ids(until=str(cut)) == [records[0].execution_id]
    listed = (await client.get("/v1/executions")).json()["items"]
    shown = listed[1]["created_at"]  # RFC 3339, as the API shows it
    assert await ids(since=shown) == [r.execution_id for r in records[1:]]
    offset = datetime.fromisoformat(shown.replace("Z", "+00:00")).isoformat()  # +00:00 form
    assert await ids(since=offset) == [r.execution_id for r in records[1:]]
    await client.post(f"/v1/executions/{slow}/cancel")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("limit=0", ["limit"]),
        ("limit=1001", ["limit"]),
        ("limit=ten", ["limit"]),
        ("status=Done", ["status"]),
        ("since=yesterday", ["since"]),
        ("since=2030-01-01T00:00:00", ["since"]),
        ("since=nan", ["since"]),
        ("since=20&until=10", ["until"]),
        ("cursor=not-a-cursor", ["cursor"]),
        ("cursor=WzEsMl0", ["cursor"]),
        ("template=", ["template"]),
        ("limit=1&limit=2", ["limit"]),
        ("colour=red&limit=0", ["colour", "limit"]),
    ],
)
async def test_bad_filters_are_all_reported_at_once(
    client: httpx.AsyncClient, query: str, fields: list[str]
) -> None:
    body = assert_problem(await client.get(f"/v1/executions?{query}"), 400, "bad-request")
    assert [e["field"] for e in body["errors"]] == fields


@pytest.mark.asyncio
async def test_an_unknown_status_suggests_the_right_one(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/executions?status=Succeded"), 400, "bad-request")
    assert "did you mean 'Succeeded'" in body["errors"][0]["message"]
