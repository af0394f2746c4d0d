# mypy: disable-error-code="misc"
# The methods below are the Engine's, annotated ``self: Engine`` so that they are
# type-checked against the whole engine; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""The step task: one asyncio Task per started step, its attempts and its end.

This is the engine's hottest path (see ``windtunnel bench engine``): the attempt loop is
inlined in ``_execute``, and the rare branches (retries, cancellation, post-conditions,
a store that refuses a write) live in plain helper methods.
These are methods of :class:`engine.engine.Engine`, kept here by concern.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.actions import ActionContext, ActionFn
from engine.compensation import compensate_step
from engine.compiled import CompiledStep
from engine.errors import StepTimeoutError
from engine.events import EventKind
from engine.expressions import ExpressionError
from engine.records import AttemptRecord
from engine.retry import backoff_delay, is_retryable, jitter_rng, retry_after
from engine.run_state import RunState, StepState
from engine.status import ExecutionStatus, StepStatus

if TYPE_CHECKING:
    from engine.engine import Engine

_CANCELLED = StepStatus.CANCELLED
_SUCCEEDED = StepStatus.SUCCEEDED
# Builds a named tuple without its Python-level __new__: used on the per-step hot path.
_new_tuple = tuple.__new__


def _preview(action: str) -> ActionFn:
    """The dry-run stand-in for an action without a dry-run path: it reports the call."""

    async def preview(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"dry_run": True, "action": action, "params": dict(params)}

    return preview


