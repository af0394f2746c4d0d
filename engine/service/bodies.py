"""Reading a JSON request body: bounded in size, parsed and validated in one pass.

A body is refused with 413 as soon as it is known to pass the limit (from
``Content-Length``, or while it streams in, so a client cannot make the service buffer
more than the limit), with 415 when it declares a media type other than JSON, with 400
when it is not JSON at all, and with 422 listing every schema violation (each with its
field path) when it is JSON of the wrong shape. pydantic parses and validates the raw
bytes at once, which is faster than ``json.loads`` followed by validation.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from engine.errors import describe_schema_error
from engine.service.problems import ProblemError

M = TypeVar("M", bound=BaseModel)

# pydantic's error types that mean "not JSON", as opposed to "JSON of the wrong shape".
_NOT_JSON = frozenset({"json_invalid"})


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than ``max_bytes`` with 413."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ProblemError(400, f"Content-Length {declared!r} is not a number") from None
        if size > max_bytes:
            raise _too_large(max_bytes)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> ProblemError:
    return ProblemError(
        413, f"the request body is larger than the service's limit of {max_bytes:,} bytes"
    )


def check_json_media_type(request: Request) -> None:
    """415 unless the body is declared JSON (or not declared at all)."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise ProblemError(
        415,
        f"the request body must be JSON (Content-Type: application/json), not {media or '(empty)'}",
    )


async def read_model(
    request: Request, model: type[M], max_bytes: int, *, empty: dict[str, Any] | None = None
) -> M:
    """The body parsed as ``model``; ``empty`` (when given) stands in for an empty body."""
    check_json_media_type(request)
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        if empty is not None:
            return model.model_validate(empty)
        raise ProblemError(400, "the request needs a JSON body")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_problem(exc) from None


def validation_problem(exc: ValidationError) -> ProblemError:
    """A pydantic error as 400 (not JSON) or 422 (every schema violation, with its field)."""
    details = exc.errors(include_url=False, include_input=False)
    if any(d["type"] in _NOT_JSON for d in details):
        message = details[0]["msg"]
        return ProblemError(400, f"the request body is not valid JSON: {message}")
    errors = [
        {"field": field_path(d["loc"]), "message": describe_schema_error(d["type"], d["msg"])}
        for d in details
    ]
    count = len(errors)
    noun = "problem" if count == 1 else "problems"
    summary = "; ".join(f"{e['field'] or '(body)'}: {e['message']}" for e in errors[:5])
    return ProblemError(422, f"the request body has {count} {noun}: {summary}", errors=errors)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("steps", 2, "id")`` as ``steps[2].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
