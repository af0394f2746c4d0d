"""Listing executions: the filters of ``GET /v1/executions`` and keyset paging.

Filters: ``template`` (a workflow name), ``status`` (one or more statuses, repeated or
comma-separated), ``since``/``until`` (RFC 3339 or Unix seconds; they bound
``created_at``, inclusive and exclusive), ``limit`` (1 to 1000, default 100) and
``cursor``. Every bad value is reported at once, as a 400 whose ``errors`` name the
parameter and the fix (an unknown status lists the valid ones).

Pages are ordered by (``created_at``, ``execution_id``), the repository's order. The
cursor is that key of the last item of the page, opaque to clients (URL-safe base64 of
JSON); the next page is what comes after it, so executions submitted while a client
pages never shift or repeat items. A client repeats its filters with the cursor.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.records import ExecutionRecord
from engine.service.problems import ProblemError
from engine.service.views import parse_timestamp
from engine.status import ExecutionStatus
from engine.storage import ExecutionRepository

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
KNOWN_PARAMETERS = ("template", "status", "since", "until", "limit", "cursor")
_STATUSES = {s.value: s for s in ExecutionStatus}


@dataclass(frozen=True, slots=True)
class ExecutionQuery:
    template: str | None = None
    statuses: tuple[ExecutionStatus, ...] | None = None
    since: float | None = None
    until: float | None = None
    limit: int = DEFAULT_LIMIT
    after: tuple[float, str] | None = None


def parse_query(params: Mapping[str, Sequence[str]]) -> ExecutionQuery:
    """The query from the request's parameters (every value of each); 400 on any problem."""
    errors: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    for name in params:
        if name not in KNOWN_PARAMETERS:
            bad(
                name,
                f"unknown parameter{_suggest(name, KNOWN_PARAMETERS)}; known: "
                + ", ".join(KNOWN_PARAMETERS),
            )
    for name in ("template", "since", "until", "limit", "cursor"):
        if len(params.get(name, ())) > 1:
            bad(name, "give this parameter once")

    def one(name: str) -> str | None:
        values = params.get(name)
        return values[0] if values else None

    template = one("template")
    if template is not None and not template:
        bad("template", "must not be empty")
    statuses: list[ExecutionStatus] = []
    for value in params.get("status", ()):
        for part in value.split(","):
            status = _STATUSES.get(part.strip())
            if status is None:
                bad(
                    "status",
                    f"unknown status {part.strip()!r}{_suggest(part, _STATUSES)}; "
                    "valid: " + ", ".join(_STATUSES),
                )
            else:
                statuses.append(status)
    since = _time(one("since"), "since", bad)
    until = _time(one("until"), "until", bad)
    if since is not None and until is not None and since >= until:
        bad("until", "must be later than 'since'")
    limit = DEFAULT_LIMIT
    raw_limit = one("limit")
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            bad("limit", f"{raw_limit!r} is not a whole number")
        else:
            if not 1 <= limit <= MAX_LIMIT:
                bad("limit", f"must be between 1 and {MAX_LIMIT}, got {limit}")
    after = None
    raw_cursor = one("cursor")
    if raw_cursor is not None:
        after = decode_cursor(raw_cursor)
        if after is None:
            bad("cursor", "not a cursor this service handed out: pass next_cursor as it is")
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ProblemError(400, f"bad query parameters: {summary}", errors=errors)
    return ExecutionQuery(
        template=template,
        statuses=tuple(statuses) if statuses else None,
        since=since,
        until=until,
        limit=limit,
        after=after,
    )


def _time(raw: str | None, name: str, bad: Any) -> float | None:
    if raw is None:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        bad(name, f"{exc}; give RFC 3339 (2030-01-31T12:00:00Z) or Unix seconds")
        return None


def _suggest(name: str, known: Sequence[str] | Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name.strip(), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def encode_cursor(record: ExecutionRecord) -> str:
    raw = json.dumps([record.created_at, record.execution_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, str] | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int | float)
        and not isinstance(value[0], bool)
        and math.isfinite(value[0])
        and isinstance(value[1], str)
    ):
        return float(value[0]), value[1]
    return None


def page(
    repository: ExecutionRepository, query: ExecutionQuery
) -> tuple[list[ExecutionRecord], str | None]:
    """One page of executions and the cursor of the next (None on the last page)."""
    since = query.since
    if query.after is not None:
        since = query.after[0] if since is None else max(since, query.after[0])
    # Records sharing the cursor's created_at come back again and are skipped; fetch more
    # until the page is full or the repository has no more (ties are rare off virtual time).
    fetch = query.limit + 1
    while True:
        records = repository.list(
            workflow=query.template,
            status=query.statuses,
            since=since,
            until=query.until,
            limit=fetch,
        )
        exhausted = len(records) < fetch
        if query.after is not None:
            key = query.after
            records = [r for r in records if (r.created_at, r.execution_id) > key]
        if len(records) > query.limit or exhausted:
            break
        fetch *= 2
    items = records[: query.limit]
    more = len(records) > query.limit
    return items, encode_cursor(items[-1]) if more and items else None
