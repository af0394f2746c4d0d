"""Steps about the flow of work: timelines, dependencies, slots, priorities, versions, subflows.

The ordering, control-flow and scheduling features assert *when* things ran, not only
that they ended well: a timeline of every step relative to its execution's start, the
order in which the engine handed out slots across executions, the peak of steps that
held a slot at once (a step holds its slot from start to finish, backoff waits
included), which template version each execution ran and recorded, and what a subflow
step's child execution did. Every check reads the engine's records (or the test
actions' own call log) and says what it found when it fails.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import pytest
import yaml

from engine import EngineError, ExecutionState, StepRecord, TemplateError
from engine.loader import parse_document, template_from_data
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then, when
from harness.steps.context import docstring_origin
from harness.world import DEFAULT_WAIT, World

TOLERANCE = 1e-6


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-3)


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _step(state: ExecutionState, step_id: str) -> StepRecord:
    try:
        return state.step(step_id)
    except KeyError:
        raise AssertionError(
            f"execution {state.execution.execution_id} has no step {step_id!r} "
            f"(its steps: {', '.join(state.steps)})"
        ) from None


async def _all_final(world: World) -> list[ExecutionState]:
    bed = world.bed()
    return [await world.wait_for(i) for i in list(bed.executions)]


def _label_of(world: World, execution_id: str) -> str:
    for label, known in world.executions.items():
        if known == execution_id:
            return label
    return execution_id


# -- generated shapes ----------------------------------------------------------------


@given(
    'a workflow "{name}" that fans out to {count:d} steps and joins them',
    example='Given a workflow "wide" that fans out to 5 steps and joins them',
)
def fan_out_workflow(world: World, name: str, count: int) -> None:
    """``start`` (1 s), then ``b01..bNN`` in parallel, then ``join`` (1 s) after all of them.

    Branch ``bK`` takes K seconds and outputs ``branch: K``, so the branches end one by
    one and the join must wait for the last; ``join`` outputs ``total``, the sum of every
    branch's output read through templates, so a join that missed a branch shows.
    The whole run takes N + 2 seconds. No retries; the step timeout is set above N.
    """
    branches = [f"b{i:02d}" for i in range(1, count + 1)]
    total = " + ".join(f"steps.{b}.outputs.branch" for b in branches)
    timeout = max(60.0, count * 2.0)
    steps: list[dict[str, Any]] = [
        {"id": "start", "action": "work", "params": {"seconds": 1}, "timeout": timeout}
    ]
    for i, branch in enumerate(branches, start=1):
        steps.append(
            {
                "id": branch,
                "action": "work",
                "depends_on": ["start"],
                "params": {"seconds": i, "outputs": {"branch": i}},
                "timeout": timeout,
            }
        )
    steps.append(
        {
            "id": "join",
            "action": "work",
            "depends_on": branches,
            "params": {"seconds": 1, "outputs": {"total": f"${{{{ {total} }}}}"}},
            "timeout": timeout,
        }
    )
    data = {"name": name, "retry": {"max_attempts": 1}, "steps": steps}
    template = template_from_data(data, source=f"generated workflow {name!r}")
    compiled = world.bed().template(template)
    world.templates[compiled.name] = compiled


# -- registering and submitting by name ------------------------------------------------


@when("I register the workflow:", example='When I register the workflow:\n  """\n  name: x\n  """')
def register_now(world: World, request: pytest.FixtureRequest, docstring: str) -> None:
    """Register a template (for example a new version) while executions run; must succeed."""
    source, before = docstring_origin(request)
    try:
        data, lines = parse_document("\n" * before + docstring, source=source)
        template = template_from_data(data, source=source, locate=lines)
        compiled = world.bed().template(template, source=source, locate=lines)
    except (TemplateError, EngineError) as exc:
        raise AssertionError(f"the workflow was rejected: {exc}") from None
    world.templates[compiled.name] = compiled


@when(
    'I submit the latest "{name}" as "{label}"',
    example='When I submit the latest "restart" as "new"',
)
@async_step
async def submit_latest(world: World, name: str, label: str) -> None:
    """Submit by name only: the engine picks the latest registered version."""
    execution_id = await world.bed().engine.submit(name)
    world.remember(execution_id, label)


@when(
    'I submit version {version:d} of "{name}" as "{label}"',
    example='When I submit version 1 of "restart" as "pinned"',
)
@async_step
async def submit_version(world: World, version: int, name: str, label: str) -> None:
    """Submit a named template pinned to one registered version."""
    execution_id = await world.bed().engine.submit(name, version=version)
    world.remember(execution_id, label)


# -- timelines and dependencies --------------------------------------------------------


def _relative(state: ExecutionState, t: float | None) -> float | None:
    started = state.execution.started_at
    if t is None or started is None:
        return None
    return round(t - started, 6)


@then(
    "the steps ran on this timeline:",
    example="Then the steps ran on this timeline:\n  | step | starts | ends |",
)
@async_step
async def timeline(world: World, datatable: list[list[str]]) -> None:
    """Every step of the last execution, with its start and end in virtual seconds from
    the execution's start (and optionally its ``status``); ``-`` leaves a cell unchecked.

    The table must list every step of the execution, so it is the whole timeline.
    """
    state = await world.wait_for(world.execution_id())
    header, *rows = datatable
    if "step" not in header or not set(header) <= {"step", "starts", "ends", "status"}:
        raise AssertionError(f"timeline columns are step, starts, ends, status; got {header}")
    listed = [dict(zip(header, row, strict=True))["step"] for row in rows]
    missing = [sid for sid in state.steps if sid not in listed]
    if missing:
        raise AssertionError(f"the timeline does not list the steps {missing}")
    wrong: list[str] = []
    actual: list[str] = []
    for sid, rec in state.steps.items():
        actual.append(
            f"  {sid}: {_relative(state, rec.started_at)} -> "
            f"{_relative(state, rec.finished_at)} {rec.status}"
        )
    for row in rows:
        want = dict(zip(header, row, strict=True))
        rec = _step(state, want["step"])
        for column, value in (("starts", rec.started_at), ("ends", rec.finished_at)):
            cell = want.get(column, "-").strip()
            if cell == "-":
                continue
            got = _relative(state, value)
            if got is None or not _close(got, float(cell)):
                wrong.append(f"{want['step']} {column} at {got}, expected {cell}")
        if want.get("status", "-").strip() not in ("-", str(rec.status)):
            wrong.append(f"{want['step']} is {rec.status}, expected {want['status']}")
    if wrong:
        raise AssertionError(
            "the steps did not run on that timeline:\n  "
            + "\n  ".join(wrong)
            + "\nthe timeline was:\n"
            + "\n".join(actual)
        )


@then(
    "every step started only after all its dependencies finished",
    example="Then every step started only after all its dependencies finished",
)
@async_step
async def topological(world: World) -> None:
    """For every edge of the execution's template version, the dependency's end is no
    later than the dependent's start; and every step ran."""
    state = await world.wait_for(world.execution_id())
    ex = state.execution
    compiled = world.bed().engine.template(ex.workflow, ex.version)
    bad: list[str] = []
    for spec in compiled.template.steps:
        rec = _step(state, spec.id)
        if rec.started_at is None or str(rec.status) != "Succeeded":
            bad.append(f"{spec.id} did not run ({rec.status})")
            continue
        for dep in spec.depends_on:
            finished = _step(state, dep).finished_at
            if finished is None or rec.started_at < finished - TOLERANCE:
                bad.append(
                    f"{spec.id} started at {_relative(state, rec.started_at)}, before its "
                    f"dependency {dep} finished at {_relative(state, finished)}"
                )
    if bad:
        raise AssertionError("the dependencies were not respected:\n  " + "\n  ".join(bad))


