"""In-memory implementations of the engine's persistence protocols.

They are the default stores for tests: fast, isolated per instance, and safe under
concurrency (a lock guards every call, so the HTTP service's threads and the event loop
can share them). Records are immutable, so storing them by reference is a real snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from engine.records import ExecutionRecord, ExecutionState, StepRecord
from engine.status import ExecutionStatus


class InMemoryStateStorage:
    """Execution state by execution id, implementing :class:`engine.storage.StateStorage`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executions: dict[str, ExecutionRecord] = {}
        self._steps: dict[str, dict[str, StepRecord]] = {}

    def save(
        self, execution_id: str, execution: ExecutionRecord | None, steps: Iterable[StepRecord]
    ) -> None:
        """Upsert the execution record (when given) and the given step records."""
        with self._lock:
            if execution is not None:
                self._executions[execution_id] = execution
            elif execution_id not in self._executions:
                raise KeyError(
                    f"cannot save steps of execution '{execution_id}': its execution record "
                    "was never saved"
                )
            table = self._steps.get(execution_id)
            if table is None:
                table = self._steps[execution_id] = {}
            for record in steps:
                table[record.step_id] = record

    def save_step(self, execution_id: str, step: StepRecord) -> None:
        """Upsert one step record of an execution already saved.

        No lock: this runs twice per step, and a lookup followed by one dict store is
        safe under the GIL against every other method here (they replace or copy whole
        tables, each in one C-level operation, under the lock among themselves).
        """
        try:
            self._steps[execution_id][step.step_id] = step
        except KeyError:
            raise KeyError(
                f"cannot save step '{step.step_id}' of execution '{execution_id}': its "
                "execution record was never saved"
            ) from None

    def load(self, execution_id: str) -> ExecutionState | None:
        """A copy of the execution and its steps, or None."""
        with self._lock:
            execution = self._executions.get(execution_id)
            if execution is None:
                return None
            return ExecutionState(execution, dict(self._steps.get(execution_id, {})))

    def delete(self, execution_id: str) -> None:
        """Forget the execution."""
        with self._lock:
            self._executions.pop(execution_id, None)
            self._steps.pop(execution_id, None)

    def snapshot(self) -> InMemoryStateStorage:
        """A separate store holding what this one holds now: what a crash leaves behind."""
        copy = InMemoryStateStorage()
        with self._lock:
            copy._executions = dict(self._executions)
            copy._steps = {k: dict(v) for k, v in self._steps.items()}
        return copy

    def execution_ids(
        self, status: ExecutionStatus | Iterable[ExecutionStatus] | None = None
    ) -> list[str]:
        """Ids of stored executions, oldest first; only those in ``status`` if given."""
        wanted = _wanted(status)
        with self._lock:
            records = list(self._executions.values())
        records.sort(key=lambda r: (r.created_at, r.execution_id))
        return [r.execution_id for r in records if wanted is None or r.status in wanted]


class InMemoryExecutionRepository:
    """Execution history, implementing :class:`engine.storage.ExecutionRepository`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ExecutionRecord] = {}
        self._by_key: dict[str, str] = {}

    def store(self, record: ExecutionRecord) -> None:
        """Insert or replace the record with the same id."""
        with self._lock:
            key = record.idempotency_key
            if key is not None:
                owner = self._by_key.setdefault(key, record.execution_id)
                if owner != record.execution_id:
                    raise ValueError(
                        f"idempotency key '{key}' already belongs to execution '{owner}'"
                    )
            self._records[record.execution_id] = record

    def snapshot(self) -> InMemoryExecutionRepository:
        """A separate repository holding what this one holds now."""
        copy = InMemoryExecutionRepository()
        with self._lock:
            copy._records = dict(self._records)
            copy._by_key = dict(self._by_key)
        return copy

    def get_by_idempotency_key(self, key: str) -> ExecutionRecord | None:
        """The execution stored with this idempotency key, or None."""
        with self._lock:
            execution_id = self._by_key.get(key)
            return None if execution_id is None else self._records.get(execution_id)

    def get(self, execution_id: str) -> ExecutionRecord | None:
        """The record, or None."""
        with self._lock:
            return self._records.get(execution_id)

    def list(
        self,
        *,
        workflow: str | None = None,
        status: ExecutionStatus | Iterable[ExecutionStatus] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        """Records matching every filter, oldest first; ``limit`` keeps the first ones."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        wanted = _wanted(status)
        with self._lock:
            records = list(self._records.values())
        out = [
            r
            for r in records
            if (workflow is None or r.workflow == workflow)
            and (wanted is None or r.status in wanted)
            and (since is None or r.created_at >= since)
            and (until is None or r.created_at < until)
        ]
        out.sort(key=lambda r: (r.created_at, r.execution_id))
        return out if limit is None else out[:limit]


def _wanted(
    status: ExecutionStatus | Iterable[ExecutionStatus] | None,
) -> frozenset[ExecutionStatus] | None:
    if status is None:
        return None
    if isinstance(status, ExecutionStatus):
        return frozenset({status})
    return frozenset(status)
