"""The engine's live, mutable state of one execution and its steps.

Kept apart from the immutable records (:mod:`engine.records`): this is what the dispatch
loop mutates on every transition, laid out for speed (slots, integer indices); records
are snapshots of it written to the stores.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from engine.compiled import CompiledWorkflow
from engine.records import AttemptRecord, ExecutionRecord, StepRecord
from engine.status import ExecutionStatus, StepStatus

_new_tuple = tuple.__new__


class StepState:
    """Mutable state of one step."""

    __slots__ = (
        "attempts",
        "compensation",
        "error",
        "finished_at",
        "outputs",
        "reason",
        "started_at",
        "status",
        "step_id",
        "warnings",
    )

    def __init__(
        self,
        step_id: str,
        status: StepStatus = StepStatus.PENDING,
        started_at: float | None = None,
    ) -> None:
        self.step_id = step_id
        self.status = status
        self.attempts: tuple[AttemptRecord, ...] = ()
        self.outputs: Mapping[str, Any] | None = None
        self.error: str | None = None
        self.reason: str | None = None
        self.started_at = started_at
        self.finished_at: float | None = None
        self.compensation: Mapping[str, Any] | None = None
        self.warnings: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: StepRecord) -> StepState:
        """The live state a persisted record describes (crash recovery)."""
        state = cls(record.step_id)
        state.status = record.status
        state.attempts = tuple(record.attempts)
        state.outputs = record.outputs
        state.error = record.error
        state.reason = record.reason
        state.started_at = record.started_at
        state.finished_at = record.finished_at
        state.compensation = record.compensation
        state.warnings = tuple(record.warnings)
        return state

    def record(self) -> StepRecord:
        """An immutable snapshot for the stores."""
        # tuple.__new__ skips the named tuple's Python-level __new__: this runs on every
        # transition of every step.
        return _new_tuple(
            StepRecord,
            (
                self.step_id,
                self.status,
                self.attempts,
                self.outputs,
                self.error,
                self.reason,
                self.started_at,
                self.finished_at,
                self.compensation,
                self.warnings,
            ),
        )

    def view(self) -> dict[str, Any]:
        """What expressions see as ``steps.<id>``."""
        return {
            "status": str(self.status),
            "outputs": dict(self.outputs or {}),
            "attempts": len(self.attempts),
            "error": self.error,
        }


class RunState:
    """Mutable state of one execution while the engine runs it."""

    __slots__ = (
        "cancel_requested",
        "clock",
        "compensate_on_cancel",
        "compiled",
        "created_at",
        "deadline_handle",
        "done",
        "dry_run",
        "error",
        "execution_id",
        "failures",
        "finished_at",
        "idempotency_key",
        "in_heap",
        "inputs",
        "loop",
        "max_running",
        "parent_id",
        "paused",
        "priority",
        "ready",
        "replay_of",
        "reservations",
        "resume_rollback",
        "rollback_task",
        "running",
        "seq",
        "started_at",
        "status",
        "steps",
        "stopping",
        "store_error",
        "tasks",
        "throttled",
        "timed_out",
        "unfinished",
        "unsucceeded",
        "vars",
        "waiting",
    )

    def __init__(
        self,
        *,
        execution_id: str,
        compiled: CompiledWorkflow,
        inputs: dict[str, Any],
        variables: Mapping[str, Any],
        priority: int,
        seq: int,
        created_at: float,
        done: asyncio.Future[None],
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float],
        idempotency_key: str | None = None,
        dry_run: bool = False,
        replay_of: str | None = None,
        parent_id: str | None = None,
    ) -> None:
        self.idempotency_key = idempotency_key
        self.dry_run = dry_run
        self.replay_of = replay_of
        self.parent_id = parent_id
        self.rollback_task: asyncio.Task[None] | None = None
        self.compensate_on_cancel = False
        self.resume_rollback = False
        self.store_error: Exception | None = None
        self.reservations: dict[int, str] = {}
        self.throttled: set[int] = set()  # steps that waited for room at least once
        self.execution_id = execution_id
        self.compiled = compiled
        self.inputs = inputs
        self.vars = variables
        self.priority = priority
        self.seq = seq
        self.created_at = created_at
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.status = ExecutionStatus.PENDING
        self.error: str | None = None
        self.done = done
        steps = compiled.steps
        self.loop = loop
        self.clock = clock
        # Created when a step is first resolved: most of a large DAG waits untouched for
        # a while, and a missing state simply means Pending.
        self.steps: list[StepState | None] = [None] * len(steps)
        self.waiting = [len(s.deps) for s in steps]
        # Dependencies that finished other than Succeeded, per step: the default trigger
        # rule (all_succeeded) then needs no look at the dependencies themselves.
        self.unsucceeded = [0] * len(steps)
        self.unfinished = len(steps)
        self.ready: deque[int] = deque()
        self.running = 0
        limit = compiled.template.max_concurrency
        self.max_running = limit if limit is not None else len(steps) + 1
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.in_heap = False
        self.paused = False
        self.stopping = False
        self.cancel_requested = False
        self.timed_out = False
        self.failures = 0
        self.deadline_handle: asyncio.TimerHandle | None = None

    def state(self, index: int) -> StepState:
        """The state of step ``index``, created (Pending) if it has none yet."""
        state = self.steps[index]
        if state is None:
            state = self.steps[index] = StepState(self.compiled.steps[index].spec.id)
        return state

    def states(self) -> list[StepState]:
        """Every step's state, creating the missing (Pending) ones."""
        return [self.state(i) for i in range(len(self.steps))]

    @property
    def dispatchable(self) -> bool:
        """Whether new steps of this execution may start now."""
        return not (self.paused or self.stopping)

    def record(self) -> ExecutionRecord:
        """An immutable snapshot for the stores."""
        template = self.compiled.template
        return ExecutionRecord(
            self.execution_id,
            template.name,
            template.version,
            self.status,
            self.inputs,
            self.created_at,
            self.priority,
            self.started_at,
            self.finished_at,
            self.error,
            self.idempotency_key,
            self.dry_run,
            self.replay_of,
            self.parent_id,
        )