# -- slots: concurrency and priority ---------------------------------------------------


def _spans(states: Iterable[ExecutionState]) -> list[tuple[float, float]]:
    """(start, end) of every step that held a slot: from dispatch to its end, backoffs
    included. Steps settled without starting (skipped) take no time and hold none."""
    spans = []
    for state in states:
        for rec in state.steps.values():
            if rec.started_at is None or rec.finished_at is None or not rec.attempts:
                continue
            if rec.finished_at - rec.started_at > TOLERANCE:
                spans.append((rec.started_at, rec.finished_at))
    return spans


def _peak(spans: Iterable[tuple[float, float]]) -> int:
    edges = sorted(
        itertools.chain.from_iterable(((s, 1), (e - TOLERANCE, -1)) for s, e in spans)
    )  # an end sorts before a start at the same instant
    peak = current = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


def _check_peak(what: str, peak: int, limit: int, expected: int) -> None:
    if peak > limit:
        raise AssertionError(f"{what}: {peak} steps held a slot at once; the limit is {limit}")
    if peak != expected:
        raise AssertionError(f"{what}: at the peak {peak} steps held a slot, expected {expected}")


@then(
    "at most {limit:d} steps were running at once across all executions, "
    "and {peak:d} were at the peak",
    example="Then at most 3 steps were running at once across all executions, "
    "and 3 were at the peak",
)
@async_step
async def engine_peak(world: World, limit: int, peak: int) -> None:
    """The engine-wide peak of steps holding a slot (backoff waits included), over every
    execution of the scenario; the test actions' own call log must agree."""
    states = await _all_final(world)
    _check_peak("across all executions", _peak(_spans(states)), limit, peak)
    calls = world.bed().actions.calls
    by_actions = _peak((c.started_at, c.finished_at) for c in calls if c.finished_at is not None)
    if by_actions > limit:
        raise AssertionError(f"the actions' log shows {by_actions} calls running at once")


