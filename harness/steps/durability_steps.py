"""Steps for lifecycle, durability, observability and validation scenarios.

They choose the engine's store per scenario, read the stores as they are *now* (not
only once an execution ended), compare virtual times between steps, read the dead-letter
queue, the event stream and the Prometheus registry in detail, note the cluster's
objects to prove that nothing changed, and check what a rejected template left behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from typing import Any

from kubernetes import client as k8s

from engine import EngineError, ExecutionState, StepRecord
from engine.status import ExecutionStatus
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then
from harness.testbed import StoreKind, TestbedError
from harness.world import World

_STORES: dict[str, StoreKind] = {"memory": "memory", "sqlite": "sqlite"}
_CLUSTER_NOTE = "durability.cluster-objects"


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-3)


def _step(state: ExecutionState, step_id: str) -> StepRecord:
    try:
        return state.step(step_id)
    except KeyError as exc:
        raise AssertionError(str(exc).strip('"')) from None


# -- the store of the scenario -------------------------------------------------------


@given(
    "the engine keeps its state in {store:w}",
    example="Given the engine keeps its state in SQLite",
)
def engine_store(world: World, store: str) -> None:
    """Run this scenario's engine on ``memory`` or ``SQLite`` stores, whatever ``--store`` says.

    Put it before any step that builds the testbed (the cluster step included).
    """
    kind = _STORES.get(store.lower())
    if kind is None:
        raise AssertionError(f"unknown store {store!r}: use memory or SQLite")
    if world.testbed is not None:
        if world.testbed.store_kind == kind:
            return
        raise TestbedError(
            f"the scenario's engine already runs on the {world.testbed.store_kind} store: "
            "choose the store before the cluster (put this step first)"
        )
    world.options = dataclasses.replace(world.options, store=kind)


@then(
    "the engine runs on the {store:w} store",
    example="Then the engine runs on the SQLite store",
)
def engine_runs_on(world: World, store: str) -> None:
    """The scenario's testbed really uses that kind of store."""
    kind = world.bed().store_kind
    if kind != _STORES.get(store.lower()):
        raise AssertionError(f"the engine runs on the {kind} store, not {store}")


# -- what the store holds now --------------------------------------------------------


def _stored(world: World) -> ExecutionState:
    execution_id = world.execution_id()
    state: ExecutionState | None = world.bed().state.load(execution_id)
    if state is None:
        raise AssertionError(f"execution {execution_id} is not in the state store")
    return state


@then(
    'the store holds the step "{step_id}" as {status:w}',
    example='Then the store holds the step "deploy" as Running',
)
def store_holds_step(world: World, step_id: str, status: str) -> None:
    """What the state store holds for the step at this moment (no record means Pending)."""
    stored = _stored(world)
    record = stored.steps.get(step_id)
    found = "Pending" if record is None else str(record.status)
    if found != status:
        raise AssertionError(f"the store holds step {step_id!r} as {found}, not {status}")


@then(
    "the store holds the execution as {status:w}",
    example="Then the store holds the execution as Paused",
)
def store_holds_execution(world: World, status: str) -> None:
    """The execution's status in the state store and in the repository, at this moment."""
    stored = _stored(world)
    record = world.bed().repository.get(world.execution_id())
    found = (str(stored.execution.status), None if record is None else str(record.status))
    if found != (status, status):
        raise AssertionError(
            f"the state store holds the execution as {found[0]} and the repository as "
            f"{found[1]}, not {status}"
        )


