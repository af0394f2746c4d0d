"""``/v1/dead-letters``: failed executions listed, replayed once, and the refusals."""

from __future__ import annotations

import httpx
import pytest
from service_api_helpers import FAILING, NOOP, Register, Submit, assert_problem

from engine import Engine


@pytest.mark.asyncio
async def test_a_failed_execution_is_listed_and_replayed_once(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(FAILING)
    failed = await submit("always-fails", inputs={"why": "test"})
    await engine.wait(failed)
    letters = (await client.get("/v1/dead-letters")).json()["items"]
    assert [(x["execution_id"], x["step_id"], x["attempts"]) for x in letters] == [
        (failed, "boom", 1)
    ]
    assert letters[0]["replayed_by"] is None
    assert letters[0]["failed_at"].endswith("Z")

    replay = await client.post(f"/v1/dead-letters/{failed}/replay")
    assert replay.status_code == 201
    new_id = replay.json()["execution_id"]
    assert new_id != failed
    record = engine.repository.get(new_id)
    assert record is not None
    assert (record.replay_of, dict(record.inputs)) == (failed, {"why": "test"})

    again = await client.post(f"/v1/dead-letters/{failed}/replay")
    assert new_id in assert_problem(again, 409, "conflict")["detail"]
    assert (await client.get("/v1/dead-letters")).json()["items"] == []
    shown = (await client.get("/v1/dead-letters?include_replayed=true")).json()["items"]
    assert shown[0]["replayed_by"] == new_id
    await engine.wait(new_id)


@pytest.mark.asyncio
async def test_only_dead_letters_can_be_replayed(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    succeeded = await submit("noop-flow")
    await engine.wait(succeeded)
    for execution_id in (succeeded, "never-submitted"):
        response = await client.post(f"/v1/dead-letters/{execution_id}/replay")
        assert "dead-letter queue" in assert_problem(response, 404, "not-found")["detail"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query", ["include_replayed=yes", "include_replayed=true&include_replayed=false", "page=2"]
)
async def test_bad_dead_letter_parameters(client: httpx.AsyncClient, query: str) -> None:
    assert_problem(await client.get(f"/v1/dead-letters?{query}"), 400, "bad-request")