@then(
    "each execution ran at most {limit:d} steps at once, and {peak:d} at its peak",
    example="Then each execution ran at most 2 steps at once, and 2 at its peak",
)
@async_step
async def execution_peak(world: World, limit: int, peak: int) -> None:
    """Per execution: the peak of its steps holding a slot at once (backoffs included)."""
    states = await _all_final(world)
    if not states:
        raise AssertionError("no execution was submitted")
    for state in states:
        label = _label_of(world, state.execution.execution_id)
        _check_peak(f"execution {label}", _peak(_spans([state])), limit, peak)


@then(
    "the executions took {seconds:g} virtual seconds in all",
    example="Then the executions took 30 virtual seconds in all",
)
@async_step
async def all_took(world: World, seconds: float) -> None:
    """From the first execution's start to the last one's end."""
    states = await _all_final(world)
    starts = [s.execution.started_at for s in states if s.execution.started_at is not None]
    ends = [s.execution.finished_at for s in states if s.execution.finished_at is not None]
    if not starts or not ends:
        raise AssertionError("no execution ran")
    took = max(ends) - min(starts)
    if not _close(took, seconds):
        raise AssertionError(f"the executions took {took:g} virtual seconds, not {seconds:g}")


@then(
    "the engine started the steps in the order {order}",
    example="Then the engine started the steps in the order routine/r1, urgent/u1",
)
@async_step
async def slot_order(world: World, order: str) -> None:
    """Every step that ran, across all executions, as ``label/step`` by start time.

    The list must be complete and the start times strictly increasing (use an engine
    limit of 1 so that each start is a free slot handed out).
    """
    states = await _all_final(world)
    started = sorted(
        (rec.started_at, f"{_label_of(world, s.execution.execution_id)}/{sid}")
        for s in states
        for sid, rec in s.steps.items()
        if rec.started_at is not None and rec.attempts
    )
    got = [name for _, name in started]
    want = _names(order)
    if got != want:
        shown = ", ".join(f"{name}@{t - world.started_at:g}" for t, name in started)
        raise AssertionError(f"the steps started in the order {shown}; expected {want}")
    ties = [b for (ta, _), (tb, b) in itertools.pairwise(started) if _close(ta, tb)]
    if ties:
        raise AssertionError(f"steps {ties} started at the same moment as the one before")