class StepTaskMixin:
    """Running a started step to its terminal status."""

    async def _execute(self: Engine, run: RunState, index: int, state: StepState) -> None:
        """Run one step to a terminal status, then settle it. One Task per started step.

        The attempt loop is inlined (not a nested coroutine) because this is the engine's
        hottest path; the rare branches live in plain helper methods.
        """
        step = run.compiled.steps[index]
        clock = run.clock
        step_started: float = state.started_at  # type: ignore[assignment]  # set by _dispatch
        started = step_started  # the current attempt's start
        if run.stopping:
            # Stopped between dispatch and this task's first step: it never acted.
            state.status = _CANCELLED
            state.reason = self._stop_reason(run)
        else:
            params = step.params.constant
            if params is None or step.action.params_model is not None:
                params = self._resolve_params(run, step, state, started)
            fn = step.action.fn
            if run.dry_run:
                fn = step.action.dry_run or _preview(step.action.name)
            timeout = step.spec.timeout
            breaker = (
                self.breakers.for_call(step.spec.action, params)
                if self.breakers is not None and params is not None and not run.dry_run
                else None
            )
            permit = None
            attempt = 0
            write_failure = self._write_failure
            while params is not None:
                if write_failure is not None and (lost := write_failure()) is not None:
                    # What this attempt would act on was never recorded: stop here.
                    self._abort(run, index, lost)
                    return
                attempt += 1
                context = ActionContext(
                    run.execution_id,
                    state.step_id,
                    attempt,
                    run.inputs,
                    self.seed,
                    run.dry_run,
                    self,
                )
                try:
                    if breaker is not None:
                        permit = breaker.before_call()
                    if timeout is None:
                        outputs = await fn(context, params)
                    else:
                        async with asyncio.timeout(timeout) as scope:
                            outputs = await fn(context, params)
                except asyncio.CancelledError:
                    if permit is not None:
                        permit.release()  # a cancelled call says nothing about the target
                    self._cancelled(run, state, attempt, started, clock())
                    break
                except BaseException as exc:
                    if isinstance(exc, TimeoutError) and timeout is not None and scope.expired():
                        exc = StepTimeoutError(
                            f"attempt {attempt} exceeded the step timeout of {timeout}s"
                        )
                    elif not isinstance(exc, Exception):
                        if permit is not None:
                            permit.release()
                        raise
                    if permit is not None:
                        permit.record_failure()
                        permit = None
                    delay = self._failed_attempt(run, step, state, attempt, started, exc)
                    if delay is None:
                        break
                    try:
                        await asyncio.sleep(delay)
                    except asyncio.CancelledError:
                        self._cancelled(run, state, None, started, clock())
                        break
                    started = clock()
                else:
                    if permit is not None:
                        permit.record_success()
                    state.finished_at = now = clock()
                    state.attempts += (
                        _new_tuple(AttemptRecord, (attempt, started, now, None, None)),
                    )
                    state.outputs = outputs if outputs is not None else {}
                    if attempt > 1:
                        state.error = None  # earlier attempts' errors stay in the attempt log
                    state.status = _SUCCEEDED
                    if step.post_conditions and not self._post_conditions_hold(run, step, state):
                        self._save_step(run.execution_id, state.record())
                        await compensate_step(self, run, index)
                    break
        if state.finished_at is None:
            state.finished_at = clock()
        try:
            self._save_step(run.execution_id, state.record())
        except Exception as exc:
            self._abort(run, index, exc)
            return
        if self.events.active:
            self.emit_step(
                run,
                EventKind.STEP_FINISHED,
                state,
                {"duration": state.finished_at - step_started},  # backoffs included
            )
        del run.tasks[index]
        run.running -= 1
        self._running -= 1
        try:
            if run.reservations:
                self._release(run, index)
            worklist: list[int] = []
            self._settled(run, index, worklist)
            if worklist:
                self._resolve_all(run, worklist)
            elif run.ready and not run.in_heap and run.dispatchable:
                self._enqueue(run)
            if self._heap:
                self._pump()
            if run.running == 0:
                self._maybe_finish(run)
        except Exception as exc:  # a failed write while settling: same as above
            self._abort(run, None, exc)

    def _abort(self: Engine, run: RunState, index: int | None, error: Exception) -> None:
        """Stop an execution whose state could not be written, and fail it visibly.

        Running on without a record would break the promise that every transition is
        committed before the engine acts on it, so the execution stops: its other steps
        are cancelled, its slots freed, and ``wait()`` raises the error. The final
        status is written if the store takes it (best effort: it just failed).
        """
        if index is not None:
            del run.tasks[index]
            run.running -= 1
            self._running -= 1
            self._release(run, index)
        if run.store_error is None:
            run.store_error = error
            run.error = f"the execution's state could not be written: {error}"
            run.stopping = True
            self._cancel_tasks(run, run.error)
        if run.running or run.execution_id not in self._runs:
            return
        del self._runs[run.execution_id]
        if run.deadline_handle is not None:
            run.deadline_handle.cancel()
        run.status = ExecutionStatus.FAILED
        run.finished_at = run.clock()
        with contextlib.suppress(Exception):
            self.state.save(run.execution_id, run.record(), ())
            self.repository.store(run.record())
        self._emit_execution(run, EventKind.EXECUTION_FINISHED)
        if not run.done.done():
            run.done.set_exception(error)
            run.done.exception()  # retrieved here; wait() raises it again
        if self._heap:
            self._pump()

    def _post_conditions_hold(
        self: Engine, run: RunState, step: CompiledStep, state: StepState
    ) -> bool:
        """Check the step's post-conditions; False (step now Failed) if a critical one broke."""
        context = self.expression_context(run, step)
        context["outputs"] = dict(state.outputs or {})
        warnings = []
        for expr, condition in step.post_conditions:
            label = condition.message or expr.source
            try:
                held = expr.evaluate(context) is True
            except ExpressionError as exc:
                held, label = False, f"{label} ({exc})"
            if held:
                continue
            if condition.critical:
                state.status = StepStatus.FAILED
                state.reason = "post-condition failed"
                state.error = f"post-condition failed: {label}"
                return False
            warnings.append(f"post-condition failed: {label}")
        state.warnings = tuple(warnings)
        return True

    def _resolve_params(
        self: Engine, run: RunState, step: CompiledStep, state: StepState, now: float
    ) -> Mapping[str, Any] | None:
        """The step's parameters with templates resolved, or None after failing the step."""
        try:
            params = step.params.constant
            if params is None:
                params = step.params.resolve(self.expression_context(run, step))
            if step.action.params_model is not None:
                params = step.action.parse_params(params)
        except Exception as exc:
            state.status = StepStatus.FAILED
            state.reason = "parameters could not be resolved"
            state.error = f"{type(exc).__name__}: {exc}"
            state.attempts = (AttemptRecord(1, now, now, state.error),)
            return None
        return params

    def _failed_attempt(
        self: Engine,
        run: RunState,
        step: CompiledStep,
        state: StepState,
        attempt: int,
        started: float,
        error: Exception,
    ) -> float | None:
        """Record a failed attempt; the backoff delay if the policy retries it, else None."""
        policy = step.retry
        now = run.clock()
        message = f"{type(error).__name__}: {error}"
        state.error = message
        if attempt < policy.max_attempts and is_retryable(policy, error, step.action.retryable):
            rng = (
                jitter_rng(self.seed, run.execution_id, state.step_id, attempt)
                if policy.jitter
                else None
            )
            delay = backoff_delay(policy, attempt, rng)
            # The target may have said when to come back (Retry-After, a cool-down).
            delay = max(delay, retry_after(error))
            state.attempts += (AttemptRecord(attempt, started, now, message, delay),)
            self.state.save_step(run.execution_id, state.record())
            if self.events.active:
                self.emit_step(
                    run, EventKind.STEP_RETRYING, state, {"delay": delay, "error": message}
                )
            return delay
        state.attempts += (AttemptRecord(attempt, started, now, message),)
        state.finished_at = now
        state.status = (
            StepStatus.TIMED_OUT if isinstance(error, StepTimeoutError) else StepStatus.FAILED
        )
        if attempt > 1:
            state.reason = f"gave up after {attempt} attempts"
        return None

    def _cancelled(
        self: Engine,
        run: RunState,
        state: StepState,
        attempt: int | None,
        started: float,
        now: float,
    ) -> None:
        """Record a step cancelled mid-attempt (or mid-backoff when ``attempt`` is None)."""
        if attempt is not None:
            state.attempts += (AttemptRecord(attempt, started, now, "cancelled"),)
        state.finished_at = now
        if run.timed_out:
            state.status = StepStatus.TIMED_OUT
            state.error = "cancelled: the workflow timeout passed"
        else:
            state.status = _CANCELLED
            state.reason = self._stop_reason(run)
