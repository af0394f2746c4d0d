"""``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json``."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from service_api_helpers import AUTH, NOOP, Register, Submit
from starlette.applications import Starlette
from starlette.routing import Route

from engine import Engine, StoreError
from engine.service import create_app


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service", headers=AUTH
    )


@pytest.mark.asyncio
async def test_liveness_and_readiness_when_all_is_well(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "failing": []})


@pytest.mark.asyncio
async def test_readiness_reports_every_failing_check(engine: Engine) -> None:
    async def checks() -> list[str]:
        return ["cluster reachable: connection refused"]

    engine.state.write_failure = lambda: StoreError("disk full")  # type: ignore[attr-defined]
    async with _client(create_app(engine, token="x", ready_check=checks)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unready",
        "failing": ["stores writable: disk full", "cluster reachable: connection refused"],
    }


@pytest.mark.asyncio
async def test_a_ready_check_that_raises_counts_as_failing(engine: Engine) -> None:
    async def broken() -> list[str]:
        raise RuntimeError("no route to host")

    async with _client(create_app(engine, token="x", ready_check=broken)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["ready check raised RuntimeError: no route to host"]


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_a_ready_check_that_hangs_counts_as_failing_after_the_bound(engine: Engine) -> None:
    async def hangs() -> list[str]:
        await asyncio.Future()
        return []

    async with _client(create_app(engine, token="x", ready_check=hangs)) as client:
        ready = await client.get("/readyz")
    assert ready.json()["failing"] == ["ready check: no answer within 5s"]


@pytest.mark.asyncio
async def test_metrics_are_the_engines_in_prometheus_text(
    client: httpx.AsyncClient, engine: Engine, register: Register, submit: Submit
) -> None:
    await register(NOOP)
    await engine.wait(await submit("noop-flow"))
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    line = re.search(
        r'^workflow_engine_executions_total\{status="Succeeded",workflow="noop-flow"\} (\S+)$',
        response.text,
        re.M,
    )
    assert line is not None
    assert float(line.group(1)) == 1.0


@pytest.mark.asyncio
async def test_the_document_describes_every_route_of_the_app(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    document = (await client.get("/openapi.json")).json()
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = set()
    for route in app.routes:
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+):path\}", r"{\1}", route.path)
        served |= {(m, path) for m in (route.methods or ()) if m != "HEAD"}
    assert documented == served
    schemas = document["components"]["schemas"]
    assert {"WorkflowTemplate", "SubmitRequest", "ProblemDetails", "StepSpec"} <= set(schemas)
