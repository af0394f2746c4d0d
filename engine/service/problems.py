"""RFC 9457 problem details: how every error of the service reaches a client.

Every 4xx and 5xx answer is ``application/problem+json``::

    {"type": "urn:windtunnel:problem:validation-error", "title": "Invalid request body",
     "status": 422, "detail": "...", "instance": "/v1/executions",
     "errors": [{"field": "version", "message": "Input should be greater than 0"}]}

``type`` names the kind of problem (a URN: stable, not a page to fetch), ``title`` is
the same for every problem of that kind, ``detail`` says what was wrong this time and
what would be right, ``instance`` is the request path, and ``errors`` (validation
problems only) lists every problem found, each with the field it is about.

Handlers raise :class:`ProblemError`; :func:`exception_handlers` turns it, Starlette's
own ``HTTPException`` (unknown route, wrong method) and anything unexpected into that
body. Bad input is always a :class:`ProblemError` with a 4xx status: a 500 means a bug.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from engine.errors import Problem

PROBLEM_JSON = "application/problem+json"
_URN = "urn:windtunnel:problem:"

logger = logging.getLogger("engine.service")

# One title per kind: a client may switch on ``type`` and show ``title`` as is.
TITLES: Mapping[str, str] = {
    "bad-request": "Bad request",
    "validation-error": "Invalid request",
    "unauthorized": "Missing or invalid bearer token",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "conflict": "Conflict",
    "payload-too-large": "Request body too large",
    "unsupported-media-type": "Unsupported media type",
    "unavailable": "Service unavailable",
    "internal-error": "Internal error",
}

_KIND_BY_STATUS: Mapping[int, str] = {
    400: "bad-request",
    401: "unauthorized",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    503: "unavailable",
}


class ProblemError(Exception):
    """An error answered with a problem-details body; raise it from a handler.

    ``kind`` picks ``type`` and ``title`` (see :data:`TITLES`); by default it follows
    the status. ``errors`` holds one entry per problem found, for validation errors.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _KIND_BY_STATUS.get(status, "internal-error")
        self.errors = [dict(e) for e in errors]
        self.headers = dict(headers or {})


def problem_body(
    status: int, detail: str, *, kind: str, instance: str, errors: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The RFC 9457 object for one problem."""
    body: dict[str, Any] = {
        "type": _URN + kind,
        "title": TITLES.get(kind, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = [dict(e) for e in errors]
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    instance: str = "",
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A ``application/problem+json`` response."""
    body = problem_body(
        status,
        detail,
        kind=kind or _KIND_BY_STATUS.get(status, "internal-error"),
        instance=instance,
        errors=errors,
    )
    return Response(
        json.dumps(body, default=str), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def template_errors(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """A template's (or a submission's) problems as ``errors`` entries."""
    out: list[dict[str, Any]] = []
    for problem in problems:
        entry: dict[str, Any] = {"field": problem.field, "message": problem.message}
        if problem.step_id is not None:
            entry["step_id"] = problem.step_id
        if problem.line is not None:
            entry["line"] = problem.line
        out.append(entry)
    return out


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        kind=exc.kind,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = f"no route {request.url.path}: see /openapi.json for the API"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log (uvicorn logs the re-raised exception too); the
    # client learns only that it is not its fault. Headers are never logged: the token.
    logger.error("internal error on %s %s: %r", request.method, request.url.path, exc)
    return problem_response(
        500,
        "the service failed on this request; it is a bug, not bad input: see the service log",
        kind="internal-error",
        instance=request.url.path,
    )


def exception_handlers() -> dict[Any, Any]:
    """Starlette ``exception_handlers`` that answer every error with problem details."""
    return {
        ProblemError: _on_problem,
        HTTPException: _on_http_exception,
        Exception: _on_unexpected,
    }
