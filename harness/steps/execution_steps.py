"""Steps that check what the engine did: statuses, attempts, timing, order, data, events.

Every check reads the engine's own records (or the test actions' call log) and states,
on failure, what it found: a scenario's failure message is its evidence. "Waits" are
bounded in virtual time; a Then that needs a terminal execution waits for it first.
"""

from __future__ import annotations

import itertools
import json
import math

import yaml

from engine import ExecutionState, StepRecord
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import then
from harness.world import World

TOLERANCE = 1e-6


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-3)


async def _final(world: World, label: str | None = None) -> ExecutionState:
    return await world.wait_for(world.execution_id(label))


def _now(world: World, label: str | None = None) -> ExecutionState:
    return world.bed().engine.get(world.execution_id(label))


def _step(state: ExecutionState, step_id: str) -> StepRecord:
    try:
        return state.step(step_id)
    except KeyError as exc:
        raise AssertionError(str(exc).strip('"')) from None


def _describe(state: ExecutionState) -> str:
    return ", ".join(f"{sid}={rec.status}" for sid, rec in state.steps.items())


# -- execution status ----------------------------------------------------------------


@then("the execution succeeds", example="Then the execution succeeds")
@async_step
async def execution_succeeds(world: World) -> None:
    """The last execution ends Succeeded (waits for it to end)."""
    state = await _final(world)
    if str(state.status) != "Succeeded":
        raise AssertionError(
            f"execution {state.execution.execution_id} ended {state.status}: "
            f"{state.execution.error}; steps: {_describe(state)}"
        )


@then("the execution ends {status:w}", example="Then the execution ends PartiallySucceeded")
@async_step
async def execution_ends(world: World, status: str) -> None:
    """The last execution ends with that status (waits for it to end)."""
    state = await _final(world)
    if str(state.status) != status:
        raise AssertionError(
            f"execution {state.execution.execution_id} ended {state.status}, not {status}: "
            f"{state.execution.error}; steps: {_describe(state)}"
        )


@then(
    'the execution "{label}" ends {status:w}',
    example='Then the execution "first" ends Succeeded',
)
@async_step
async def labelled_ends(world: World, label: str, status: str) -> None:
    """A labelled execution ends with that status."""
    state = await _final(world, label)
    if str(state.status) != status:
        raise AssertionError(
            f"execution {label!r} ended {state.status}, not {status}: {state.execution.error}"
        )


@then("the execution is {status:w}", example="Then the execution is Paused")
def execution_is(world: World, status: str) -> None:
    """The last execution's status right now (no waiting)."""
    state = _now(world)
    if str(state.status) != status:
        raise AssertionError(f"the execution is {state.status}, not {status}")


@then(
    "all {count:d} executions succeed",
    example="Then all 200 executions succeed",
)
@async_step
async def batch_succeeds(world: World, count: int) -> None:
    """Every execution of the last batch ends Succeeded, and there were ``count``."""
    if len(world.batch) != count:
        raise AssertionError(f"{len(world.batch)} executions were submitted, not {count}")
    failed = []
    for execution_id in world.batch:
        state = await world.wait_for(execution_id)
        if str(state.status) != "Succeeded":
            failed.append(f"{execution_id}: {state.status} ({state.execution.error})")
    if failed:
        raise AssertionError(
            f"{len(failed)} of {count} did not succeed:\n" + "\n".join(failed[:10])
        )


@then("the execution ids are unique", example="Then the execution ids are unique")
def ids_unique(world: World) -> None:
    """No two executions of the last batch share an id (in the engine and in the store)."""
    ids = world.batch
    if len(set(ids)) != len(ids):
        raise AssertionError(f"{len(ids) - len(set(ids))} duplicate execution ids")
    repository = world.bed().repository
    stored = [repository.get(i) for i in ids]
    missing = [i for i, rec in zip(ids, stored, strict=True) if rec is None]
    if missing:
        raise AssertionError(f"{len(missing)} executions are not in the repository: {missing[:5]}")


@then(
    'each execution\'s step "{step_id}" returned its own input "{name}"',
    example='Then each execution\'s step "echo" returned its own input "token"',
)
def no_cross_talk(world: World, step_id: str, name: str) -> None:
    """For every execution of the batch, the step's output ``name`` equals its input.

    Read back from the state store, so executions that shared state would show.
    """
    bad = []
    store = world.bed().state
    for execution_id in world.batch:
        state = store.load(execution_id)
        if state is None:
            bad.append(f"{execution_id}: not stored")
            continue
        expected = state.execution.inputs.get(name)
        outputs = _step(state, step_id).outputs or {}
        if outputs.get(name) != expected or expected is None:
            bad.append(f"{execution_id}: input {expected!r}, output {outputs.get(name)!r}")
    if bad:
        raise AssertionError(f"{len(bad)} executions read another's data:\n" + "\n".join(bad[:10]))


