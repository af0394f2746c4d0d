"""Steps that define, submit and control workflows, and let virtual time pass.

Workflows are defined inline (a docstring of YAML, or a data table of steps), from a
file next to the feature, or generated (a long chain for scale scenarios). Each is
validated as the engine validates it, gets the profile's defaults, and is registered.
Submissions are remembered in the world: "the execution" is the last one submitted,
``as "name"`` gives one a label for later steps.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import EngineError, TemplateError
from engine.loader import parse_document, template_from_data
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then, when
from harness.steps.context import FEATURE_FILE, docstring_origin
from harness.world import DEFAULT_WAIT, World

# -- defining ------------------------------------------------------------------------


def _define(world: World, data: Any, source: str, lines: Any = None) -> str:
    template = template_from_data(data, source=source, locate=lines)
    compiled = world.bed().template(template, source=source, locate=lines)
    world.templates[compiled.name] = compiled
    return compiled.name


def _define_docstring(world: World, request: pytest.FixtureRequest, docstring: str) -> str:
    """Define a template from a step's docstring; problems name the feature file's lines."""
    source, before = docstring_origin(request)
    data, lines = parse_document("\n" * before + docstring, source=source)
    return _define(world, data, source, lines)


def _parse(docstring: str, request: pytest.FixtureRequest) -> Any:
    source, before = docstring_origin(request)
    data, _ = parse_document("\n" * before + docstring, source=source)
    return data


@given("the workflow:", example='Given the workflow:\n  """\n  name: hello\n  steps: [...]\n  """')
def workflow_from_docstring(world: World, request: pytest.FixtureRequest, docstring: str) -> None:
    """A workflow template written in YAML (or JSON) in the step's docstring.

    A problem in it is reported at the feature file's line (``features/x.feature:14``).
    """
    _define_docstring(world, request, docstring)


@given(
    'the workflow "{name}" with steps:',
    example='Given the workflow "deploy" with steps:\n  | id | action | depends_on | seconds |',
)
def workflow_from_table(world: World, name: str, datatable: list[list[str]]) -> None:
    """A workflow from a table: one row per step.

    Columns: ``id`` (required), ``action`` (default ``work``), ``depends_on``
    (comma-separated), ``when`` (CEL), ``trigger_rule``, ``seconds`` (the work's
    duration), ``params`` (YAML flow mapping), ``retry`` (YAML flow mapping),
    ``timeout``, ``compensation`` (an action name, run with the same params).
    """
    header, *rows = datatable
    unknown = set(header) - _TABLE_COLUMNS
    if unknown or "id" not in header:
        raise AssertionError(
            f"workflow table columns {sorted(unknown)} are unknown; use id and any of "
            f"{sorted(_TABLE_COLUMNS - {'id'})}"
        )
    steps = []
    for row in rows:
        cells = {k: v.strip() for k, v in zip(header, row, strict=True) if v.strip()}
        step: dict[str, Any] = {"id": cells["id"], "action": cells.get("action", "work")}
        params: dict[str, Any] = (
            dict(yaml.safe_load(cells["params"]) or {}) if "params" in cells else {}
        )
        if "seconds" in cells:
            params["seconds"] = float(cells["seconds"])
        if params:
            step["params"] = params
        if "depends_on" in cells:
            step["depends_on"] = [d.strip() for d in cells["depends_on"].split(",") if d.strip()]
        for key in ("when", "trigger_rule"):
            if key in cells:
                step[key] = cells[key]
        if "retry" in cells:
            step["retry"] = yaml.safe_load(cells["retry"])
        if "timeout" in cells:
            step["timeout"] = float(cells["timeout"])
        if "compensation" in cells:
            step["compensation"] = {"action": cells["compensation"], "params": params}
        steps.append(step)
    _define(world, {"name": name, "steps": steps}, f"the table of workflow {name!r}")


_TABLE_COLUMNS = {
    "id",
    "action",
    "depends_on",
    "when",
    "trigger_rule",
    "seconds",
    "params",
    "retry",
    "timeout",
    "compensation",
}


@given('the workflow file "{path}"', example='Given the workflow file "workflows/restart.yaml"')
def workflow_from_file(world: World, request: pytest.FixtureRequest, path: str) -> None:
    """A workflow template file, relative to the feature file's folder."""
    feature = request.node.stash.get(FEATURE_FILE, None)
    base = Path(feature).parent if feature else Path.cwd()
    file = (base / path).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssertionError(f"cannot read workflow file {file}: {exc}") from None
    data, lines = parse_document(text, source=str(file))
    _define(world, data, str(file), lines)


