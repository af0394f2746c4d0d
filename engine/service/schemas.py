"""The shapes of the API: request bodies (validated) and responses (documented).

Request models reject unknown fields and coerce nothing (``"1"`` is not a version).
Response models are not used to build responses (the views in
:mod:`engine.service.views` write plain dicts, which is faster); they describe them
in the OpenAPI document, and the API tests check every response against that document,
so the two cannot drift apart unnoticed.

Integers that end up in the store (versions, priorities) are bounded to 32 bits: a
larger number is a mistake, and SQLite could not hold an unbounded one.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from engine.status import ExecutionStatus, StepStatus

INT32_MAX = 2**31 - 1
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
Priority = Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SubmitRequest(_Request):
    """Start an execution of a registered template."""

    template: Annotated[str, Field(min_length=1, max_length=253)]
    version: Version | None = Field(
        default=None, description="Template version; the latest when omitted."
    )
    inputs: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None,
        description="A key seen before returns the execution it started (200), "
        "instead of starting another.",
    )
    priority: Priority | None = Field(
        default=None, description="Lower runs first; the template's priority when omitted."
    )
    dry_run: bool = Field(
        default=False, description="Validate and call only the actions' dry-run paths."
    )


class CancelRequest(_Request):
    """Optional body of a cancel: whether to run the completed steps' compensations."""

    compensate: bool = False


# ---------------------------------------------------------------------- responses


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


Timestamp = Annotated[str, Field(description="RFC 3339, UTC")]


class TemplateRef(_Response):
    name: str
    version: int


class TemplateList(_Response):
    items: list[TemplateRef]


class ExecutionRef(_Response):
    execution_id: str
    status: ExecutionStatus


class ReplayRef(_Response):
    execution_id: str


class Attempt(_Response):
    number: int
    started_at: Timestamp
    finished_at: Timestamp
    error: str | None
    retry_delay: float | None


class Step(_Response):
    step_id: str
    status: StepStatus
    attempts: list[Attempt]
    outputs: dict[str, Any] | None
    error: str | None
    reason: str | None
    started_at: Timestamp | None
    finished_at: Timestamp | None


class ExecutionSummary(_Response):
    execution_id: str
    workflow: str
    version: int
    status: ExecutionStatus
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    error: str | None
    priority: int
    dry_run: bool
    idempotency_key: str | None
    replay_of: str | None
    parent_id: str | None


class ExecutionDetail(ExecutionSummary):
    inputs: dict[str, Any]
    steps: list[Step]


class ExecutionPage(_Response):
    items: list[ExecutionSummary]
    next_cursor: str | None


class DeadLetterView(_Response):
    execution_id: str
    workflow: str
    version: int
    step_id: str
    error: str | None
    attempts: int
    failed_at: Timestamp
    replayed_by: str | None


class DeadLetterList(_Response):
    items: list[DeadLetterView]


class Health(_Response):
    status: str


class Readiness(_Response):
    status: str
    failing: list[str]


class ProblemDetails(_Response):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None