@then(
    'the store received these writes for the step "{step_id}": {statuses}',
    example='Then the store received these writes for the step "deploy": Running, Succeeded',
)
@async_step
async def store_writes(world: World, step_id: str, statuses: str) -> None:
    """Every status written for the step, in order, repeats kept (each retry is a write)."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    got = [
        s for eid, sid, s in world.bed().journal.writes if eid == execution_id and sid == step_id
    ]
    if got != _names(statuses):
        raise AssertionError(
            f"the store received {got} for step {step_id!r}, not {_names(statuses)}"
        )


@then(
    'the history of "{workflow}" holds these executions:',
    example='Then the history of "deploy" holds these executions:\n  | status | count |',
)
@async_step
async def history_table(world: World, workflow: str, datatable: list[list[str]]) -> None:
    """The repository queried by workflow and by each status; the rows add up to all of them.

    Waits for every execution of the scenario to end first.
    """
    bed = world.bed()
    for execution_id in list(bed.executions):
        await world.wait_for(execution_id)
    header, *rows = datatable
    wrong = []
    total = 0
    for row in rows:
        want = dict(zip(header, row, strict=True))
        status = ExecutionStatus(want["status"])
        count = int(want["count"])
        total += count
        found = bed.repository.list(workflow=workflow, status=status)
        others = [r for r in found if r.workflow != workflow or r.status is not status]
        if len(found) != count or others:
            wrong.append(
                f"{status}: {len(found)} listed, expected {count} "
                f"({[(r.execution_id[:8], r.workflow, str(r.status)) for r in found]})"
            )
    everything = bed.repository.list(workflow=workflow)
    if len(everything) != total:
        wrong.append(
            f"all statuses: {len(everything)} listed, expected {total} "
            f"({[(r.execution_id[:8], str(r.status)) for r in everything]})"
        )
    if wrong:
        raise AssertionError(
            f"the history of {workflow!r} is not as expected:\n" + "\n".join(wrong)
        )


# -- steps and time ------------------------------------------------------------------


@then(
    'the step "{step_id}" is {status:w} right now',
    example='Then the step "deploy" is Running right now',
)
def step_is_now(world: World, step_id: str, status: str) -> None:
    """A step's status at this moment, as the engine reports it (no waiting)."""
    state = world.bed().engine.get(world.execution_id())
    rec = _step(state, step_id)
    if str(rec.status) != status:
        raise AssertionError(f"step {step_id!r} is {rec.status} right now, not {status}")


@then(
    'the step "{step_id}" started {seconds:g} virtual seconds after "{other}" finished',
    example='Then the step "deploy" started 90 virtual seconds after "build" finished',
)
@async_step
async def started_seconds_after(world: World, step_id: str, seconds: float, other: str) -> None:
    """The gap, in virtual seconds, from one step's end to another's (last) start."""
    state = await world.wait_for(world.execution_id())
    a, b = _step(state, step_id), _step(state, other)
    if a.started_at is None or b.finished_at is None:
        raise AssertionError(
            f"{step_id!r} started {a.started_at}, {other!r} finished {b.finished_at}"
        )
    gap = a.started_at - b.finished_at
    if not _close(gap, seconds):
        raise AssertionError(
            f"step {step_id!r} started {gap:g} virtual seconds after {other!r} finished, "
            f"not {seconds:g}"
        )


@then(
    'the step "{step_id}" ended with reason "{text}"',
    example='Then the step "deploy" ended with reason "interrupted"',
)
@async_step
async def ended_with_reason(world: World, step_id: str, text: str) -> None:
    """The step's recorded reason contains ``text``."""
    rec = _step(await world.wait_for(world.execution_id()), step_id)
    if rec.reason is None or text not in rec.reason:
        raise AssertionError(
            f"step {step_id!r} ended {rec.status} with reason {rec.reason!r} "
            f"(error {rec.error!r}); expected the reason to say {text!r}"
        )


@then(
    'the action of step "{step_id}" ran at virtual seconds {times}',
    example='Then the action of step "deploy" ran at virtual seconds 0, 10',
)
def action_ran_at(world: World, step_id: str, times: str) -> None:
    """When each call of the step's test action began, in seconds after the first submission."""
    bed = world.bed()
    origin = _first_submission(world)
    got = [round(c.started_at - origin, 6) for c in bed.actions.of(step_id)]
    want = [float(t) for t in _names(times)]
    if len(got) != len(want) or not all(_close(g, w) for g, w in zip(got, want, strict=True)):
        raise AssertionError(f"the action of step {step_id!r} began at {got}, not {want}")


def _first_submission(world: World) -> float:
    for event in world.bed().events:
        if str(event.kind) == "execution_submitted":
            return event.time
    raise AssertionError("no execution was submitted in this scenario")


# -- dead letters --------------------------------------------------------------------


@then(
    'the dead letter says "{text}" after {count:d} attempts',
    example='Then the dead letter says "500" after 2 attempts',
)
@then(
    'the dead letter says "{text}" after {count:d} attempt',
    example='Then the dead letter says "500" after 1 attempt',
)
def dead_letter_says(world: World, text: str, count: int) -> None:
    """The last execution's dead letter: its error and how many attempts the step got."""
    execution_id = world.execution_id()
    letter = world.bed().engine.dead_letters.get(execution_id)
    if letter is None:
        raise AssertionError(f"execution {execution_id} is not in the dead-letter queue")
    if letter.error is None or text not in letter.error or letter.attempts != count:
        raise AssertionError(
            f"the dead letter says {letter.error!r} after {letter.attempts} attempts; "
            f"expected {text!r} after {count}"
        )


