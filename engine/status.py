"""Execution and step statuses, one field each.

Statuses are plain string enums so that they serialise as themselves in JSON, YAML,
CEL contexts and reports without a mapping table.
"""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    """Where a whole execution stands."""

    PENDING = "Pending"
    RUNNING = "Running"
    PAUSED = "Paused"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    PARTIALLY_SUCCEEDED = "PartiallySucceeded"
    CANCELLED = "Cancelled"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"

    @property
    def terminal(self) -> bool:
        """True once the execution can no longer change."""
        return self in _TERMINAL_EXECUTION


class StepStatus(StrEnum):
    """Where one step of an execution stands."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    TIMED_OUT = "TimedOut"
    CANCELLED = "Cancelled"

    @property
    def terminal(self) -> bool:
        """True once the step has finished, whichever way."""
        return self in _TERMINAL_STEP

    @property
    def failed(self) -> bool:
        """True for the statuses that count as a failure of the step itself."""
        return self is StepStatus.FAILED or self is StepStatus.TIMED_OUT


_TERMINAL_EXECUTION = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.PARTIALLY_SUCCEEDED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.ROLLED_BACK,
    }
)
_TERMINAL_STEP = frozenset(
    {
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.TIMED_OUT,
        StepStatus.CANCELLED,
    }
)