# -- step status, attempts, errors ---------------------------------------------------


@then('the step "{step_id}" is {status:w}', example='Then the step "restart" is Skipped')
@async_step
async def step_is(world: World, step_id: str, status: str) -> None:
    """A step of the last execution has that status once the execution ends."""
    state = await _final(world)
    rec = _step(state, step_id)
    if str(rec.status) != status:
        raise AssertionError(
            f"step {step_id!r} is {rec.status}, not {status} (error: {rec.error}, "
            f"reason: {rec.reason}); steps: {_describe(state)}"
        )


@then("the steps end as follows:", example="Then the steps end as follows:\n  | step | status |")
@async_step
async def steps_table(world: World, datatable: list[list[str]]) -> None:
    """Every listed step (``step``, ``status``, optional ``attempts``) ended so."""
    state = await _final(world)
    header, *rows = datatable
    wrong = []
    for row in rows:
        want = dict(zip(header, row, strict=True))
        rec = _step(state, want["step"])
        if str(rec.status) != want["status"]:
            wrong.append(f"{want['step']}: {rec.status}, expected {want['status']}")
        if "attempts" in want and len(rec.attempts) != int(want["attempts"]):
            wrong.append(
                f"{want['step']}: {len(rec.attempts)} attempts, expected {want['attempts']}"
            )
    if wrong:
        raise AssertionError("steps did not end as expected:\n" + "\n".join(wrong))


@then(
    'the step "{step_id}" made {count:d} attempts',
    example='Then the step "restart" made 3 attempts',
)
@then(
    'the step "{step_id}" made {count:d} attempt',
    example='Then the step "restart" made 1 attempt',
)
@async_step
async def attempts(world: World, step_id: str, count: int) -> None:
    """How many times the step was tried, from the engine's attempt records."""
    rec = _step(await _final(world), step_id)
    if len(rec.attempts) != count:
        errors = [a.error for a in rec.attempts]
        raise AssertionError(f"step {step_id!r} made {len(rec.attempts)} attempts: {errors}")


@then(
    'the step "{step_id}" waited {delays} seconds between its attempts',
    example='Then the step "restart" waited 10, 20, 40 seconds between its attempts',
)
@async_step
async def waited_between(world: World, step_id: str, delays: str) -> None:
    """The virtual time from each failed attempt's end to the next one's start."""
    want = [float(d) for d in delays.replace(" and ", ",").split(",") if d.strip()]
    rec = _step(await _final(world), step_id)
    got = [
        round(b.started_at - a.finished_at, 6)
        for a, b in zip(rec.attempts, rec.attempts[1:], strict=False)
    ]
    if len(got) != len(want) or not all(_close(g, w) for g, w in zip(got, want, strict=True)):
        raise AssertionError(f"step {step_id!r} waited {got} seconds between attempts, not {want}")


@then(
    'the step "{step_id}" failed with an error saying "{text}"',
    example='Then the step "grow" failed with an error saying "not enough room"',
)
@async_step
async def failed_saying(world: World, step_id: str, text: str) -> None:
    """The step's final error contains ``text``."""
    rec = _step(await _final(world), step_id)
    if rec.error is None or text not in rec.error:
        raise AssertionError(
            f"step {step_id!r} error is {rec.error!r}; expected it to say {text!r}"
        )


@then(
    'the step "{step_id}" took {seconds:g} virtual seconds',
    example='Then the step "wait" took 30 virtual seconds',
)
@async_step
async def step_took(world: World, step_id: str, seconds: float) -> None:
    """From the step's start to its end, in virtual seconds."""
    rec = _step(await _final(world), step_id)
    if rec.started_at is None or rec.finished_at is None:
        raise AssertionError(f"step {step_id!r} never ran ({rec.status})")
    took = rec.finished_at - rec.started_at
    if not _close(took, seconds):
        raise AssertionError(f"step {step_id!r} took {took:g} virtual seconds, not {seconds:g}")


@then(
    "the execution took {seconds:g} virtual seconds",
    example="Then the execution took 30 virtual seconds",
)
@async_step
async def execution_took(world: World, seconds: float) -> None:
    """From the execution's start to its end, in virtual seconds."""
    ex = (await _final(world)).execution
    assert ex.started_at is not None
    assert ex.finished_at is not None
    took = ex.finished_at - ex.started_at
    if not _close(took, seconds):
        raise AssertionError(f"the execution took {took:g} virtual seconds, not {seconds:g}")


# -- order and parallelism -----------------------------------------------------------


@then(
    'the step "{step_id}" started after "{other}" finished',
    example='Then the step "deploy" started after "build" finished',
)
@async_step
async def started_after(world: World, step_id: str, other: str) -> None:
    """A step's first attempt began no earlier than the other step's end."""
    state = await _final(world)
    a, b = _step(state, step_id), _step(state, other)
    if a.started_at is None or b.finished_at is None:
        raise AssertionError(
            f"{step_id!r} started {a.started_at}, {other!r} finished {b.finished_at}"
        )
    if a.started_at < b.finished_at - TOLERANCE:
        raise AssertionError(
            f"step {step_id!r} started at {a.started_at:g}, before {other!r} finished at "
            f"{b.finished_at:g}"
        )