@then(
    "the replay is linked to the original execution",
    example="Then the replay is linked to the original execution",
)
@async_step
async def replay_linked(world: World) -> None:
    """A new execution, of the same template version and inputs, recorded as the replay."""
    bed = world.bed()
    original, replay = world.execution_id("original"), world.execution_id("replay")
    if original == replay:
        raise AssertionError(f"the replay returned the original execution {original}")
    await world.wait_for(replay)
    a, b = bed.repository.get(original), bed.repository.get(replay)
    if a is None or b is None:
        raise AssertionError(f"the repository holds {a} and {b}")
    problems = []
    if b.replay_of != original:
        problems.append(f"the replay's replay_of is {b.replay_of!r}, not {original!r}")
    if (b.workflow, b.version, dict(b.inputs)) != (a.workflow, a.version, dict(a.inputs)):
        problems.append(
            f"the replay runs {b.workflow} v{b.version} with {dict(b.inputs)}, the original "
            f"{a.workflow} v{a.version} with {dict(a.inputs)}"
        )
    letter = bed.engine.dead_letters.get(original)
    if letter is None or letter.replayed_by != replay:
        problems.append(
            f"the dead letter says it was replayed by "
            f"{None if letter is None else letter.replayed_by!r}, not {replay!r}"
        )
    if any(d.execution_id == original for d in bed.engine.dead_letters.list()):
        problems.append("the replayed letter is still listed as waiting")
    if problems:
        raise AssertionError("; ".join(problems))


# -- events --------------------------------------------------------------------------


@then(
    "the execution's events were, in order:",
    example="Then the execution's events were, in order:\n  | kind | step |",
)
@async_step
async def events_table(world: World, datatable: list[list[str]]) -> None:
    """Every event of the last execution, in order, exactly these rows.

    Columns: ``kind`` (required), ``step`` (empty for an execution event), and any of
    ``status``, ``attempt``, ``at`` (virtual seconds after the submission) and ``delay``
    (a retry's backoff); a column compares only where the row has a value.
    """
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    events = [e for e in world.bed().events if e.execution_id == execution_id]
    header, *rows = datatable
    if "kind" not in header:
        raise AssertionError("the events table needs a 'kind' column")
    origin = events[0].time if events else 0.0

    def show(e: Any) -> str:
        at = round(e.time - origin, 6)
        extra = f" delay={e.data['delay']:g}" if "delay" in e.data else ""
        return (
            f"{e.kind} step={e.step_id or '-'} status={e.status} attempt={e.attempt} "
            f"at={at:g}{extra}"
        )

    listing = "\n".join(f"  {show(e)}" for e in events)
    if len(events) != len(rows):
        raise AssertionError(
            f"the execution emitted {len(events)} events, not {len(rows)}:\n{listing}"
        )
    for number, (row, event) in enumerate(zip(rows, events, strict=True), start=1):
        want = {k: v.strip() for k, v in zip(header, row, strict=True)}
        wrong = []
        if str(event.kind) != want["kind"]:
            wrong.append("kind")
        if "step" in want and (event.step_id or "") != want["step"]:
            wrong.append("step")
        if want.get("status") and event.status != want["status"]:
            wrong.append("status")
        if want.get("attempt") and event.attempt != int(want["attempt"]):
            wrong.append("attempt")
        if want.get("at") and not _close(event.time - origin, float(want["at"])):
            wrong.append("at")
        if want.get("delay") and not (
            "delay" in event.data and _close(float(event.data["delay"]), float(want["delay"]))
        ):
            wrong.append("delay")
        if wrong:
            raise AssertionError(
                f"event {number} differs in {', '.join(wrong)}: expected {want}, got "
                f"{show(event)}; the events were:\n{listing}"
            )


# -- metrics -------------------------------------------------------------------------


@then(
    'the metric "{name}" with {labels} has no sample',
    example='Then the metric "workflow_engine_step_duration_seconds_count" with '
    "workflow=a,status=Skipped has no sample",
)
@async_step
async def metric_absent(world: World, name: str, labels: str) -> None:
    """No sample with these labels (after every execution ended)."""
    bed = world.bed()
    for execution_id in list(bed.executions):
        await world.wait_for(execution_id)
    wanted = dict(pair.split("=", 1) for pair in labels.split(",") if pair.strip())
    got = bed.metrics.registry.get_sample_value(name, wanted)
    if got is not None:
        raise AssertionError(f"metric {name}{wanted} has the sample {got:g}")


