"""The OpenAPI 3.1 document of the service, built from the same models that validate.

Request schemas come from the pydantic models the routes parse with (the workflow
template's is :class:`engine.WorkflowTemplate`'s own), response schemas from
:mod:`engine.service.schemas`, so the document describes what the code does. Every
operation lists the problem responses it can give; the API tests and the
schema-driven fuzz check real responses against this document.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from engine.service import schemas
from engine.service.listing import DEFAULT_LIMIT, MAX_LIMIT
from engine.service.problems import PROBLEM_JSON
from engine.status import ExecutionStatus
from engine.template import WorkflowTemplate

_REF = "#/components/schemas/{model}"

_MODELS: tuple[type[BaseModel], ...] = (
    WorkflowTemplate,
    schemas.SubmitRequest,
    schemas.CancelRequest,
    schemas.TemplateRef,
    schemas.TemplateList,
    schemas.ExecutionRef,
    schemas.ReplayRef,
    schemas.ExecutionDetail,
    schemas.ExecutionPage,
    schemas.DeadLetterList,
    schemas.Health,
    schemas.Readiness,
    schemas.ProblemDetails,
)

_PROBLEM_TEXT = {
    400: "Malformed JSON or bad query parameters",
    401: "Missing or invalid bearer token",
    404: "Unknown id",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "Body not JSON",
    422: "Schema violation or invalid template/inputs",
    503: "Draining, or the store cannot record the change",
}


def _components() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in _MODELS:
        schema = model.model_json_schema(ref_template=_REF)
        for name, sub in schema.pop("$defs", {}).items():
            out.setdefault(name, sub)
        out[model.__name__] = schema
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _problems(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": _PROBLEM_TEXT[code],
            "content": {PROBLEM_JSON: {"schema": _ref("ProblemDetails")}},
        }
        for code in (401, *codes)
    }


def _body(name: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_EXECUTION_ID = _path_param("execution_id", "An execution id as submit returned it.")
_SSE = {
    "description": "Server-sent events; each data line is a CloudEvents 1.0 JSON object.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


def openapi_document(*, secured: bool = True, title: str = "windtunnel engine") -> dict[str, Any]:
    """The document; ``secured`` says whether operations need the bearer token."""
    statuses = [s.value for s in ExecutionStatus]
    control: dict[str, Any] = {
        "parameters": [_EXECUTION_ID],
        "responses": {
            "202": _json("ExecutionRef", "The status after the request"),
            **_problems(404, 409, 503),
        },
    }
    paths: dict[str, Any] = {
        "/v1/templates": {
            "post": {
                "operationId": "registerTemplate",
                "summary": "Register a template version",
                "requestBody": _body("WorkflowTemplate"),
                "responses": {
                    "201": _json("TemplateRef", "Registered"),
                    "200": _json("TemplateRef", "This very version was registered already"),
                    **_problems(400, 409, 413, 415, 422, 503),
                },
            },
            "get": {
                "operationId": "listTemplates",
                "responses": {
                    "200": _json("TemplateList", "Registered versions"),
                    **_problems(400),
                },
            },
        },
        "/v1/templates/{name}": {
            "get": {
                "operationId": "getTemplate",
                "parameters": [
                    _path_param("name", "Template name"),
                    _query(
                        "version",
                        {"type": "integer", "minimum": 1, "maximum": schemas.INT32_MAX},
                        "Latest when omitted",
                    ),
                ],
                "responses": {
                    "200": _json("WorkflowTemplate", "The template as registered"),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/executions": {
            "post": {
                "operationId": "submitExecution",
                "requestBody": _body("SubmitRequest"),
                "responses": {
                    "201": _json("ExecutionRef", "Started"),
                    "200": _json("ExecutionRef", "The idempotency key's earlier execution"),
                    **_problems(400, 409, 413, 415, 422, 503),
                },
            },
            "get": {
                "operationId": "listExecutions",
                "parameters": [
                    _query("template", {"type": "string", "minLength": 1}, "Workflow name"),
                    _query(
                        "status",
                        {"type": "string", "enum": statuses},
                        "Status; repeat or comma-separate for several",
                    ),
                    _query("since", {"type": "string"}, "created_at from (RFC 3339 or Unix s)"),
                    _query("until", {"type": "string"}, "created_at before (RFC 3339 or Unix s)"),
                    _query(
                        "limit",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT,
                        },
                        "Page size",
                    ),
                    _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
                ],
                "responses": {
                    "200": _json("ExecutionPage", "A page, oldest first"),
                    **_problems(400),
                },
            },
        },
        "/v1/executions/{execution_id}": {
            "get": {
                "operationId": "getExecution",
                "parameters": [_EXECUTION_ID],
                "responses": {
                    "200": _json("ExecutionDetail", "The execution and its steps"),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/executions/{execution_id}/cancel": {
            "post": {
                **control,
                "operationId": "cancelExecution",
                "requestBody": _body("CancelRequest", required=False),
                "responses": {
                    **control["responses"],
                    **_problems(400, 404, 409, 413, 415, 422, 503),
                },
            }
        },
        "/v1/executions/{execution_id}/pause": {
            "post": {**control, "operationId": "pauseExecution"}
        },
        "/v1/executions/{execution_id}/resume": {
            "post": {**control, "operationId": "resumeExecution"}
        },
        "/v1/executions/{execution_id}/events": {
            "get": {
                "operationId": "executionEvents",
                "parameters": [_EXECUTION_ID],
                "responses": {"200": _SSE, **_problems(400, 404)},
            }
        },
        "/v1/events": {
            "get": {"operationId": "allEvents", "responses": {"200": _SSE, **_problems(400)}}
        },
        "/v1/dead-letters": {
            "get": {
                "operationId": "listDeadLetters",
                "parameters": [
                    _query(
                        "include_replayed",
                        {"type": "string", "enum": ["true", "false"]},
                        "Also list letters already replayed",
                    )
                ],
                "responses": {
                    "200": _json("DeadLetterList", "Dead letters, oldest first"),
                    **_problems(400),
                },
            }
        },
        "/v1/dead-letters/{execution_id}/replay": {
            "post": {
                "operationId": "replayDeadLetter",
                "parameters": [_EXECUTION_ID],
                "responses": {
                    "201": _json("ReplayRef", "The new execution"),
                    **_problems(404, 409, 503),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "security": [],
                "responses": {"200": _json("Health", "Alive")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "security": [],
                "responses": {
                    "200": _json("Readiness", "Ready"),
                    "503": _json("Readiness", "Not ready: the failing checks"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "responses": {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_problems(),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "This document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_problems(),
                },
            }
        },
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "1",
            "description": "The DAG workflow engine as an HTTP service. Errors are RFC 9457 "
            "problem details (application/problem+json).",
        },
        "paths": paths,
        "components": {"schemas": _components()},
    }
    if secured:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    else:
        for item in paths.values():
            for operation in item.values():
                operation["responses"].pop("401", None)
    return document