@then(
    "the steps started in the order {order}",
    example="Then the steps started in the order build, test, deploy",
)
@async_step
async def started_in_order(world: World, order: str) -> None:
    """The listed steps' start times are strictly increasing, in that order."""
    state = await _final(world)
    names = [n.strip() for n in order.split(",")]
    starts = [(n, _step(state, n).started_at) for n in names]
    if any(t is None for _, t in starts):
        raise AssertionError(f"not every step started: {starts}")
    times = [float(t) for _, t in starts if t is not None]
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise AssertionError(f"steps did not start in the order {names}: {starts}")


@then(
    'the steps "{first}" and "{second}" ran at the same time',
    example='Then the steps "left" and "right" ran at the same time',
)
@async_step
async def ran_in_parallel(world: World, first: str, second: str) -> None:
    """The two steps' run intervals overlap in virtual time."""
    state = await _final(world)
    a, b = _step(state, first), _step(state, second)
    if None in (a.started_at, a.finished_at, b.started_at, b.finished_at):
        raise AssertionError(f"{first!r} or {second!r} did not run")
    assert a.started_at is not None
    assert a.finished_at is not None
    assert b.started_at is not None
    assert b.finished_at is not None
    if not (a.started_at < b.finished_at and b.started_at < a.finished_at):
        raise AssertionError(
            f"{first!r} ran {a.started_at:g}-{a.finished_at:g}, {second!r} ran "
            f"{b.started_at:g}-{b.finished_at:g}: they did not overlap"
        )


@then(
    'the execution "{first}" started its steps before "{second}"',
    example='Then the execution "urgent" started its steps before "routine"',
)
@async_step
async def execution_started_before(world: World, first: str, second: str) -> None:
    """Every step of one execution started before any step of the other."""
    a, b = await _final(world, first), await _final(world, second)
    a_last = max((r.started_at for r in a.steps.values() if r.started_at is not None), default=None)
    b_first = min(
        (r.started_at for r in b.steps.values() if r.started_at is not None), default=None
    )
    if a_last is None or b_first is None or a_last > b_first:
        raise AssertionError(
            f"{first!r}'s steps started until {a_last}, {second!r}'s from {b_first}"
        )


# -- data ----------------------------------------------------------------------------


@then(
    'the step "{step_id}" output "{key}" is {value}',
    example='Then the step "greet" output "message" is "hello world"',
)
@async_step
async def output_is(world: World, step_id: str, key: str, value: str) -> None:
    """One output of a step, compared as YAML/JSON (so 3 is a number, "3" a string)."""
    rec = _step(await _final(world), step_id)
    expected = yaml.safe_load(value)
    outputs = dict(rec.outputs or {})
    if key not in outputs or outputs[key] != expected:
        raise AssertionError(
            f"step {step_id!r} output {key!r} is {outputs.get(key, '<missing>')!r}, "
            f"expected {expected!r} (outputs: {json.dumps(outputs, default=str)})"
        )


# -- compensation --------------------------------------------------------------------


@then(
    "the compensations ran in the order {order}",
    example="Then the compensations ran in the order deploy, build",
)
@async_step
async def compensation_order(world: World, order: str) -> None:
    """The steps whose compensation ran, ordered by when it started, are exactly these."""
    state = await _final(world)
    ran = sorted(
        (
            (float(rec.compensation.get("started_at") or 0.0), sid)
            for sid, rec in state.steps.items()
            if rec.compensation and rec.compensation.get("started_at") is not None
        ),
    )
    got = [sid for _, sid in ran]
    want = [n.strip() for n in order.split(",") if n.strip()]
    if got != want:
        raise AssertionError(f"compensations ran in the order {got}, expected {want}")


@then("no compensation ran", example="Then no compensation ran")
@async_step
async def no_compensation(world: World) -> None:
    """No step of the last execution was compensated."""
    state = await _final(world)
    ran = [sid for sid, rec in state.steps.items() if rec.compensation]
    if ran:
        raise AssertionError(f"compensations ran for {ran}")


# -- the test actions' own log -------------------------------------------------------


@then(
    'the action of step "{step_id}" ran {count:d} times',
    example='Then the action of step "deploy" ran 1 times',
)
def action_ran(world: World, step_id: str, count: int) -> None:
    """How often the test action behind a step was really called (across engine restarts)."""
    calls = world.bed().actions.of(step_id)
    if len(calls) != count:
        raise AssertionError(
            f"the action of step {step_id!r} ran {len(calls)} times: "
            f"{[(c.execution_id, c.attempt, c.started_at) for c in calls]}"
        )
