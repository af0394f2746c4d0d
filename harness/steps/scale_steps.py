"""Steps for scale scenarios: batches of submissions, cluster set-up, long chains.

Resilience checks (faults ridden out, nodes and pods read back, tenants) are in
``resilience_steps``.

They check what a scale or fault scenario is about, from the records an operator would
read: the engine's step records (order against dependencies, skips, retries and the
waits between them), and the cluster's state and event history read back through the
official ``kubernetes`` client (pods placed and Ready, FailedScheduling and FailedCreate
events, node allocations, which deployments changed). Fault windows and node failures
come from the scenario's own cluster (``world.bed().cluster()``): its profile and the
timed events it fired.
"""

from __future__ import annotations

import asyncio
import re

import yaml

from engine import ExecutionState, StepRecord
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then, when
from harness.steps.reading import apps_api as _apps
from harness.steps.reading import core_api as _core
from harness.steps.reading import deployment_marks as _deployment_marks
from harness.steps.reading import step_record as _step
from harness.steps.reading import table_rows as _table
from harness.world import World

TOLERANCE = 1e-6
_RETRY_AFTER = re.compile(r"server asks to retry after ([0-9.]+)s")
_STATUS = re.compile(r": (\d{3}) [A-Za-z]+")


# -- submitting ------------------------------------------------------------------------


@when(
    'I submit the workflow "{name}" once per row, concurrently:',
    example='When I submit the workflow "scale-tenant" once per row, concurrently:\n'
    "  | as | namespace | deployment |",
)
@async_step
async def submit_per_row(world: World, name: str, datatable: list[list[str]]) -> None:
    """One execution per row, all submitted at once: column ``as`` labels it, the rest
    are its inputs (each cell read as YAML, so 3 is a number)."""
    rows = _table(datatable)
    if any("as" not in row for row in rows):
        raise AssertionError("the table needs an 'as' column naming each execution")
    template = world.template(name)
    engine = world.bed().engine
    inputs = [{k: yaml.safe_load(v) for k, v in row.items() if k != "as"} for row in rows]
    ids = await asyncio.gather(*(engine.submit(template, i) for i in inputs))
    world.batch = list(ids)
    for row, execution_id in zip(rows, ids, strict=True):
        world.remember(execution_id, row["as"])


# -- setting the cluster up ------------------------------------------------------------


@given(
    'the deployments in "{namespace}":',
    example='Given the deployments in "batch":\n  | name | replicas | cpu | memory |',
)
@async_step
async def deployments_in(world: World, namespace: str, datatable: list[list[str]]) -> None:
    """Create Deployments through the API (label ``app=<name>``, one container with
    those requests) and wait until the cluster settles."""
    apps = _apps(world)
    for row in _table(datatable):
        name = row["name"]
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "replicas": int(row.get("replicas", "1")),
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {
                                "name": name,
                                "image": f"registry.example/{name}:1.0",
                                "resources": {
                                    "requests": {"cpu": row["cpu"], "memory": row["memory"]}
                                },
                            }
                        ]
                    },
                },
            },
        }
        apps.create_namespaced_deployment(namespace, body)
    await world.bed().cluster().settle()


@given(
    'the namespace "{namespace}" with the quota:',
    example='Given the namespace "team" with the quota:\n  | resource | hard |\n  | pods | 3 |',
)
@async_step
async def namespace_with_quota(world: World, namespace: str, datatable: list[list[str]]) -> None:
    """Create a namespace and a ResourceQuota ``quota`` with those hard limits through the
    API, then let the quota controller fill its usage and admission measure it."""
    core = _core(world)
    core.create_namespace(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    hard = {row["resource"]: row["hard"] for row in _table(datatable)}
    core.create_namespaced_resource_quota(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": namespace},
            "spec": {"hard": hard},
        },
    )
    bed = world.bed()
    await bed.cluster().settle()
    await asyncio.sleep(bed.options.capacity_interval + 1)


