"""Compensation (saga): undoing completed steps when an execution rolls back.

A step's ``compensation`` is an action with parameters that may read the step's own
outputs (``steps.<self>.outputs``). On rollback the compensations of Succeeded steps run
one at a time in reverse dependency order (a step is undone only after everything that
depended on it), each with the step's retry policy and timeout. The first compensation
that fails stops the rollback: later ones could depend on it having worked, and the
execution ends Failed naming it. A compensation also runs on its own, at once, when a
critical post-condition of its step fails.

Compensations take no concurrency slot, engine-wide or per workflow, on purpose: a
rollback is recovery work that puts the cluster back the way it was, and queueing it
behind new work on a saturated engine could leave a half-applied change in place for as
long as the queue is long. The excess is bounded: each execution rolls back one
compensation at a time, so at most one per rolling-back execution runs beyond the limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.actions import ActionContext, ActionSpec
from engine.errors import StepTimeoutError
from engine.events import EventKind
from engine.records import AttemptRecord
from engine.retry import backoff_delay, is_retryable, jitter_rng, retry_after
from engine.status import StepStatus

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.run_state import RunState


async def compensate_step(engine: Engine, run: RunState, index: int) -> bool:
    """Run step ``index``'s compensation, record how it went; True if it succeeded."""
    step = run.compiled.steps[index]
    state = run.state(index)
    clock = run.clock
    started = clock()
    try:
        planned = _plan(engine, run, index)
    except Exception as exc:
        name = step.compensation.name if step.compensation is not None else "undo"
        engine.emit_step(run, EventKind.COMPENSATION_STARTED, state)
        record: dict[str, Any] = {
            "action": name,
            "started_at": started,
            "status": str(StepStatus.FAILED),
            "error": f"{type(exc).__name__}: {exc}",
            "attempts": 0,
            "finished_at": clock(),
        }
        return _finish(engine, run, state, record)
    if planned is None:
        return True
    action, params = planned
    engine.emit_step(run, EventKind.COMPENSATION_STARTED, state)
    record = {"action": action.name, "started_at": started}
    policy = step.retry
    timeout = step.spec.timeout
    attempts: list[AttemptRecord] = []
    attempt = 0
    while True:
        attempt += 1
        begun = clock()
        context_ = ActionContext(
            run.execution_id, state.step_id, attempt, run.inputs, engine.seed, run.dry_run, engine
        )
        fn = action.dry_run if run.dry_run and action.dry_run is not None else action.fn
        try:
            async with asyncio.timeout(timeout):
                outputs = await fn(context_, params)
        except TimeoutError:
            error: Exception = StepTimeoutError(
                f"compensation attempt {attempt} exceeded the step timeout of {timeout}s"
            )
        except Exception as exc:
            error = exc
        else:
            attempts.append(AttemptRecord(attempt, begun, clock()))
            record.update(
                status=str(StepStatus.SUCCEEDED),
                outputs=dict(outputs or {}),
                attempts=len(attempts),
                finished_at=clock(),
                error=None,
            )
            return _finish(engine, run, state, record)
        message = f"{type(error).__name__}: {error}"
        if attempt < policy.max_attempts and is_retryable(policy, error, action.retryable):
            rng = (
                jitter_rng(engine.seed, run.execution_id, f"{state.step_id}#undo", attempt)
                if policy.jitter
                else None
            )
            delay = max(backoff_delay(policy, attempt, rng), retry_after(error))
            attempts.append(AttemptRecord(attempt, begun, clock(), message, delay))
            await asyncio.sleep(delay)
            continue
        attempts.append(AttemptRecord(attempt, begun, clock(), message))
        record.update(
            status=str(StepStatus.FAILED),
            error=message,
            attempts=len(attempts),
            finished_at=clock(),
        )
        return _finish(engine, run, state, record)


def _plan(engine: Engine, run: RunState, index: int) -> tuple[ActionSpec, Mapping[str, Any]] | None:
    """The compensation to run for step ``index`` and its parameters, or None.

    The step's declared ``compensation`` comes first; otherwise the action's own
    ``undo``, which derives the call from the step's outputs.
    """
    step = run.compiled.steps[index]
    state = run.state(index)
    if step.compensation is not None and step.compensation_params is not None:
        context = engine.expression_context(run, step, include_self=True)
        params = step.compensation_params.resolve(context)
        return step.compensation, step.compensation.parse_params(params)
    undo = step.action.undo
    if undo is None:
        return None
    planned = undo(dict(state.outputs or {}))
    if planned is None:
        return None
    name, params = planned
    action = engine.actions.get(name)
    if action is None:
        raise LookupError(f"the undo of action '{step.action.name}' names unknown action '{name}'")
    return action, action.parse_params(params)


def _finish(engine: Engine, run: RunState, state: Any, record: dict[str, Any]) -> bool:
    state.compensation = record
    engine.state.save_step(run.execution_id, state.record())
    engine.emit_step(run, EventKind.COMPENSATION_FINISHED, state, {"compensation": record})
    return bool(record["status"] == str(StepStatus.SUCCEEDED))


def compensable(run: RunState) -> list[int]:
    """Succeeded steps with a compensation not yet run, in reverse dependency order."""
    out = []
    for index in reversed(run.compiled.order):
        state = run.steps[index]
        step = run.compiled.steps[index]
        if (
            state is not None
            and state.status is StepStatus.SUCCEEDED
            and (step.compensation is not None or step.action.undo is not None)
            and state.compensation is None
        ):
            out.append(index)
    return out


async def roll_back(engine: Engine, run: RunState) -> str | None:
    """Compensate every compensable step; the id of the first that failed, else None."""
    for state in run.steps:  # a rollback resumed after a crash may have failed already
        if state is None or state.compensation is None:
            continue
        if state.compensation.get("status") != str(StepStatus.SUCCEEDED):
            return state.step_id
    for index in compensable(run):
        if not await compensate_step(engine, run, index):
            return run.compiled.steps[index].id
    return None
