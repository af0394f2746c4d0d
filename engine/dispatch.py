# mypy: disable-error-code="misc"
# The methods below are the Engine's, annotated ``self: Engine`` so that they are
# type-checked against the whole engine; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""Dispatch: deciding which steps may run, and starting them within the limits.

A step is *resolved* once every dependency is terminal (trigger rule, then ``when``);
ready steps wait in their execution's queue, and one engine-wide heap orders executions
by (priority, submission order) while the engine-wide and per-execution limits allow.
Steps that declare resources are admitted against the cluster's room first.
These are methods of :class:`engine.engine.Engine`, kept here by concern.
"""

from __future__ import annotations

import asyncio
import heapq
from typing import TYPE_CHECKING, Any

from engine.admission import Demand
from engine.compiled import CompiledStep
from engine.events import Event, EventKind
from engine.expressions import ExpressionError
from engine.run_state import RunState, StepState
from engine.status import ExecutionStatus, StepStatus
from engine.template import FailurePolicy
from engine.trigger_rules import TriggerRule

if TYPE_CHECKING:
    from engine.engine import Engine

_RUNNING = StepStatus.RUNNING
_SUCCEEDED = StepStatus.SUCCEEDED


class DispatchMixin:
    """Resolving, queueing, admitting and starting steps."""

    def _start(self: Engine, run: RunState, loop: asyncio.AbstractEventLoop) -> None:
        run.status = ExecutionStatus.RUNNING
        run.started_at = run.clock()
        self._arm_deadline(run)
        self._save_execution(run)
        self._emit_execution(run, EventKind.EXECUTION_STARTED)
        try:
            # The worklist is a stack: reversed, the roots start in document order.
            self._resolve_all(run, list(reversed(run.compiled.roots)))
            self._pump()
            self._maybe_finish(run)
        except Exception as exc:  # the store refused a write: the execution cannot go on
            self._abort(run, None, exc)
            raise

    def _resolve_all(self: Engine, run: RunState, worklist: list[int]) -> None:
        """Decide, for each step whose dependencies are all terminal, whether it runs.

        Steps skipped here are terminal at once, so their dependents join the worklist;
        a worklist (not recursion) keeps long chains of skips off the call stack.
        """
        steps = run.compiled.steps
        unsucceeded = run.unsucceeded
        while worklist:
            index = worklist.pop()
            if run.stopping:
                # Never started: left Pending here and marked Cancelled when the run ends.
                continue
            step = steps[index]
            # The common case (default rule met, no condition) needs no look at anything.
            outcome = None if step.plain and not unsucceeded[index] else self._decide(run, step)
            if outcome is None:
                if (
                    not self._heap
                    and not run.ready
                    and self._running < self._limit
                    and run.running < run.max_running
                    and not (run.paused or run.stopping)
                ):
                    self._dispatch(run, index)
                else:
                    run.ready.append(index)
                continue
            self._settle_unstarted(run, index, *outcome)
            self._settled(run, index, worklist)
        if run.ready and not run.in_heap and run.dispatchable:
            self._enqueue(run)

    def _settle_unstarted(
        self: Engine, run: RunState, index: int, status: StepStatus, reason: str, error: str | None
    ) -> None:
        """Record a terminal status for a step that never started (skipped, refused)."""
        state = run.state(index)
        state.status = status
        state.reason = reason
        state.error = error
        state.started_at = state.finished_at = run.clock()
        self.state.save_step(run.execution_id, state.record())
        if self.events.active:
            self.emit_step(run, EventKind.STEP_FINISHED, state)

    def _decide(
        self: Engine, run: RunState, step: CompiledStep
    ) -> tuple[StepStatus, str, str | None] | None:
        """None if the step may run, else (status, reason, error) to settle it with."""
        if step.deps and not (
            step.trigger_rule is TriggerRule.ALL_SUCCEEDED and not run.unsucceeded[step.index]
        ):
            deps = [run.state(d) for d in step.deps]
            if not step.trigger_rule.satisfied([d.status for d in deps]):
                blockers = ", ".join(f"{d.step_id}={d.status}" for d in deps)
                return (
                    StepStatus.SKIPPED,
                    f"trigger rule {step.trigger_rule} not met ({blockers})",
                    None,
                )
        if step.when is not None:
            try:
                value = step.when.evaluate(self.expression_context(run, step))
            except ExpressionError as exc:
                return StepStatus.FAILED, "condition could not be evaluated", str(exc)
            if not isinstance(value, bool):
                return (
                    StepStatus.FAILED,
                    "condition could not be evaluated",
                    f"condition {step.when.source!r} gave {value!r}, not a boolean",
                )
            if not value:
                return StepStatus.SKIPPED, f"condition is false: {step.when.source}", None
        return None

    def expression_context(
        self: Engine, run: RunState, step: CompiledStep, *, include_self: bool = False
    ) -> dict[str, Any]:
        """What the step's expressions see: inputs, vars and the steps they read."""
        refs: frozenset[int] | set[int] | None = step.step_refs
        if refs is None:
            refs = run.compiled.ancestors(step.index)
        if include_self:
            refs = {*refs, step.index}
        views = (run.state(i) for i in refs)
        return {
            "inputs": run.inputs,
            "vars": run.vars,
            "steps": {state.step_id: state.view() for state in views},
        }

    def _settled(self: Engine, run: RunState, index: int, worklist: list[int]) -> None:
        """Book a step that reached a terminal status and find dependents now resolvable."""
        run.unfinished -= 1
        state: StepState = run.steps[index]  # type: ignore[assignment]  # settled: it exists
        step = run.compiled.steps[index]
        status = state.status
        if status is not _SUCCEEDED:
            if status.failed and not step.spec.allow_failure:
                run.failures += 1
                policy = run.compiled.template.failure_policy
                if policy is FailurePolicy.FAIL_FAST and not run.stopping:
                    run.stopping = True
                    run.error = f"step '{state.step_id}' {status}: {state.error or state.reason}"
            unsucceeded = run.unsucceeded
            for dependent in step.dependents:
                unsucceeded[dependent] += 1
        waiting = run.waiting
        for dependent in reversed(step.dependents):  # popped in document order
            left = waiting[dependent] - 1
            waiting[dependent] = left
            if not left:
                worklist.append(dependent)

    def _enqueue(self: Engine, run: RunState) -> None:
        run.in_heap = True
        heapq.heappush(self._heap, (-run.priority, run.seq, run))

    def _pump(self: Engine) -> None:
        """Start ready steps, highest priority first, while the limits allow."""
        heap = self._heap
        while heap and self._running < self._limit:
            run = heap[0][2]
            if not run.ready or not run.dispatchable or run.running >= run.max_running:
                heapq.heappop(heap)
                run.in_heap = False
                continue
            self._dispatch(run, run.ready.popleft())

    def _dispatch(self: Engine, run: RunState, index: int) -> None:
        """Start step ``index``: record it Running, then create its task.

        The Running record is written here, before the task exists, so that a store
        which commits a loop tick's writes in one transaction (scheduled at the tick's
        first write) has committed it before the task's first step, and so before the
        action does anything.
        """
        step = run.compiled.steps[index]
        if step.resources is not None and not self._admit(run, index):
            return
        previous = run.steps[index]
        state = run.steps[index] = StepState(step.spec.id, _RUNNING, run.clock())
        if previous is not None:  # rerun after recovery: keep the interrupted attempts
            state.attempts = previous.attempts
        self._save_step(run.execution_id, state.record())
        run.running += 1
        self._running += 1
        run.tasks[index] = run.loop.create_task(self._execute(run, index, state))
        if self.events.active:
            self.emit_step(run, EventKind.STEP_STARTED, state)

    def _admit(self: Engine, run: RunState, index: int) -> bool:
        """Reserve the step's declared resources; False if it must not start now.

        A step that does not fit waits in the throttled queue (``on_insufficient:
        queue``) until room is released or re-measured, or fails at once (``fail``).
        """
        if self.admission is None:
            return True
        step = run.compiled.steps[index]
        template = step.resources
        assert template is not None
        try:
            values = template.constant
            if values is None:
                values = template.resolve(self.expression_context(run, step))
            demand = Demand.parse(values)
        except Exception as exc:
            self._refuse(run, index, "resources could not be resolved", f"{exc}")
            return False
        key = f"{run.execution_id}/{step.id}"
        reason = self.admission.try_reserve(key, demand)
        if reason is None:
            run.reservations[index] = key
            return True
        if step.spec.on_insufficient == "fail":
            self._refuse(run, index, "insufficient resources", f"{demand.describe()}: {reason}")
            return False
        self._throttled.append((run, index))
        if index in run.throttled:
            return False  # still waiting: one event per wait, not one per re-check
        run.throttled.add(index)
        if self.events.active:
            self.events.emit(
                Event(
                    EventKind.STEP_THROTTLED,
                    run.execution_id,
                    run.clock(),
                    run.compiled.name,
                    step_id=step.id,
                    status=str(StepStatus.PENDING),
                    data={"reason": reason, "demand": demand.describe()},
                )
            )
        return False

    def _refuse(self: Engine, run: RunState, index: int, reason: str, error: str) -> None:
        """Fail a step that cannot start, and let its dependents and the run move on."""
        self._settle_unstarted(run, index, StepStatus.FAILED, reason, error)
        worklist: list[int] = []
        self._settled(run, index, worklist)
        if worklist:
            self._resolve_all(run, worklist)
        run.loop.call_soon(self._maybe_finish, run)

    def _room_changed(self: Engine) -> None:
        """Capacity may have grown: give throttled steps, best priority first, a new try."""
        if not self._throttled or self._retrying:
            return
        self._retrying = True
        try:
            waiting = list(self._throttled)
            self._throttled.clear()
            waiting.sort(key=lambda item: (-item[0].priority, item[0].seq, item[1]))
            for run, index in waiting:
                if run.status.terminal or run.stopping:
                    continue
                run.ready.append(index)
                if not run.in_heap and run.dispatchable:
                    self._enqueue(run)
            self._pump()
        finally:
            self._retrying = False

    def _release(self: Engine, run: RunState, index: int) -> None:
        key = run.reservations.pop(index, None)
        if key is not None and self.admission is not None:
            self.admission.release(key)