@given(
    "the deployments of every namespace are noted",
    example="Given the deployments of every namespace are noted",
)
def note_deployments(world: World) -> None:
    """Remember each Deployment's generation, replicas, labels and annotations (read back
    through the API), for a later step to tell which ones a workflow changed."""
    world.memory["noted_deployments"] = _deployment_marks(world)


@given(
    'the pods of "{app}" in "{namespace}" on the node "{node}" are noted',
    example='Given the pods of "api-gateway" in "default" on the node "last" are noted',
)
def note_pods_on_node(world: World, app: str, namespace: str, node: str) -> None:
    """Remember which live pods of the app run on that node now (there must be some)."""
    name = world.bed().cluster().node(node)
    pods = _core(world).list_namespaced_pod(namespace, label_selector=f"app={app}").items
    on_node = sorted(
        p.metadata.name
        for p in pods
        if p.spec.node_name == name and p.metadata.deletion_timestamp is None
    )
    if not on_node:
        raise AssertionError(f"no pod of {app} in {namespace} runs on node {name} to note")
    world.memory[f"noted pods {namespace}/{app}"] = (name, on_node)


# -- long chains -----------------------------------------------------------------------


def _chain(state: ExecutionState) -> list[tuple[int, StepRecord]]:
    """The generated chain's steps (``s001``, ``s002``, ...) with their index."""
    out = []
    for sid, rec in state.steps.items():
        if not (sid.startswith("s") and sid[1:].isdigit()):
            raise AssertionError(f"step {sid!r} is not part of a generated chain (s001, s002, ...)")
        out.append((int(sid[1:]), rec))
    return sorted(out, key=lambda t: t[0])


@then(
    "every {k:d}th step of the chain is Skipped and the others Succeeded",
    example="Then every 5th step of the chain is Skipped and the others Succeeded",
)
@async_step
async def chain_skips(world: World, k: int) -> None:
    """In the last execution's chain, exactly the steps whose index is a multiple of
    ``k`` were Skipped (by their condition, never run, no outputs); every other step
    Succeeded in one attempt and output its own index."""
    state = await world.wait_for(world.execution_id())
    wrong = []
    skipped = succeeded = 0
    for i, rec in _chain(state):
        status = str(rec.status)
        if i % k == 0:
            if status != "Skipped" or rec.attempts or rec.outputs:
                wrong.append(f"s{i:03d}: {status}, {len(rec.attempts)} attempts, expected Skipped")
            elif not (rec.reason or "").startswith("condition is false"):
                wrong.append(f"s{i:03d}: skipped for {rec.reason!r}, not by its condition")
            else:
                skipped += 1
        elif status != "Succeeded" or len(rec.attempts) != 1:
            wrong.append(f"s{i:03d}: {status} after {len(rec.attempts)} attempts ({rec.reason})")
        elif (rec.outputs or {}).get("index") != i:
            wrong.append(f"s{i:03d}: output index {(rec.outputs or {}).get('index')!r}, not {i}")
        else:
            succeeded += 1
    if wrong:
        raise AssertionError(
            f"{len(wrong)} chain steps ended wrong ({skipped} skipped and {succeeded} "
            f"succeeded as expected):\n" + "\n".join(wrong[:15])
        )


@then(
    "every step started after all of its dependencies finished",
    example="Then every step started after all of its dependencies finished",
)
@async_step
async def dependencies_first(world: World) -> None:
    """For each step of the last execution (a skipped one settles when it is decided),
    its start is no earlier than every dependency's end."""
    execution_id = world.execution_id()
    state = await world.wait_for(execution_id)
    template = world.template(state.execution.workflow)
    early = []
    checked = 0
    for spec in template.template.steps:
        rec = _step(state, spec.id)
        for dep in spec.depends_on:
            before = _step(state, dep)
            checked += 1
            if rec.started_at is None or before.finished_at is None:
                early.append(
                    f"{spec.id} started {rec.started_at}, {dep} finished {before.finished_at}"
                )
            elif rec.started_at < before.finished_at - TOLERANCE:
                early.append(
                    f"{spec.id} started at {rec.started_at:g}, before {dep} finished at "
                    f"{before.finished_at:g}"
                )
    if not checked:
        raise AssertionError("the workflow has no dependencies to check")
    if early:
        raise AssertionError(
            f"{len(early)} of {checked} dependencies were not waited for:\n" + "\n".join(early[:15])
        )


