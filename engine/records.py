"""Persisted records: what the stores hold and what callers read back.

Records are immutable snapshots (named tuples: cheap to create on every transition and
safe to hand to a store without copying). The engine keeps its own mutable state and
writes a fresh record each time a status changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.status import ExecutionStatus, StepStatus


class AttemptRecord(NamedTuple):
    """One try of a step: when it ran, how it ended, and the wait before the next try."""

    number: int
    started_at: float
    finished_at: float
    error: str | None = None
    retry_delay: float | None = None


class StepRecord(NamedTuple):
    """The state of one step of one execution."""

    step_id: str
    status: StepStatus
    attempts: tuple[AttemptRecord, ...] = ()
    outputs: Mapping[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    compensation: Mapping[str, Any] | None = None
    """How the step's compensation went: status, error, outputs, started_at, finished_at."""
    warnings: tuple[str, ...] = ()
    """Non-critical post-conditions that did not hold."""


class ExecutionRecord(NamedTuple):
    """The state of one execution, as listed and queried in the repository."""

    execution_id: str
    workflow: str
    version: int
    status: ExecutionStatus
    inputs: Mapping[str, Any]
    created_at: float
    priority: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    idempotency_key: str | None = None
    dry_run: bool = False
    replay_of: str | None = None
    """The execution this one replays from the dead-letter queue."""
    parent_id: str | None = None
    """The execution whose subflow step started this one."""


class DeadLetter(NamedTuple):
    """An execution that ended Failed because a step failed for good."""

    execution_id: str
    workflow: str
    version: int
    step_id: str
    error: str | None
    attempts: int
    failed_at: float
    replayed_by: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """An execution and all of its steps, as a state storage loads it."""

    execution: ExecutionRecord
    steps: Mapping[str, StepRecord]

    @property
    def status(self) -> ExecutionStatus:
        """The execution's status."""
        return self.execution.status

    def step(self, step_id: str) -> StepRecord:
        """One step's record; a KeyError names the step and the known ones."""
        try:
            return self.steps[step_id]
        except KeyError:
            known = ", ".join(sorted(self.steps)[:20])
            raise KeyError(f"execution has no step '{step_id}' (steps: {known})") from None

    def statuses(self) -> dict[str, StepStatus]:
        """Every step's status by id."""
        return {sid: rec.status for sid, rec in self.steps.items()}
