"""Steps for failure handling: when things happened, how long attempts lasted, why it ended.

Retries, timeouts, breakers and compensations are claims about *time* and *calls*: the
wait before each retry, how long an attempt ran before it was cut off, whether an open
breaker let a call reach the action, when a compensation started. These steps read
those facts back from the engine's records, its event stream and the test actions' own
call log, measured from the execution's start in virtual seconds.

They also add one test action, ``paced``, whose attempts differ from each other (a slow
attempt, then a quick one): what step timeouts need to show "the first attempt timed
out, the retry succeeded". Register it with its Given step (after any step that
configures the engine, which rebuilds the action registry).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from engine import ActionContext, ExecutionState, PermanentError, StepRecord, TransientError
from engine.events import EventKind
from harness.actions import ActionCall
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then
from harness.world import World


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-3)


def _numbers(text: str) -> list[float]:
    return [float(n) for n in text.replace(" and ", ",").split(",") if n.strip()]


def _shown(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


async def _final(world: World) -> ExecutionState:
    return await world.wait_for(world.execution_id())


def _step(state: ExecutionState, step_id: str) -> StepRecord:
    try:
        return state.step(step_id)
    except KeyError as exc:
        raise AssertionError(str(exc).strip('"')) from None


def _since_start(state: ExecutionState, t: float | None, what: str) -> float:
    start = state.execution.started_at
    if t is None or start is None:
        raise AssertionError(f"{what} has no time recorded (execution started at {start})")
    return t - start


# -- the paced test action -----------------------------------------------------------


class PacedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: list[Annotated[float, Field(ge=0, le=604_800)]] = Field(min_length=1)
    """Attempt n waits ``seconds[n-1]`` (the last entry for later attempts)."""
    fail_on: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list)
    """Attempts that fail after their wait (the others succeed)."""
    retryable: bool = True


@given(
    'the test action "paced", whose attempts take the listed seconds',
    example='Given the test action "paced", whose attempts take the listed seconds',
)
def paced_action(world: World) -> None:
    """Register ``paced``: attempt n waits ``seconds[n-1]``, fails if n is in ``fail_on``.

    Failures are retryable unless ``retryable: false``. Calls go to the testbed's action
    log like the other test actions'.
    """
    bed = world.bed()
    registry = bed.engine.actions
    if "paced" in registry:
        return
    log = bed.actions

    async def paced(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        loop = asyncio.get_running_loop()
        call = ActionCall(
            "paced", ctx.execution_id, ctx.step_id, ctx.attempt, loop.time(), None, params
        )
        log.calls.append(call)
        try:
            waits = list(params["seconds"])
            await asyncio.sleep(waits[min(ctx.attempt, len(waits)) - 1])
            if ctx.attempt in params.get("fail_on", ()):
                error = TransientError if params.get("retryable", True) else PermanentError
                raise error(f"paced failure (attempt {ctx.attempt})")
            return {"attempt": ctx.attempt}
        except BaseException as exc:
            call.error = str(exc) or type(exc).__name__
            raise
        finally:
            call.finished_at = loop.time()

    registry.register(
        "paced",
        paced,
        params_model=PacedParams,
        idempotent=True,
        description="Attempt n waits seconds[n-1], then fails if n is in fail_on.",
    )


# -- the execution's outcome ---------------------------------------------------------


@then(
    'the execution failed with an error saying "{text}"',
    example="Then the execution failed with an error saying \"compensation of step 'b' failed\"",
)
@async_step
async def execution_error(world: World, text: str) -> None:
    """The last execution ended with an error (whatever its status) that contains ``text``."""
    state = await _final(world)
    error = state.execution.error
    if error is None or text not in error:
        raise AssertionError(
            f"execution {state.execution.execution_id} ended {state.status} with error "
            f"{error!r}; expected it to say {text!r}"
        )


# -- when steps ran, and for how long ------------------------------------------------


@then(
    'the step "{step_id}" started {seconds:g} virtual seconds into the execution',
    example='Then the step "deploy" started 5 virtual seconds into the execution',
)
@async_step
async def step_started_at(world: World, step_id: str, seconds: float) -> None:
    """When the step's first attempt began, from the execution's start."""
    state = await _final(world)
    rec = _step(state, step_id)
    if rec.started_at is None or not rec.attempts:
        raise AssertionError(f"step {step_id!r} never started: it is {rec.status} ({rec.reason})")
    at = _since_start(state, rec.started_at, f"step {step_id!r}")
    if not _close(at, seconds):
        raise AssertionError(
            f"step {step_id!r} started {at:g} virtual seconds into the execution, not {seconds:g}"
        )


@then(
    'the step "{step_id}" ended {seconds:g} virtual seconds into the execution',
    example='Then the step "deploy" ended 20 virtual seconds into the execution',
)
@async_step
async def step_ended_at(world: World, step_id: str, seconds: float) -> None:
    """When the step reached its terminal status, from the execution's start."""
    state = await _final(world)
    rec = _step(state, step_id)
    at = _since_start(state, rec.finished_at, f"step {step_id!r}")
    if not _close(at, seconds):
        raise AssertionError(
            f"step {step_id!r} ({rec.status}) ended {at:g} virtual seconds into the "
            f"execution, not {seconds:g}"
        )