# -- versions ----------------------------------------------------------------------------


@then(
    'the execution "{label}" ran version {version:d} of "{name}"',
    example='Then the execution "old" ran version 1 of "restart"',
)
@async_step
async def ran_version(world: World, label: str, version: int, name: str) -> None:
    """The engine, the execution repository and the state store all record that version,
    and the execution's steps are exactly those of that version's template."""
    execution_id = world.execution_id(label)
    state = await world.wait_for(execution_id)
    bed = world.bed()
    stored = bed.state.load(execution_id)
    history = bed.repository.get(execution_id)
    stored_record = None if stored is None else stored.execution
    seen = {
        where: None if record is None else (record.workflow, record.version)
        for where, record in (
            ("engine", state.execution),
            ("state store", stored_record),
            ("repository", history),
        )
    }
    wrong = {k: v for k, v in seen.items() if v != (name, version)}
    if wrong:
        raise AssertionError(f"execution {label!r} records {seen}, expected {(name, version)}")
    template = bed.engine.template(name, version).template
    want = [s.id for s in template.steps]
    if list(state.steps) != want:
        raise AssertionError(
            f"execution {label!r} has the steps {list(state.steps)}; version {version} has {want}"
        )


@then(
    'the execution "{label}" step "{step_id}" output "{key}" is {value}',
    example='Then the execution "old" step "restart" output "by" is "v1"',
)
@async_step
async def labelled_output(world: World, label: str, step_id: str, key: str, value: str) -> None:
    """One output of a step of a labelled execution, compared as YAML (3 is a number)."""
    state = await world.wait_for(world.execution_id(label))
    outputs = dict(_step(state, step_id).outputs or {})
    expected = yaml.safe_load(value)
    if key not in outputs or outputs[key] != expected:
        raise AssertionError(
            f"execution {label!r} step {step_id!r} output {key!r} is "
            f"{outputs.get(key, '<missing>')!r}, expected {expected!r} (outputs: {outputs})"
        )


@then(
    'the execution "{label}" step "{step_id}" took {seconds:g} virtual seconds',
    example='Then the execution "old" step "restart" took 5 virtual seconds',
)
@async_step
async def labelled_took(world: World, label: str, step_id: str, seconds: float) -> None:
    """From a labelled execution's step's start to its end."""
    state = await world.wait_for(world.execution_id(label))
    rec = _step(state, step_id)
    if rec.started_at is None or rec.finished_at is None:
        raise AssertionError(f"step {step_id!r} of {label!r} never ran ({rec.status})")
    took = rec.finished_at - rec.started_at
    if not _close(took, seconds):
        raise AssertionError(
            f"step {step_id!r} of {label!r} took {took:g} virtual seconds, not {seconds:g}"
        )


# -- subflows ----------------------------------------------------------------------------


def _children(world: World, step_id: str) -> list[ExecutionState]:
    parent = world.execution_id()
    engine = world.bed().engine
    found = []
    for execution_id in world.bed().executions:
        state = engine.get(execution_id)
        if state.execution.parent_id == parent and execution_id.startswith(f"{parent}/{step_id}/"):
            found.append(state)
    return found


def _child(world: World, step_id: str) -> ExecutionState:
    children = _children(world, step_id)
    if len(children) != 1:
        raise AssertionError(
            f"step {step_id!r} of the execution started {len(children)} child executions: "
            f"{[c.execution.execution_id for c in children]}"
        )
    return children[0]


@when(
    'the step "{step_id}" of the subflow of step "{parent_step}" has started',
    example='When the step "drain" of the subflow of step "run-child" has started',
)
@async_step
async def child_step_started(world: World, step_id: str, parent_step: str) -> None:
    """Wait (on engine events) until the child execution's step has started."""

    def started() -> bool:
        children = _children(world, parent_step)
        return bool(children) and any(
            sid == step_id and rec.started_at is not None
            for sid, rec in world.bed().engine.get(children[0].execution.execution_id).steps.items()
        )

    await world.until(
        started, DEFAULT_WAIT, f"step {step_id!r} of the subflow of {parent_step!r} has started"
    )


