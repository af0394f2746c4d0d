"""Bearer-token auth: everything but the health probes needs the token, and it never leaks."""

from __future__ import annotations

import httpx
import pytest
from service_api_helpers import TOKEN, assert_problem
from starlette.applications import Starlette

from engine import Engine
from engine.service import create_app

PROTECTED = [
    ("GET", "/v1/templates"),
    ("POST", "/v1/templates"),
    ("GET", "/v1/templates/x"),
    ("POST", "/v1/executions"),
    ("GET", "/v1/executions"),
    ("GET", "/v1/executions/some-id"),
    ("POST", "/v1/executions/some-id/cancel"),
    ("POST", "/v1/executions/some-id/pause"),
    ("POST", "/v1/executions/some-id/resume"),
    ("GET", "/v1/executions/some-id/events"),
    ("GET", "/v1/events"),
    ("GET", "/v1/dead-letters"),
    ("POST", "/v1/dead-letters/some-id/replay"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/no/such/route"),
]


def _anonymous(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_every_route_but_health_needs_the_token(
    app: Starlette, method: str, path: str
) -> None:
    async with _anonymous(app) as client:
        response = await client.request(method, path)
    body = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="windtunnel"'
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_probes_need_no_token(app: Starlette, path: str) -> None:
    async with _anonymous(app) as client:
        response = await client.get(path)
    assert response.status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("Bearer wrong-token", "invalid_token"),
        (f"Bearer {TOKEN}x", "invalid_token"),
        (f"Basic {TOKEN}", "invalid_request"),
        ("Bearer", "invalid_request"),
        (TOKEN, "invalid_request"),
    ],
)
async def test_a_wrong_token_or_scheme_is_refused_without_echoing_it(
    app: Starlette, header: str, error: str
) -> None:
    async with _anonymous(app) as client:
        response = await client.get("/v1/templates", headers={"Authorization": header})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == f'Bearer realm="windtunnel", error="{error}"'
    assert TOKEN not in response.text
    assert "wrong-token" not in response.text


@pytest.mark.asyncio
async def test_the_scheme_is_case_insensitive(app: Starlette) -> None:
    async with _anonymous(app) as client:
        response = await client.get("/v1/templates", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_without_a_token_the_app_is_open_and_its_document_says_so(engine: Engine) -> None:
    app = create_app(engine, token=None)
    async with _anonymous(app) as client:
        listing = await client.get("/v1/templates")
        document = (await client.get("/openapi.json")).json()
    assert listing.status_code == 200
    assert "security" not in document
    assert "securitySchemes" not in document["components"]


@pytest.mark.asyncio
async def test_the_secured_document_declares_bearer_auth(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert document["paths"]["/healthz"]["get"]["security"] == []


@pytest.mark.asyncio
async def test_an_empty_token_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        create_app(engine, token="")