@given(
    'a workflow "{name}" of {count:d} chained steps where every {k:d}th step is skipped',
    example='Given a workflow "long" of 100 chained steps where every 5th step is skipped',
)
def generated_chain(world: World, name: str, count: int, k: int) -> None:
    """A generated chain ``s001 -> s002 -> ...``: every k-th step has a false ``when``.

    The step after a skipped one joins with ``none_failed``, so the chain goes on
    (under the default ``all_succeeded`` a skip would propagate to the end).
    Each step outputs its index; a skipped step's index is missing from the outputs.
    """
    steps: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        step: dict[str, Any] = {
            "id": f"s{i:03d}",
            "action": "work",
            "params": {"seconds": 1, "outputs": {"index": i}},
        }
        if i > 1:
            step["depends_on"] = [f"s{i - 1:03d}"]
            if (i - 1) % k == 0:
                step["trigger_rule"] = "none_failed"
        if i % k == 0:
            step["when"] = "inputs.run_conditionals"
        steps.append(step)
    data = {
        "name": name,
        "inputs": {"run_conditionals": {"type": "boolean", "default": False}},
        "retry": {"max_attempts": 1},
        "steps": steps,
    }
    _define(world, data, f"generated workflow {name!r}")


@when("I try to register the workflow:", example='When I try to register the workflow:\n  """...')
def try_register(world: World, request: pytest.FixtureRequest, docstring: str) -> None:
    """Register a template that may be invalid; a rejection is kept for a Then step."""
    try:
        _define_docstring(world, request, docstring)
    except (TemplateError, EngineError) as exc:
        world.errors.append(exc)


@then(
    'the workflow is rejected with a problem saying "{text}"',
    example='Then the workflow is rejected with a problem saying "cycle"',
)
def rejected_with(world: World, text: str) -> None:
    """The last registration failed, and one of its problems contains ``text``."""
    if not world.errors:
        raise AssertionError("the workflow was accepted, but it should have been rejected")
    error = world.errors[-1]
    if text not in str(error):
        raise AssertionError(f"the rejection does not mention {text!r}:\n{error}")


@then(
    "the workflow is rejected with these problems:",
    example="Then the workflow is rejected with these problems:\n  | step | field | message |",
)
def rejected_with_table(world: World, datatable: list[list[str]]) -> None:
    """Every row (``step``, ``field``, ``message`` substring) names a reported problem."""
    if not world.errors:
        raise AssertionError("the workflow was accepted, but it should have been rejected")
    error = world.errors[-1]
    problems = list(getattr(error, "problems", ()))
    header, *rows = datatable
    for row in rows:
        want = dict(zip(header, row, strict=True))
        found = [
            p
            for p in problems
            if want.get("message", "") in p.message
            and (not want.get("step") or p.step_id == want["step"])
            and (not want.get("field") or p.field == want["field"])
        ]
        if not found:
            listed = "\n".join(f"  - {p}" for p in problems) or "  (none)"
            raise AssertionError(f"no problem matches {want}; the problems were:\n{listed}")
    if len(problems) != len(rows):
        listed = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"expected {len(rows)} problems, got {len(problems)}:\n{listed}")


# -- submitting ----------------------------------------------------------------------


async def _submit(world: World, name: str | None, label: str | None = None, **kw: Any) -> str:
    template = world.template(name)
    execution_id = await world.bed().engine.submit(template, **kw)
    world.remember(execution_id, label)
    return execution_id


@when("I submit the workflow", example="When I submit the workflow")
@async_step
async def submit_last(world: World) -> None:
    """Submit the workflow defined last, with no inputs."""
    await _submit(world, None)


@when('I submit the workflow "{name}"', example='When I submit the workflow "deploy"')
@async_step
async def submit_named(world: World, name: str) -> None:
    """Submit a defined workflow by name."""
    await _submit(world, name)


@when(
    'I submit the workflow "{name}" as "{label}"',
    example='When I submit the workflow "deploy" as "first"',
)
@async_step
async def submit_labelled(world: World, name: str, label: str) -> None:
    """Submit and remember the execution under ``label``."""
    await _submit(world, name, label)


@when(
    'I submit the workflow "{name}" with priority {priority:d} as "{label}"',
    example='When I submit the workflow "batch" with priority 10 as "urgent"',
)
@async_step
async def submit_with_priority(world: World, name: str, priority: int, label: str) -> None:
    """Submit with a priority (higher gets free slots first)."""
    await _submit(world, name, label, priority=priority)


@when(
    'I submit the workflow "{name}" with inputs:',
    example='When I submit the workflow "greet" with inputs:\n  """\n  who: world\n  """',
)
@async_step
async def submit_with_inputs(
    world: World, request: pytest.FixtureRequest, name: str, docstring: str
) -> None:
    """Submit with inputs written as YAML (or JSON) in the docstring."""
    inputs = _parse(docstring, request)
    await _submit(world, name, inputs=inputs)


