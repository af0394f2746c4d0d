"""``/v1/templates``: versioned registration, listing, reading back, and every refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from service_api_helpers import AUTH, NOOP, TWO_STEPS, assert_problem

from engine import CompiledWorkflow, Engine, WorkflowTemplate
from engine.service import SqliteServiceStore, TemplateCatalog, create_app


@pytest.mark.asyncio
async def test_a_new_version_is_created_and_the_same_one_again_is_not(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/v1/templates", json=NOOP)
    again = await client.post("/v1/templates", json=NOOP)
    assert (first.status_code, first.json()) == (201, {"name": "noop-flow", "version": 1})
    assert (again.status_code, again.json()) == (200, {"name": "noop-flow", "version": 1})


@pytest.mark.asyncio
async def test_the_same_version_with_other_content_is_a_conflict(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/templates", json=NOOP)
    changed = {**NOOP, "description": "changed"}
    body = assert_problem(await client.post("/v1/templates", json=changed), 409, "conflict")
    assert "register it as a new version" in body["detail"]
    second = await client.post("/v1/templates", json={**changed, "version": 2})
    assert second.status_code == 201


@pytest.mark.asyncio
async def test_template_problems_are_all_listed_with_their_steps(
    client: httpx.AsyncClient,
) -> None:
    bad = {
        "name": "bad",
        "steps": [
            {"id": "a", "action": "nop"},
            {"id": "b", "action": "noop", "depends_on": ["c"]},
        ],
    }
    body = assert_problem(await client.post("/v1/templates", json=bad), 422, "validation-error")
    by_step = {e.get("step_id"): e for e in body["errors"]}
    assert "did you mean 'noop'" in by_step["a"]["message"]
    assert "'c'" in by_step["b"]["message"]
    assert by_step["b"]["field"] == "depends_on"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("template", "field", "message"),
    [
        ({"steps": [{"id": "a", "action": "noop"}]}, "name", "required field is missing"),
        ({**NOOP, "colour": "red"}, "colour", "unknown field"),
        ({**NOOP, "version": 0}, "version", "greater than or equal to 1"),
        (
            {"name": "x", "steps": [{"id": "1a", "action": "noop"}]},
            "steps[0].id",
            "must start with a letter",
        ),
    ],
)
async def test_schema_violations_name_the_field(
    client: httpx.AsyncClient, template: dict[str, Any], field: str, message: str
) -> None:
    body = assert_problem(
        await client.post("/v1/templates", json=template), 422, "validation-error"
    )
    assert [e["field"] for e in body["errors"]] == [field]
    assert message in body["errors"][0]["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("field", ["version", "priority"])
async def test_numbers_the_store_cannot_hold_are_refused(
    client: httpx.AsyncClient, field: str
) -> None:
    body = assert_problem(
        await client.post("/v1/templates", json={**NOOP, field: 2**40}), 422, "validation-error"
    )
    assert body["errors"][0]["field"] == field


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("content", "content_type", "status", "kind"),
    [
        (b'{"name": "x", "steps": [', "application/json", 400, "bad-request"),
        (b"", "application/json", 400, "bad-request"),
        (b"[1, 2]", "application/json", 422, "validation-error"),
        (b"name=x", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    ],
)
async def test_bodies_that_are_not_a_template_get_a_4xx(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int, kind: str
) -> None:
    response = await client.post(
        "/v1/templates", content=content, headers={"Content-Type": content_type}
    )
    assert_problem(response, status, kind)


@pytest.mark.asyncio
async def test_a_body_over_the_limit_is_refused_from_its_length(
    client: httpx.AsyncClient,
) -> None:
    huge = {**NOOP, "description": "x" * (64 * 1024)}
    body = assert_problem(await client.post("/v1/templates", json=huge), 413, "payload-too-large")
    assert "65,536 bytes" in body["detail"]


@pytest.mark.asyncio
async def test_a_streamed_body_over_the_limit_is_refused_without_a_length(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    response = await client.post(
        "/v1/templates", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


@pytest.mark.asyncio
async def test_a_bad_content_length_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/templates",
        content=b"{}",
        headers={"Content-Length": "two", "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "bad-request")


@pytest.mark.asyncio
async def test_templates_are_listed_by_name_then_version(client: httpx.AsyncClient) -> None:
    for template in ({**TWO_STEPS, "version": 2}, NOOP, TWO_STEPS):
        await client.post("/v1/templates", json=template)
    listing = await client.get("/v1/templates")
    assert listing.json() == {
        "items": [
            {"name": "noop-flow", "version": 1},
            {"name": "two-steps", "version": 1},
            {"name": "two-steps", "version": 2},
        ]
    }
    assert_problem(await client.get("/v1/templates?page=2"), 400, "bad-request")


@pytest.mark.asyncio
async def test_a_template_reads_back_as_registered_latest_by_default(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/templates", json=TWO_STEPS)
    await client.post("/v1/templates", json={**TWO_STEPS, "version": 3, "description": "v3"})
    latest = (await client.get("/v1/templates/two-steps")).json()
    first = (await client.get("/v1/templates/two-steps", params={"version": 1})).json()
    assert (latest["version"], latest["description"]) == (3, "v3")
    assert first["version"] == 1
    assert [s["id"] for s in first["steps"]] == ["first", "second"]
    assert WorkflowTemplate.model_validate(first) == WorkflowTemplate.model_validate(TWO_STEPS)


@pytest.mark.asyncio
async def test_unknown_templates_versions_and_parameters(client: httpx.AsyncClient) -> None:
    await client.post("/v1/templates", json=NOOP)
    body = assert_problem(await client.get("/v1/templates/nope"), 404, "not-found")
    assert "'nope'" in body["detail"]
    body = assert_problem(await client.get("/v1/templates/noop-flow?version=7"), 404, "not-found")
    assert "registered versions: 1" in body["detail"]
    for query in ("version=zero", "version=0", "version=1&version=2", "colour=red"):
        assert_problem(await client.get(f"/v1/templates/noop-flow?{query}"), 400, "bad-request")


@pytest.mark.asyncio
async def test_the_register_hook_prepares_templates_and_the_store_keeps_them(
    engine: Engine, tmp_path: Path
) -> None:
    def with_timeout(template: WorkflowTemplate) -> CompiledWorkflow:
        return engine.register(template.model_copy(update={"timeout": 30.0}))

    store = SqliteServiceStore(tmp_path / "svc.sqlite")
    app = create_app(engine, token="t", catalog=TemplateCatalog(store), register=with_timeout)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
    ) as client:
        assert (await client.post("/v1/templates", json=NOOP)).status_code == 201
        shown = (await client.get("/v1/templates/noop-flow")).json()
    store.close()
    assert shown["timeout"] == 30.0
    reopened = SqliteServiceStore(tmp_path / "svc.sqlite")
    assert reopened.templates() == [shown]
    reopened.close()


@pytest.mark.asyncio
async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v2/anything"), 404, "not-found")
    assert "/openapi.json" in body["detail"]
    assert_problem(await client.delete("/v1/templates"), 405, "method-not-allowed")
    assert AUTH["Authorization"] not in body["detail"]
