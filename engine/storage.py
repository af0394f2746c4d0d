"""The persistence protocols the engine writes every state transition through.

Both are synchronous on purpose: the engine commits a transition *before* it acts on it,
so a write sits on the dispatch path, and the stores it targets (memory, SQLite) are
local. Implementations must be safe to call from several threads.

A write that cannot be made durable raises :class:`StoreError` from the call that asked
for it, never later and never silently: the engine must not go on running an execution
whose state it could not record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from engine.records import ExecutionRecord, ExecutionState, StepRecord
from engine.status import ExecutionStatus


class StoreError(RuntimeError):
    """A store cannot be opened, read or written; the message names the file and the fix.

    Raised for a corrupt or truncated file, a schema newer than the code, and a write
    that could not be committed (disk full, read-only file, locked database). A failed
    write stored nothing; everything committed before it is intact.
    """


@runtime_checkable
class StateStorage(Protocol):
    """Execution state, complete enough to resume an execution from it."""

    def save(
        self, execution_id: str, execution: ExecutionRecord | None, steps: Iterable[StepRecord]
    ) -> None:
        """Upsert the execution record (when given) and the given step records."""

    def save_step(self, execution_id: str, step: StepRecord) -> None:
        """Upsert one step record of an execution already saved: the dispatch-path form."""

    def load(self, execution_id: str) -> ExecutionState | None:
        """The execution with all its steps, or None if unknown."""

    def delete(self, execution_id: str) -> None:
        """Forget the execution; unknown ids are ignored."""


@runtime_checkable
class ExecutionRepository(Protocol):
    """Queryable execution history."""

    def store(self, record: ExecutionRecord) -> None:
        """Insert or replace the record with the same execution id."""

    def get(self, execution_id: str) -> ExecutionRecord | None:
        """The record, or None if unknown."""

    def get_by_idempotency_key(self, key: str) -> ExecutionRecord | None:
        """The execution submitted with this idempotency key, or None."""

    def list(
        self,
        *,
        workflow: str | None = None,
        status: ExecutionStatus | Iterable[ExecutionStatus] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        """Records matching every given filter, oldest first.

        ``since``/``until`` bound ``created_at`` (inclusive, exclusive).
        """