# -- status now ------------------------------------------------------------------------


@then(
    'the step "{step_id}" is still {status:w}',
    example='Then the step "grow" is still Pending',
)
def step_still(world: World, step_id: str, status: str) -> None:
    """The last execution's step has that status right now (no waiting)."""
    rec = _step(world.bed().engine.get(world.execution_id()), step_id)
    if str(rec.status) != status:
        raise AssertionError(f"step {step_id!r} is {rec.status} ({rec.error}), not {status}")


@then(
    'the step "{step_id}" of the execution "{label}" is still {status:w}',
    example='Then the step "grow" of the execution "gamma" is still Pending',
)
def labelled_step_still(world: World, step_id: str, label: str, status: str) -> None:
    """A labelled execution's step has that status right now (no waiting)."""
    rec = _step(world.bed().engine.get(world.execution_id(label)), step_id)
    if str(rec.status) != status:
        raise AssertionError(
            f"step {step_id!r} of {label!r} is {rec.status} ({rec.error}), not {status}"
        )


@then(
    'the step "{step_id}" of the execution "{label}" failed with an error saying "{text}"',
    example='Then the step "grow" of the execution "beta" failed with an error saying "quota"',
)
@async_step
async def labelled_failed_saying(world: World, step_id: str, label: str, text: str) -> None:
    """A labelled execution's step ended Failed, and its error contains ``text``."""
    rec = _step(await world.wait_for(world.execution_id(label)), step_id)
    if str(rec.status) != "Failed" or rec.error is None or text not in rec.error:
        raise AssertionError(
            f"step {step_id!r} of {label!r} is {rec.status} with error {rec.error!r}; "
            f"expected Failed saying {text!r}"
        )


@then(
    'the step "{step_id}" of the execution "{label}" emitted {kinds}',
    example='Then the step "grow" of the execution "gamma" emitted step_throttled, step_started',
)
@async_step
async def labelled_step_events(world: World, step_id: str, label: str, kinds: str) -> None:
    """The events of one step of a labelled execution, in order, are exactly these."""
    execution_id = world.execution_id(label)
    await world.wait_for(execution_id)
    got = [
        str(e.kind)
        for e in world.bed().events
        if e.execution_id == execution_id and e.step_id == step_id
    ]
    want = [n.strip() for n in kinds.split(",") if n.strip()]
    if got != want:
        raise AssertionError(f"step {step_id!r} of {label!r} emitted {got}, not {want}")


@then(
    'the step "{step_id}" made at least {count:d} attempts',
    example='Then the step "scale-up" made at least 2 attempts',
)
@async_step
async def at_least_attempts(world: World, step_id: str, count: int) -> None:
    """The last execution's step was tried at least ``count`` times."""
    rec = _step(await world.wait_for(world.execution_id()), step_id)
    if len(rec.attempts) < count:
        raise AssertionError(
            f"step {step_id!r} made {len(rec.attempts)} attempts, fewer than {count}: "
            f"{[a.error for a in rec.attempts]}"
        )


@then(
    'the step "{step_id}" took at least {seconds:g} virtual seconds',
    example='Then the step "scale" took at least 4 virtual seconds',
)
@async_step
async def took_at_least(world: World, step_id: str, seconds: float) -> None:
    """From the step's start to its end, at least that long in virtual time."""
    rec = _step(await world.wait_for(world.execution_id()), step_id)
    if rec.started_at is None or rec.finished_at is None:
        raise AssertionError(f"step {step_id!r} never ran ({rec.status})")
    took = rec.finished_at - rec.started_at
    if took < seconds - TOLERANCE:
        raise AssertionError(
            f"step {step_id!r} took {took:g} virtual seconds, less than {seconds:g}"
        )
