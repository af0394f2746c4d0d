"""Steps that check what the engine recorded: stores, history, events, metrics, queues.

These read the engine's outside faces (its stores, its event stream as the testbed
recorded it, its Prometheus registry, its dead-letter queue, its breakers), the ones an
operator would read, rather than its internals.
"""

from __future__ import annotations

from engine import BreakerPolicy, BreakerRegistry, ExecutionStatus
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then
from harness.world import World


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


# -- engine configuration ------------------------------------------------------------


@given(
    "the engine runs at most {limit:d} steps at once",
    example="Given the engine runs at most 4 steps at once",
)
@async_step
async def engine_limit(world: World, limit: int) -> None:
    """An engine-wide concurrency limit (replaces the profile's), before work starts."""
    await world.bed().configure_engine(max_concurrency=limit)


@given(
    "circuit breakers that open after {failures:d} failures and cool down for {seconds:g} seconds",
    example="Given circuit breakers that open after 3 failures and cool down for 30 seconds",
)
@async_step
async def breakers(world: World, failures: int, seconds: float) -> None:
    """A breaker per action target, tripping on consecutive failures."""
    policy = BreakerPolicy(failure_threshold=failures, cool_down=seconds)
    await world.bed().configure_engine(breakers=BreakerRegistry(policy))


# -- stores and history --------------------------------------------------------------


@then(
    'the store recorded the step "{step_id}" as {statuses}',
    example='Then the store recorded the step "deploy" as Pending, Running, Succeeded',
)
@async_step
async def store_recorded(world: World, step_id: str, statuses: str) -> None:
    """The statuses written to the state store for the step, in order (repeats merged)."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    got = world.bed().journal.statuses(execution_id, step_id)
    if got != _names(statuses):
        raise AssertionError(f"the store recorded {step_id!r} as {got}, not {_names(statuses)}")


@then(
    "the store recorded the execution as {statuses}",
    example="Then the store recorded the execution as Pending, Running, Succeeded",
)
@async_step
async def store_recorded_execution(world: World, statuses: str) -> None:
    """The execution statuses written to the state store, in order (repeats merged)."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    got = world.bed().journal.statuses(execution_id)
    if got != _names(statuses):
        raise AssertionError(f"the store recorded the execution as {got}, not {_names(statuses)}")


@then(
    "the stored execution matches what the engine reports",
    example="Then the stored execution matches what the engine reports",
)
@async_step
async def stored_matches(world: World) -> None:
    """What the state store loads equals the engine's view, step by step."""
    execution_id = world.execution_id()
    state = await world.wait_for(execution_id)
    stored = world.bed().state.load(execution_id)
    if stored is None:
        raise AssertionError(f"execution {execution_id} is not in the state store")
    if dict(stored.steps) != dict(state.steps) or stored.execution != state.execution:
        raise AssertionError(f"the store holds {stored}, the engine reports {state}")


@then(
    'the history lists {count:d} {status:w} executions of "{workflow}"',
    example='Then the history lists 3 Succeeded executions of "deploy"',
)
@async_step
async def history_lists(world: World, count: int, status: str, workflow: str) -> None:
    """The execution repository's query by workflow and status."""
    bed = world.bed()
    for execution_id in list(bed.executions):
        await world.wait_for(execution_id)
    try:
        wanted = ExecutionStatus(status)
    except ValueError:
        known = ", ".join(str(s) for s in ExecutionStatus)
        raise AssertionError(f"{status!r} is no execution status; use one of {known}") from None
    found = bed.repository.list(workflow=workflow, status=wanted)
    if len(found) != count:
        raise AssertionError(
            f"the history lists {len(found)} {status} executions of {workflow!r}: "
            f"{[r.execution_id for r in found]}"
        )


@then(
    'the executions "{first}" and "{second}" are the same execution',
    example='Then the executions "first" and "again" are the same execution',
)
def same_execution(world: World, first: str, second: str) -> None:
    """Two submissions returned one id."""
    a, b = world.execution_id(first), world.execution_id(second)
    if a != b:
        raise AssertionError(f"{first!r} is {a} but {second!r} is {b}")