@then(
    'the subflow of step "{parent_step}" ran "{workflow}" and ended {status:w}',
    example='Then the subflow of step "run-child" ran "child" and ended Succeeded',
)
@async_step
async def child_ended(world: World, parent_step: str, workflow: str, status: str) -> None:
    """The step started exactly one child execution of that workflow, linked to its
    parent in the repository, and it ended with that status."""
    await world.wait_for(world.execution_id())
    child = _child(world, parent_step)
    child_id = child.execution.execution_id
    state = await world.wait_for(child_id)
    record = world.bed().repository.get(child_id)
    if record is None or record.parent_id != world.execution_id():
        raise AssertionError(f"the repository does not link {child_id} to its parent: {record}")
    if state.execution.workflow != workflow or str(state.status) != status:
        raise AssertionError(
            f"the subflow {child_id} ran {state.execution.workflow!r} and ended "
            f"{state.status} ({state.execution.error}); expected {workflow!r} and {status}"
        )


@then(
    'the subflow of step "{parent_step}" has the step "{step_id}" {status:w}',
    example='Then the subflow of step "run-child" has the step "drain" Cancelled',
)
@async_step
async def child_step_is(world: World, parent_step: str, step_id: str, status: str) -> None:
    """A step of the child execution ended with that status."""
    await world.wait_for(world.execution_id())
    child = await world.wait_for(_child(world, parent_step).execution.execution_id)
    rec = _step(child, step_id)
    if str(rec.status) != status:
        raise AssertionError(
            f"the subflow's step {step_id!r} is {rec.status} ({rec.error or rec.reason}), "
            f"not {status}"
        )


@then(
    'the subflow of step "{parent_step}" received the inputs {inputs}',
    example='Then the subflow of step "run-child" received the inputs {"service": "api"}',
)
@async_step
async def child_inputs(world: World, parent_step: str, inputs: str) -> None:
    """The child execution's recorded inputs (defaults applied), compared as YAML."""
    await world.wait_for(world.execution_id())
    child = _child(world, parent_step)
    want = yaml.safe_load(inputs)
    got = dict(child.execution.inputs)
    if got != want:
        raise AssertionError(f"the subflow received the inputs {got}, expected {want}")


@then(
    'the action of step "{step_id}" stopped after {seconds:g} virtual seconds',
    example='Then the action of step "drain" stopped after 10 virtual seconds',
)
@async_step
async def action_stopped(world: World, step_id: str, seconds: float) -> None:
    """The one call of the test action behind the step (in any execution) ended that long
    after it began: a cancelled action stops early."""
    for execution_id in list(world.bed().executions):
        await world.wait_for(execution_id)
    calls = world.bed().actions.of(step_id)
    if len(calls) != 1 or calls[0].finished_at is None:
        raise AssertionError(
            f"the action of step {step_id!r} was called {len(calls)} times: "
            f"{[(c.execution_id, c.started_at, c.finished_at) for c in calls]}"
        )
    took = calls[0].finished_at - calls[0].started_at
    if not _close(took, seconds):
        raise AssertionError(
            f"the action of step {step_id!r} ran {took:g} virtual seconds, not {seconds:g}"
        )


# -- conditions ----------------------------------------------------------------------------


@then(
    'the step "{step_id}" was skipped because "{text}"',
    example='Then the step "verify" was skipped because "trigger rule all_succeeded not met"',
)
@async_step
async def skipped_because(world: World, step_id: str, text: str) -> None:
    """The step ended Skipped (never started: no attempt) with a reason saying ``text``."""
    state = await world.wait_for(world.execution_id())
    rec = _step(state, step_id)
    if str(rec.status) != "Skipped" or rec.attempts or text not in (rec.reason or ""):
        raise AssertionError(
            f"step {step_id!r} is {rec.status} after {len(rec.attempts)} attempts, reason "
            f"{rec.reason!r}; expected Skipped, no attempt, because {text!r}"
        )