@when(
    'I submit the workflow "{name}" with idempotency key "{key}" as "{label}"',
    example='When I submit the workflow "deploy" with idempotency key "k-1" as "again"',
)
@async_step
async def submit_idempotent(world: World, name: str, key: str, label: str) -> None:
    """Submit with an idempotency key: a key seen before returns the first execution."""
    await _submit(world, name, label, idempotency_key=key)


@when(
    'I dry-run the workflow "{name}"',
    example='When I dry-run the workflow "scale-api"',
)
@async_step
async def submit_dry_run(world: World, name: str) -> None:
    """Submit as a dry run: steps validate and call only their actions' dry-run paths."""
    await _submit(world, name, dry_run=True)


@when(
    'I submit {count:d} executions of the workflow "{name}" concurrently',
    example='When I submit 200 executions of the workflow "echo" concurrently',
)
@async_step
async def submit_many(world: World, count: int, name: str) -> None:
    """Submit ``count`` executions at once, each with input ``index`` = 0..count-1."""
    template = world.template(name)
    engine = world.bed().engine
    ids = await asyncio.gather(
        *(engine.submit(template, {"index": i, "token": f"t-{i}"}) for i in range(count))
    )
    world.batch = list(ids)
    for execution_id in ids:
        world.remember(execution_id)


@when('I run the workflow "{name}"', example='When I run the workflow "deploy"')
@async_step
async def run_named(world: World, name: str) -> None:
    """Submit a workflow and wait until it ends (bounded in virtual time)."""
    execution_id = await _submit(world, name)
    await world.wait_for(execution_id)


# -- time and waiting ----------------------------------------------------------------


@when("{seconds:g} virtual seconds pass", example="When 90 virtual seconds pass")
@async_step
async def time_passes(world: World, seconds: float) -> None:
    """Let the engine and the cluster run for that much virtual time."""
    world.bed()
    await asyncio.sleep(seconds)


@when("the execution finishes", example="When the execution finishes")
@async_step
async def last_finishes(world: World) -> None:
    """Wait until the last execution is terminal (at most an hour of virtual time)."""
    await world.wait_for(world.execution_id())


@when("all executions finish", example="When all executions finish")
@async_step
async def all_finish(world: World) -> None:
    """Wait until every execution submitted in the scenario is terminal."""
    bed = world.bed()
    for execution_id in list(bed.executions):
        await world.wait_for(execution_id)


@when(
    'the step "{step_id}" has started',
    example='When the step "drain" has started',
)
@async_step
async def step_started(world: World, step_id: str) -> None:
    """Wait (on engine events) until the last execution's step has started."""
    execution_id = world.execution_id()
    engine = world.bed().engine

    def started() -> bool:
        return engine.get(execution_id).step(step_id).started_at is not None

    await world.until(started, DEFAULT_WAIT, f"step {step_id!r} of {execution_id} has started")


# -- lifecycle -----------------------------------------------------------------------


@when("I pause the execution", example="When I pause the execution")
def pause(world: World) -> None:
    """Pause the last execution: running steps finish, no new step starts."""
    world.bed().engine.pause(world.execution_id())


@when("I resume the execution", example="When I resume the execution")
def resume(world: World) -> None:
    """Resume the last execution."""
    world.bed().engine.resume(world.execution_id())


@when("I cancel the execution", example="When I cancel the execution")
def cancel(world: World) -> None:
    """Cancel the last execution."""
    world.bed().engine.cancel(world.execution_id())


@when(
    "I cancel the execution and roll it back",
    example="When I cancel the execution and roll it back",
)
def cancel_compensate(world: World) -> None:
    """Cancel the last execution and run the compensations of its finished steps."""
    world.bed().engine.cancel(world.execution_id(), compensate=True)


@when("the engine crashes and restarts", example="When the engine crashes and restarts")
@async_step
async def crash_restart(world: World) -> None:
    """Kill the engine as a crash would; a new one recovers from what the stores held."""
    world.memory["recovered"] = await world.bed().crash()


@when(
    "I replay the dead-lettered execution",
    example="When I replay the dead-lettered execution",
)
@async_step
async def replay(world: World) -> None:
    """Replay the last execution from the dead-letter queue; the replay becomes the last."""
    original = world.execution_id()
    world.executions["original"] = original
    replay_id = await world.bed().engine.replay(original)
    world.remember(replay_id, "replay")


def inputs_text(value: Any) -> str:
    """How a step shows a value it compares."""
    return json.dumps(value, sort_keys=True, default=str)