@then(
    "the steps counter accounts for every step of every execution",
    example="Then the steps counter accounts for every step of every execution",
)
@async_step
async def steps_counter_accounts(world: World) -> None:
    """``workflow_engine_steps_total`` by workflow and status equals the steps' records."""
    bed = world.bed()
    expected: Counter[tuple[str, str]] = Counter()
    for execution_id in list(bed.executions):
        state = await world.wait_for(execution_id)
        for rec in state.steps.values():
            expected[(state.execution.workflow, str(rec.status))] += 1
    counted: Counter[tuple[str, str]] = Counter()
    for metric in bed.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "workflow_engine_steps_total":
                key = (sample.labels["workflow"], sample.labels["status"])
                counted[key] += int(sample.value)
    if counted != expected:
        raise AssertionError(
            f"workflow_engine_steps_total counts {dict(counted)}, the records say {dict(expected)}"
        )


# -- the cluster, unchanged ----------------------------------------------------------


def _cluster_objects(world: World) -> dict[str, str | None]:
    api = world.bed().sync_api_client
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    objects: dict[str, str | None] = {}
    for kind, items in (
        ("node", core.list_node().items),
        ("pod", core.list_pod_for_all_namespaces().items),
        ("deployment", apps.list_deployment_for_all_namespaces().items),
        ("replicaset", apps.list_replica_set_for_all_namespaces().items),
    ):
        for obj in items:
            meta: Any = obj.metadata
            objects[f"{kind} {meta.namespace or ''}/{meta.name}"] = meta.resource_version
    return objects


@given("I note the cluster's objects", example="Given I note the cluster's objects")
def note_cluster(world: World) -> None:
    """Remember every node, pod, deployment and ReplicaSet with its resourceVersion."""
    world.memory[_CLUSTER_NOTE] = _cluster_objects(world)


@then(
    "no object in the cluster changed",
    example="Then no object in the cluster changed",
)
@async_step
async def cluster_unchanged(world: World) -> None:
    """The same objects at the same resourceVersions as noted (after the cluster settled)."""
    noted = world.memory.get(_CLUSTER_NOTE)
    if noted is None:
        raise AssertionError("the cluster's objects were not noted (add the noting step)")
    await world.bed().cluster().settle()
    now = _cluster_objects(world)
    changed = sorted(k for k in noted.keys() & now.keys() if noted[k] != now[k])
    added, removed = sorted(now.keys() - noted.keys()), sorted(noted.keys() - now.keys())
    if changed or added or removed:
        raise AssertionError(
            f"the cluster changed: {len(changed)} objects updated {changed[:5]}, "
            f"{len(added)} created {added[:5]}, {len(removed)} removed {removed[:5]}"
        )


# -- dry runs ------------------------------------------------------------------------


@then(
    "the execution is recorded as a dry run", example="Then the execution is recorded as a dry run"
)
@async_step
async def recorded_dry_run(world: World) -> None:
    """The repository's record of the last execution says it was a dry run."""
    execution_id = world.execution_id()
    await world.wait_for(execution_id)
    record = world.bed().repository.get(execution_id)
    if record is None or not record.dry_run:
        raise AssertionError(f"the repository records {record}, not a dry run")


@then(
    'the step "{step_id}" reported the call it would have made with {params}',
    example='Then the step "probe" reported the call it would have made with {"failures": 1}',
)
@async_step
async def reported_call(world: World, step_id: str, params: str) -> None:
    """A dry-run step without a dry-run path: its outputs name the action and the params."""
    state = await world.wait_for(world.execution_id())
    rec = _step(state, step_id)
    outputs = dict(rec.outputs or {})
    expected = json.loads(params)
    got_params = outputs.get("params") or {}
    mismatched = {k: got_params.get(k) for k, v in expected.items() if got_params.get(k) != v}
    if outputs.get("dry_run") is not True or outputs.get("action") is None or mismatched:
        raise AssertionError(
            f"step {step_id!r} outputs {json.dumps(outputs, default=str)}: expected a report "
            f"of the call with {expected}"
        )


# -- what a rejected template leaves -------------------------------------------------


@then(
    'no workflow named "{name}" is registered',
    example='Then no workflow named "deploy" is registered',
)
def not_registered(world: World, name: str) -> None:
    """The engine knows no template by that name (a rejected one left nothing behind)."""
    try:
        compiled = world.bed().engine.template(name)
    except EngineError:
        return
    raise AssertionError(f"the engine has {name!r} version {compiled.version} registered")


@then(
    'the latest registered version of "{name}" is {version:d}',
    example='Then the latest registered version of "deploy" is 1',
)
def latest_version(world: World, name: str, version: int) -> None:
    """The engine's latest version of a template."""
    try:
        compiled = world.bed().engine.template(name)
    except EngineError as exc:
        raise AssertionError(str(exc)) from None
    if compiled.version != version:
        raise AssertionError(f"the latest version of {name!r} is {compiled.version}, not {version}")