@then(
    "the engine ran {count:d} execution",
    example="Then the engine ran 1 execution",
)
@then(
    "the engine ran {count:d} executions",
    example="Then the engine ran 2 executions",
)
def engine_ran(world: World, count: int) -> None:
    """How many distinct executions the engine started in this scenario."""
    ran = world.bed().executions
    if len(ran) != count:
        raise AssertionError(f"the engine ran {len(ran)} executions: {ran}")


@then(
    "the engine recovered the execution",
    example="Then the engine recovered the execution",
)
def recovered(world: World) -> None:
    """The last crash-and-restart resumed the last execution."""
    ids = world.memory.get("recovered")
    if ids is None:
        raise AssertionError("the engine was not restarted in this scenario")
    if world.execution_id() not in ids:
        raise AssertionError(f"the restarted engine recovered {ids}, not {world.execution_id()}")


# -- dead letters --------------------------------------------------------------------


@then(
    'the execution is dead-lettered at step "{step_id}"',
    example='Then the execution is dead-lettered at step "deploy"',
)
@async_step
async def dead_lettered(world: World, step_id: str) -> None:
    """The last execution is in the dead-letter queue, naming the step that failed."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    letter = world.bed().engine.dead_letters.get(execution_id)
    if letter is None:
        raise AssertionError(f"execution {execution_id} is not in the dead-letter queue")
    if letter.step_id != step_id:
        raise AssertionError(f"the dead letter names step {letter.step_id!r}, not {step_id!r}")


@then("the dead-letter queue is empty", example="Then the dead-letter queue is empty")
@async_step
async def no_dead_letters(world: World) -> None:
    """No execution waits in the dead-letter queue (replayed ones do not count)."""
    bed = world.bed()
    for execution_id in list(bed.executions):
        await world.wait_for(execution_id)
    letters = bed.engine.dead_letters.list()
    if letters:
        raise AssertionError(f"dead letters: {[(d.execution_id, d.step_id) for d in letters]}")


@then(
    "replaying the original execution again is refused",
    example="Then replaying the original execution again is refused",
)
@async_step
async def replay_refused(world: World) -> None:
    """A dead letter is replayed once; a second replay is an error."""
    original = world.execution_id("original")
    try:
        again = await world.bed().engine.replay(original)
    except Exception:
        return
    raise AssertionError(f"a second replay of {original} started {again}")


# -- events and metrics --------------------------------------------------------------


@then(
    "the execution emitted {kinds}",
    example="Then the execution emitted execution_submitted, execution_started, execution_finished",
)
@async_step
async def execution_events(world: World, kinds: str) -> None:
    """The execution-level events of the last execution, in order, are exactly these."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    got = [
        str(e.kind)
        for e in world.bed().events
        if e.execution_id == execution_id
        and e.step_id is None
        and str(e.kind).startswith("execution")
    ]
    if got != _names(kinds):
        raise AssertionError(f"the execution emitted {got}, not {_names(kinds)}")


@then(
    'the step "{step_id}" emitted {kinds}',
    example='Then the step "deploy" emitted step_started, step_retrying, step_finished',
)
@async_step
async def step_events(world: World, step_id: str, kinds: str) -> None:
    """The events of one step of the last execution, in order, are exactly these."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    got = [
        str(e.kind)
        for e in world.bed().events
        if e.execution_id == execution_id and e.step_id == step_id
    ]
    if got != _names(kinds):
        raise AssertionError(f"step {step_id!r} emitted {got}, not {_names(kinds)}")


@then(
    'the metric "{name}" with {labels} is {value:g}',
    example='Then the metric "workflow_engine_steps_total" with workflow=a,status=Succeeded is 3',
)
@async_step
async def metric_is(world: World, name: str, labels: str, value: float) -> None:
    """A sample of the engine's Prometheus registry, after every execution ended."""
    bed = world.bed()
    for execution_id in list(bed.executions):
        await world.wait_for(execution_id)
    wanted = dict(pair.split("=", 1) for pair in labels.split(",") if pair.strip())
    got = bed.metrics.registry.get_sample_value(name, wanted)
    if got is None or abs(got - value) > 1e-9:
        raise AssertionError(f"metric {name}{wanted} is {got}, not {value:g}")