@then(
    'the attempts of step "{step_id}" lasted {durations} virtual seconds',
    example='Then the attempts of step "probe" lasted 3, 3, 2 virtual seconds',
)
@async_step
async def attempts_lasted(world: World, step_id: str, durations: str) -> None:
    """Each attempt's length in the engine's attempt records, in order."""
    rec = _step(await _final(world), step_id)
    got = [a.finished_at - a.started_at for a in rec.attempts]
    want = _numbers(durations)
    if len(got) != len(want) or not all(_close(g, w) for g, w in zip(got, want, strict=True)):
        errors = [a.error for a in rec.attempts]
        raise AssertionError(
            f"the attempts of step {step_id!r} lasted {_shown(got)} virtual seconds, not "
            f"{_shown(want)} (errors: {errors})"
        )


@then(
    'the action calls of step "{step_id}" lasted {durations} virtual seconds',
    example='Then the action calls of step "probe" lasted 3, 3, 2 virtual seconds',
)
@async_step
async def calls_lasted(world: World, step_id: str, durations: str) -> None:
    """How long each real call of the step's test action ran, from the action's own log.

    A call the engine cut off (a timeout) ends when it was cancelled, not when the
    action would have finished: this is what shows the attempt was really stopped.
    """
    state = await _final(world)
    calls = world.bed().actions.of(step_id, state.execution.execution_id)
    if any(c.finished_at is None for c in calls):
        raise AssertionError(f"a call of step {step_id!r} is still running: {calls}")
    got = [float(c.finished_at) - c.started_at for c in calls if c.finished_at is not None]
    want = _numbers(durations)
    if len(got) != len(want) or not all(_close(g, w) for g, w in zip(got, want, strict=True)):
        raise AssertionError(
            f"the action calls of step {step_id!r} lasted {_shown(got)} virtual seconds, "
            f"not {_shown(want)}"
        )


@then(
    'the action of step "{step_id}" was called on attempts {numbers}',
    example='Then the action of step "call" was called on attempts 1, 2, 3, 5',
)
@async_step
async def called_on_attempts(world: World, step_id: str, numbers: str) -> None:
    """Which of the step's attempts really reached its test action (across executions)."""
    await _final(world)
    got = [c.attempt for c in world.bed().actions.of(step_id)]
    want = [int(n) for n in _numbers(numbers)]
    if got != want:
        raise AssertionError(
            f"the action of step {step_id!r} was called on attempts {got}, not {want}"
        )


# -- retries -------------------------------------------------------------------------


@then(
    'the step "{step_id}" waited {delays} seconds, each within {percent:g}% jitter, '
    "between its attempts",
    example='Then the step "call" waited 10, 20, 40 seconds, each within 20% jitter, '
    "between its attempts",
)
@async_step
async def waited_with_jitter(world: World, step_id: str, delays: str, percent: float) -> None:
    """Each wait is within ``percent`` of its nominal delay, and the jitter is really there.

    Checks, between consecutive attempts: the measured gap equals the delay the engine
    recorded; the gap is within the band around the nominal delay; and not every gap is
    exactly nominal (a seeded jitter that was never applied would be).
    """
    rec = _step(await _final(world), step_id)
    want = _numbers(delays)
    pairs = list(zip(rec.attempts, rec.attempts[1:], strict=False))
    got = [b.started_at - a.finished_at for a, b in pairs]
    if len(got) != len(want):
        raise AssertionError(
            f"step {step_id!r} made {len(rec.attempts)} attempts, with waits {_shown(got)}; "
            f"expected {len(want)} waits around {_shown(want)}"
        )
    problems = []
    for n, ((a, _), gap, nominal) in enumerate(zip(pairs, got, want, strict=True), start=1):
        if a.retry_delay is None or not _close(a.retry_delay, gap):
            problems.append(f"wait {n}: {gap:g}s measured, {a.retry_delay}s recorded")
        low, high = nominal * (1 - percent / 100), nominal * (1 + percent / 100)
        if not low - 1e-6 <= gap <= high + 1e-6:
            problems.append(f"wait {n}: {gap:g}s is outside [{low:g}, {high:g}]")
    if all(_close(g, w) for g, w in zip(got, want, strict=True)):
        problems.append(f"every wait is exactly nominal ({_shown(got)}): no jitter was applied")
    if problems:
        raise AssertionError(
            f"step {step_id!r} waited {_shown(got)} seconds between attempts:\n"
            + "\n".join(problems)
        )


