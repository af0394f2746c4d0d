"""Crash recovery: resuming the executions a stopped engine left unfinished.

The guarantee, given stores that committed every transition before the engine acted
on it (the engine's contract with :mod:`engine.storage`):

* every execution that was Pending, Running, Paused or RollingBack is resumed; Paused
  ones stay paused until resumed;
* a step recorded as finished (Succeeded, Failed, Skipped, TimedOut, Cancelled) keeps
  its result and never runs again;
* a step recorded as Running was interrupted mid-action. It runs again only if its
  action is declared idempotent (running it twice is harmless); otherwise it is marked
  Failed with reason "interrupted" and the execution's failure policy applies, because
  nobody can know how far a non-idempotent action got;
* workflow deadlines keep counting from the original start (with ``wall_clock=True``
  timestamps are Unix time, so this holds across processes);
* a rollback that was under way continues with the compensations not yet recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import EngineError
from engine.run_state import RunState, StepState
from engine.status import ExecutionStatus, StepStatus
from engine.template import FailurePolicy

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from engine.engine import Engine

UNFINISHED = frozenset(
    {
        ExecutionStatus.PENDING,
        ExecutionStatus.RUNNING,
        ExecutionStatus.PAUSED,
        ExecutionStatus.ROLLING_BACK,
    }
)
INTERRUPTED = "interrupted"


def rebuild(
    engine: Engine,
    execution_id: str,
    *,
    seq: int,
    loop: asyncio.AbstractEventLoop,
    clock: Callable[[], float],
) -> tuple[RunState, list[int]]:
    """The live state of a persisted execution, and the steps ready to be resolved."""
    persisted = engine.state.load(execution_id)
    if persisted is None:
        raise EngineError(f"execution '{execution_id}' is in the repository but has no state")
    record = persisted.execution
    compiled = engine.template(record.workflow, record.version)
    run = RunState(
        execution_id=execution_id,
        compiled=compiled,
        inputs=dict(record.inputs),
        variables=compiled.vars.resolve({"inputs": record.inputs}),
        priority=record.priority,
        seq=seq,
        created_at=record.created_at,
        done=loop.create_future(),
        loop=loop,
        clock=clock,
        idempotency_key=record.idempotency_key,
        dry_run=record.dry_run,
        replay_of=record.replay_of,
        parent_id=record.parent_id,
    )
    run.started_at = record.started_at if record.started_at is not None else clock()
    run.error = record.error
    run.status = record.status
    run.resume_rollback = record.status is ExecutionStatus.ROLLING_BACK
    now = clock()
    for index, step in enumerate(compiled.steps):
        saved = persisted.steps.get(step.id)
        if saved is None or saved.status is StepStatus.PENDING:
            continue
        state = StepState.from_record(saved)
        if saved.status is StepStatus.RUNNING:
            if step.action.idempotent:
                # Reruns from scratch; the interrupted attempt stays in its history.
                state.status = StepStatus.PENDING
                state.reason = "rerun after the engine stopped mid-step (idempotent action)"
                run.steps[index] = state
                continue
            state.status = StepStatus.FAILED
            state.reason = INTERRUPTED
            state.error = (
                "the engine stopped while this step was running and its action "
                f"'{step.action.name}' is not idempotent, so it is not run again"
            )
            state.finished_at = now
            engine.state.save_step(execution_id, state.record())
        run.steps[index] = state
    states = run.steps
    terminal = [s is not None and s.status.terminal for s in states]
    for index, step in enumerate(compiled.steps):
        run.waiting[index] = sum(not terminal[d] for d in step.deps)
        run.unsucceeded[index] = sum(
            terminal[d] and _status(states, d) is not StepStatus.SUCCEEDED for d in step.deps
        )
        if terminal[index]:
            run.unfinished -= 1
            if _status(states, index).failed and not step.spec.allow_failure:
                run.failures += 1
    if run.failures and compiled.template.failure_policy is FailurePolicy.FAIL_FAST:
        run.stopping = True
        if run.error is None:
            failed = next(s for s in run.steps if s is not None and s.status.failed)
            run.error = f"step '{failed.step_id}' {failed.status}: {failed.error or failed.reason}"
    run.paused = record.status is ExecutionStatus.PAUSED
    if record.status is ExecutionStatus.PENDING:
        run.status = ExecutionStatus.RUNNING
    ready = [i for i in range(len(compiled.steps)) if not terminal[i] and run.waiting[i] == 0]
    return run, ready


def _status(states: list[StepState | None], index: int) -> StepStatus:
    state = states[index]
    return StepStatus.PENDING if state is None else state.status


def missing_templates(engine: Engine) -> list[str]:
    """``name vN`` of unfinished executions' templates that are not registered."""
    missing = set()
    for record in engine.repository.list(status=UNFINISHED):
        try:
            engine.template(record.workflow, record.version)
        except EngineError:
            missing.add(f"{record.workflow} v{record.version}")
    return sorted(missing)
