"""The workflow template: a named, versioned DAG of steps.

Templates are pydantic models so that a template built in Python and one loaded from a
file are checked by the same schema: unknown fields are rejected, types are enforced and
numbers are range-checked before the semantic checks in :mod:`engine.validation` run.
Models are frozen: a registered template version can never change under a running
execution.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.trigger_rules import TriggerRule

STEP_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
_STEP_ID = re.compile(STEP_ID_PATTERN)

RetryOn = Literal["retryable", "timeout", "any"]


class FailurePolicy(StrEnum):
    """What an execution does after a step fails.

    * ``fail_fast``: start no new steps; running steps finish; every step that never
      started is marked Cancelled; the execution ends Failed.
    * ``continue``: branches that do not depend on the failed step go on; dependents are
      resolved by their trigger rules; the execution ends PartiallySucceeded if any step
      succeeded and Failed otherwise.
    """

    FAIL_FAST = "fail_fast"
    CONTINUE = "continue"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class RetryPolicy(_Model):
    """How often and how patiently a failed step is tried again.

    ``max_attempts`` counts every attempt, the first included, so ``1`` means no retry.
    The delay before attempt ``n + 1`` (after ``n`` failures) is ``delay`` (fixed),
    ``delay * n`` (linear) or ``delay * multiplier ** (n - 1)`` (exponential), capped at
    ``max_delay``; ``jitter`` then spreads it by up to that fraction either way, from a
    random generator seeded by the engine seed, execution id, step id and attempt.
    ``retry_on`` lists which failures are retried: ``retryable`` (errors the action marks
    retryable), ``timeout`` (an attempt that ran past the step's timeout) or ``any``.
    """

    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 1
    backoff: Literal["fixed", "linear", "exponential"] = "exponential"
    delay: Annotated[float, Field(ge=0, le=86_400)] = 1.0
    max_delay: Annotated[float, Field(ge=0, le=86_400)] = 300.0
    multiplier: Annotated[float, Field(ge=1, le=100)] = 2.0
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.0
    retry_on: tuple[RetryOn, ...] = ("retryable", "timeout")


class CompensationSpec(_Model):
    """The action that undoes a completed step when its execution rolls back."""

    action: Annotated[str, Field(min_length=1)]
    params: dict[str, Any] = Field(default_factory=dict)


class PostCondition(_Model):
    """A check over a finished step's ``outputs`` (CEL, like ``when``).

    A critical post-condition that is false fails the step, and the step's compensation
    runs at once (its action did run, so its effect must be undone); a non-critical one
    is recorded on the step, which still succeeds.
    """

    expression: Annotated[str, Field(min_length=1)]
    critical: bool = True
    message: str = ""


class InputSpec(_Model):
    """A declared workflow input: its type, whether it must be given, and its default."""

    type: Literal["string", "integer", "number", "boolean", "object", "array", "any"] = "any"
    required: bool = False
    default: Any = None
    description: str = ""


class StepSpec(_Model):
    """One node of the DAG.

    ``params`` may hold ``${{ expression }}`` templates over ``inputs``, ``vars`` and
    ``steps.<id>`` (``status``, ``outputs``, ``attempts``, ``error``); ``when`` is a CEL
    expression over the same names. ``timeout`` bounds each attempt, in seconds.
    """

    id: str
    action: Annotated[str, Field(min_length=1)]
    params: dict[str, Any] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    when: str | None = None
    trigger_rule: TriggerRule = TriggerRule.ALL_SUCCEEDED
    retry: RetryPolicy | None = None
    timeout: Annotated[float, Field(gt=0, le=604_800)] | None = None
    compensation: CompensationSpec | None = None
    post_conditions: tuple[PostCondition, ...] = ()
    resources: dict[str, Any] | None = None
    """What the step will need, for resource-aware admission: ``namespace``, per-replica
    ``cpu`` and ``memory`` quantities, ``replicas`` (default 1) and ``pods`` (default
    ``replicas``). Values may be ``${{ }}`` templates."""
    on_insufficient: Literal["queue", "fail"] = "queue"
    """When the resources do not fit: wait for room, or fail the step at once."""
    allow_failure: bool = False
    description: str = ""

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _STEP_ID.match(value):
            raise ValueError(
                f"step id {value!r} must start with a letter and hold only letters, digits, "
                "'_' and '-' (at most 63 characters)"
            )
        return value


class WorkflowTemplate(_Model):
    """A named, versioned DAG of steps with its defaults and policies."""

    name: Annotated[str, Field(min_length=1, max_length=253)]
    version: Annotated[int, Field(ge=1)] = 1
    description: str = ""
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    steps: tuple[StepSpec, ...]
    failure_policy: FailurePolicy = FailurePolicy.FAIL_FAST
    max_concurrency: Annotated[int, Field(ge=1)] | None = None
    timeout: Annotated[float, Field(gt=0, le=604_800)] | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    priority: int = 0
    rollback_on_failure: bool = False
    """When the execution fails, run the compensations of its completed steps, in
    reverse dependency order; it then ends RolledBack (or Failed, naming the compensation
    that failed)."""
