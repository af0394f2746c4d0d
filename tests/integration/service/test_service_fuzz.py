"""Schema-driven fuzz of the service's API from its own OpenAPI document: never a 5xx.

schemathesis generates requests for every operation of ``/openapi.json`` (valid ones
and, in its negative and coverage phases, ones that break the schema), sends them to a
live server with the bearer token, and checks that no answer is a server error and that
every answer conforms to the document (status codes, content types, response schemas).
Bounded (a few examples per operation) and derandomized, so it is the same run every
time; the endless ``/v1/events`` stream is left out (its errors are tested directly).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_live import AUTH, TOKEN, LiveService

from engine import Engine, WorkflowTemplate
from engine.service import create_app, openapi_document
from engine.service.schemas import SubmitRequest
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

schema = schemathesis.openapi.from_dict(
    openapi_document(secured=True), config=schemathesis.Config()
).exclude(path="/v1/events")
# Valid and schema-breaking requests; every phase but the stateful one, deterministic.
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    deterministic=True,
)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.hook
def map_body(context: schemathesis.HookContext, body: Any) -> Any:
    """Point valid generated bodies at things that exist, so success paths are fuzzed too.

    A random template name never matches and a random action never exists, so without
    this every valid submission would be a 422; bodies that break the schema are left
    exactly as generated.
    """
    operation = context.operation
    if operation is None or operation.method.upper() != "POST" or not isinstance(body, dict):
        return body
    if operation.path == "/v1/executions" and _valid(SubmitRequest, body):
        return {**body, "template": TEMPLATE["name"], "version": None}
    if operation.path == "/v1/templates" and _valid(WorkflowTemplate, body):
        ids = {step["id"] for step in body.get("steps", [])}
        steps = [{"id": step_id, "action": "noop"} for step_id in sorted(ids)] or [
            {"id": "a", "action": "noop"}
        ]
        keep = {
            k: v for k, v in body.items() if k in ("name", "version", "description", "priority")
        }
        return {**keep, "steps": steps}
    return body


def _valid(model: Any, body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


TEMPLATE = {"name": "fuzz-flow", "steps": [{"id": "a", "action": "noop"}]}


async def _build() -> tuple[Any, Any]:
    engine = Engine(
        state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=3
    )
    app = create_app(engine, token=TOKEN)
    app.state.service.catalog.add(
        app.state.service.register(WorkflowTemplate.model_validate(TEMPLATE))
    )

    async def cleanup() -> None:
        await engine.aclose()

    return app, cleanup


@pytest.fixture(scope="module")
def live() -> Iterator[LiveService]:
    service = LiveService(_build).start()
    yield service
    service.stop()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case: schemathesis.Case[Any], live: LiveService) -> None:
    case.call_and_validate(
        base_url=live.url,
        headers=AUTH,
        timeout=10,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
