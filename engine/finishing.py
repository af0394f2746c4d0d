# mypy: disable-error-code="misc"
# The methods below are the Engine's, annotated ``self: Engine`` so that they are
# type-checked against the whole engine; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""Finishing executions: deadlines, stopping, rollback, the outcome, dead letters, events.
These are methods of :class:`engine.engine.Engine`, kept here by concern.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.circuit_breaker import BreakerState, breaker_event
from engine.compensation import compensable, roll_back
from engine.events import Event, EventKind
from engine.records import DeadLetter
from engine.run_state import RunState, StepState
from engine.status import ExecutionStatus, StepStatus
from engine.template import FailurePolicy

if TYPE_CHECKING:
    from engine.engine import Engine

_CANCELLED = StepStatus.CANCELLED
_SUCCEEDED = StepStatus.SUCCEEDED


class FinishingMixin:
    """Stopping and finishing executions, and telling the world."""

    def _arm_deadline(self: Engine, run: RunState) -> None:
        """Schedule the workflow timeout, counted from when the execution started."""
        timeout = run.compiled.template.timeout
        if timeout is not None and run.started_at is not None:
            left = run.started_at + timeout - run.clock()
            run.deadline_handle = run.loop.call_later(max(left, 0.0), self._on_deadline, run)

    def _on_deadline(self: Engine, run: RunState) -> None:
        if run.status.terminal:
            return
        run.timed_out = True
        run.error = f"the workflow timeout of {run.compiled.template.timeout}s passed"
        self._stop(run, run.error)

    def _stop(self: Engine, run: RunState, reason: str) -> None:
        run.stopping = True
        if run.error is None and not run.cancel_requested:
            run.error = reason
        self._cancel_tasks(run, reason)
        self._maybe_finish(run)

    @staticmethod
    def _cancel_tasks(run: RunState, reason: str) -> None:
        """Cancel the execution's step tasks, each once it has begun.

        A task cancelled before its first step never enters ``_execute``, so its
        bookkeeping would be lost. Delivered with ``call_soon``, a cancellation comes
        after the first step of every task that exists now; those tasks see
        ``stopping`` and settle themselves, and no new task starts for a stopping run.
        """
        for task in run.tasks.values():
            run.loop.call_soon(task.cancel, reason)

    @staticmethod
    def _stop_reason(run: RunState) -> str:
        if run.cancel_requested:
            return "execution cancelled"
        return run.error or "execution stopped"

    def _maybe_finish(self: Engine, run: RunState) -> None:
        if run.status.terminal or run.running or run.rollback_task is not None:
            return
        if run.unfinished and not run.stopping:
            return
        now = run.clock()
        leftovers = []
        for state in run.states():
            if not state.status.terminal:
                state.status = _CANCELLED
                state.reason = self._stop_reason(run)
                state.finished_at = now
                leftovers.append(state.record())
                self.emit_step(run, EventKind.STEP_FINISHED, state, {"duration": 0.0})
        run.ready.clear()
        if run.deadline_handle is not None:
            run.deadline_handle.cancel()
        outcome = self._outcome(run)
        wants_rollback = (
            (outcome is ExecutionStatus.FAILED and run.compiled.template.rollback_on_failure)
            or (outcome is ExecutionStatus.CANCELLED and run.compensate_on_cancel)
            or run.resume_rollback
        )
        if wants_rollback and (compensable(run) or run.resume_rollback):
            run.status = ExecutionStatus.ROLLING_BACK
            self.state.save(run.execution_id, run.record(), leftovers)
            self.repository.store(run.record())
            self._emit_execution(run, EventKind.EXECUTION_ROLLING_BACK)
            run.rollback_task = run.loop.create_task(self._roll_back(run))
            return
        self.state.save(run.execution_id, None, leftovers)
        self._finalize(run, outcome)

    async def _roll_back(self: Engine, run: RunState) -> None:
        failed = await roll_back(self, run)
        if failed is None:
            self._finalize(run, ExecutionStatus.ROLLED_BACK)
            return
        cause = f"; it rolled back after: {run.error}" if run.error else ""
        run.error = f"compensation of step '{failed}' failed{cause}"
        self._finalize(run, ExecutionStatus.FAILED)

    def _finalize(self: Engine, run: RunState, status: ExecutionStatus) -> None:
        run.finished_at = run.clock()
        run.status = status
        record = run.record()
        self.state.save(run.execution_id, record, ())
        self.repository.store(record)
        del self._runs[run.execution_id]
        if self._throttled:
            self._throttled = [item for item in self._throttled if item[0] is not run]
        if status is ExecutionStatus.FAILED:
            self._dead_letter(run)
        self._emit_execution(run, EventKind.EXECUTION_FINISHED)
        if not run.done.done():
            run.done.set_result(None)

    def _dead_letter(self: Engine, run: RunState) -> None:
        """Queue an execution that failed because a step failed for good."""
        failed = [s for s in run.steps if s is not None and s.status.failed]
        if not failed or run.dry_run:
            return
        first = min(failed, key=lambda s: s.finished_at or 0.0)
        letter = DeadLetter(
            run.execution_id,
            run.compiled.name,
            run.compiled.version,
            first.step_id,
            first.error,
            len(first.attempts),
            run.finished_at or 0.0,
        )
        self.dead_letters.add(letter)
        if self.events.active:
            self.events.emit(
                Event(
                    EventKind.DEAD_LETTERED,
                    run.execution_id,
                    run.finished_at or 0.0,
                    run.compiled.name,
                    step_id=first.step_id,
                    status=str(run.status),
                    data={"error": first.error, "attempts": len(first.attempts)},
                )
            )

    def _outcome(self: Engine, run: RunState) -> ExecutionStatus:
        if run.store_error is not None:
            return ExecutionStatus.FAILED
        if run.cancel_requested:
            return ExecutionStatus.CANCELLED
        if run.timed_out:
            return ExecutionStatus.FAILED
        if run.failures == 0:
            return ExecutionStatus.SUCCEEDED
        policy = run.compiled.template.failure_policy
        if policy is FailurePolicy.CONTINUE and any(
            s is not None and s.status is StepStatus.SUCCEEDED for s in run.steps
        ):
            if run.error is None:
                run.error = f"{run.failures} step(s) failed"
            return ExecutionStatus.PARTIALLY_SUCCEEDED
        if run.error is None:
            failed = [s for s in run.steps if s is not None and s.status.failed]
            first = failed[0] if failed else None
            run.error = (
                f"step '{first.step_id}' {first.status}: {first.error or first.reason}"
                if first
                else "steps failed"
            )
        return ExecutionStatus.FAILED

    def _save_execution(self: Engine, run: RunState) -> None:
        record = run.record()
        self.state.save(run.execution_id, record, ())
        self.repository.store(record)

    def _breaker_changed(
        self: Engine, key: str, old: BreakerState, new: BreakerState, reason: str
    ) -> None:
        if self.events.active:
            now = asyncio.get_running_loop().time()
            self.events.emit(breaker_event(key, old, new, reason, time=now))

    def _emit_execution(self: Engine, run: RunState, kind: EventKind) -> None:
        if self.events.active:
            self.events.emit(
                Event(
                    kind,
                    run.execution_id,
                    run.clock(),
                    run.compiled.name,
                    status=str(run.status),
                    data={"error": run.error} if run.error else {},
                )
            )

    def emit_step(
        self: Engine,
        run: RunState,
        kind: EventKind,
        state: StepState,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.events.emit(
            Event(
                kind,
                run.execution_id,
                run.clock(),
                run.compiled.name,
                step_id=state.step_id,
                status=str(state.status),
                attempt=len(state.attempts),
                data={**(data or {}), **({"reason": state.reason} if state.reason else {})},
            )
        )
