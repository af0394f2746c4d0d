"""Fixtures for the service's API tests: an engine on in-memory stores, its app, a client.

The client is httpx's ASGI transport on the test's own loop (no sockets), so the engine,
the app and the test share one event loop, and under ``@pytest.mark.looptime`` the
engine's waits (sleep steps, backoff) take no wall time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from service_api_helpers import AUTH, TOKEN, Register, Submit
from starlette.applications import Starlette

from engine import Engine
from engine.service import ServiceContext, create_app
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = Engine(
        state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=11
    )
    yield eng
    await eng.aclose()


@pytest.fixture
def app(engine: Engine) -> Starlette:
    return create_app(engine, token=TOKEN, max_body_bytes=64 * 1024)


@pytest.fixture
def ctx(app: Starlette) -> ServiceContext:
    context: ServiceContext = app.state.service
    return context


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://service", headers=AUTH
    ) as http:
        yield http


@pytest.fixture
def register(client: httpx.AsyncClient) -> Register:
    """Register a template over HTTP; fails the test unless it is accepted."""

    async def post(template: dict[str, Any]) -> dict[str, Any]:
        response = await client.post("/v1/templates", json=template)
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    return post


@pytest.fixture
def submit(client: httpx.AsyncClient) -> Submit:
    """Submit an execution over HTTP and return its id; fails unless it is 201."""

    async def post(template: str, **fields: Any) -> str:
        response = await client.post("/v1/executions", json={"template": template, **fields})
        assert response.status_code == 201, response.text
        execution_id: str = response.json()["execution_id"]
        return execution_id

    return post