# -- compensation --------------------------------------------------------------------


@then(
    'the compensation of step "{step_id}" started {seconds:g} virtual seconds into the execution',
    example='Then the compensation of step "scale" started 5 virtual seconds into the execution',
)
@async_step
async def compensation_started_at(world: World, step_id: str, seconds: float) -> None:
    """When the step's compensation began, from the execution's start."""
    state = await _final(world)
    comp = _step(state, step_id).compensation
    if not comp or comp.get("started_at") is None:
        raise AssertionError(f"the compensation of step {step_id!r} never ran")
    at = _since_start(state, float(comp["started_at"]), f"the compensation of {step_id!r}")
    if not _close(at, seconds):
        raise AssertionError(
            f"the compensation of step {step_id!r} started {at:g} virtual seconds into the "
            f"execution, not {seconds:g}"
        )


@then(
    'the compensation of step "{step_id}" is {status:w}',
    example='Then the compensation of step "b" is Failed',
)
@async_step
async def compensation_status(world: World, step_id: str, status: str) -> None:
    """How the step's compensation ended (Succeeded or Failed)."""
    comp = _step(await _final(world), step_id).compensation
    if not comp:
        raise AssertionError(f"the compensation of step {step_id!r} never ran")
    if comp.get("status") != status:
        raise AssertionError(
            f"the compensation of step {step_id!r} is {comp.get('status')} "
            f"(error: {comp.get('error')}), not {status}"
        )


# -- post-conditions -----------------------------------------------------------------


@then(
    'the step "{step_id}" has the warning "{text}"',
    example='Then the step "scale" has the warning "post-condition failed: too few ready"',
)
@async_step
async def step_warning(world: World, step_id: str, text: str) -> None:
    """One of the step's warnings (non-critical post-conditions that failed) says ``text``."""
    rec = _step(await _final(world), step_id)
    if not any(text in w for w in rec.warnings):
        raise AssertionError(
            f"step {step_id!r} has the warnings {list(rec.warnings)}, not {text!r}"
        )


@then(
    'the step "{step_id}" has no warnings',
    example='Then the step "scale" has no warnings',
)
@async_step
async def no_warnings(world: World, step_id: str) -> None:
    """The step recorded no warning."""
    rec = _step(await _final(world), step_id)
    if rec.warnings:
        raise AssertionError(f"step {step_id!r} has the warnings {list(rec.warnings)}")


# -- circuit breakers ----------------------------------------------------------------


@then(
    'the breaker of "{key}" went {states}',
    example='Then the breaker of "flaky" went open, half_open, closed',
)
def breaker_went(world: World, key: str, states: str) -> None:
    """The breaker's state changes so far, from the engine's events, in order."""
    got = [
        str(e.data.get("state"))
        for e in world.bed().events
        if e.kind is EventKind.BREAKER_STATE_CHANGED and e.data.get("key") == key
    ]
    want = [s.strip() for s in states.split(",") if s.strip()]
    if got != want:
        raise AssertionError(f"the breaker of {key!r} went {got}, not {want}")


@then(
    'the breaker of "{key}" reads {state:w}',
    example='Then the breaker of "flaky" reads open',
)
@async_step
async def breaker_reads(world: World, key: str, state: str) -> None:
    """A breaker's state now (closed, open or half_open), read on the scenario's loop.

    The breaker reads the loop's clock to move from open to half-open, so it must be
    read while the loop runs; a breaker never used is closed.
    """
    registry = world.bed().engine.breakers
    if registry is None:
        raise AssertionError("the engine has no circuit breakers (add the breakers step)")
    found, detail = "closed", " (never used)"
    if key in registry:
        snap = registry.get(key).snapshot()
        found = str(snap.state)
        detail = (
            f" ({snap.consecutive_failures} consecutive failures, probe in {snap.retry_after:g}s)"
        )
    if found != state:
        raise AssertionError(f"the breaker of {key!r} is {found}{detail}, not {state}")
