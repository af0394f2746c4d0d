"""Steps for scale and resilience scenarios: long chains, admission, faults, tenants.

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
from collections.abc import Iterable
from typing import Any

import yaml
from kubernetes import client as k8s

from engine import ExecutionState, StepRecord
from engine.quantity import format_quantity, parse_quantity
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then, when
from harness.world import World

TOLERANCE = 1e-6
_RETRY_AFTER = re.compile(r"server asks to retry after ([0-9.]+)s")
_STATUS = re.compile(r": (\d{3}) [A-Za-z]+")


def _core(world: World) -> Any:
    return k8s.CoreV1Api(world.bed().sync_api_client)


def _apps(world: World) -> Any:
    return k8s.AppsV1Api(world.bed().sync_api_client)


def _step(state: ExecutionState, step_id: str) -> StepRecord:
    try:
        return state.step(step_id)
    except KeyError as exc:
        raise AssertionError(str(exc).strip('"')) from None


async def _all_final(world: World) -> list[ExecutionState]:
    bed = world.bed()
    return [await world.wait_for(i) for i in list(bed.executions)]


def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = datatable
    return [{k.strip(): v.strip() for k, v in zip(header, row, strict=True)} for row in rows]


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


def _deployment_marks(world: World) -> dict[tuple[str, str], tuple[Any, ...]]:
    marks = {}
    for d in _apps(world).list_deployment_for_all_namespaces().items:
        meta = d.metadata
        marks[(meta.namespace, meta.name)] = (
            meta.generation,
            d.spec.replicas,
            tuple(sorted((meta.labels or {}).items())),
            tuple(sorted((meta.annotations or {}).items())),
        )
    return marks


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


# -- retries after API faults ----------------------------------------------------------


@when("the control plane recovers", example="When the control plane recovers")
def control_plane_recovers(world: World) -> None:
    """Every fault rule of the cluster (the profile's and the scenario's) is lifted, so
    what follows reads the cluster as it is, without errors or injected latency."""
    world.bed().cluster().faults.clear()


def _retried(states: Iterable[ExecutionState]) -> list[tuple[str, str, StepRecord]]:
    return [
        (state.execution.execution_id, sid, rec)
        for state in states
        for sid, rec in state.steps.items()
        if len(rec.attempts) > 1
    ]


@then(
    "every retry waited at least as long as the API server asked",
    example="Then every retry waited at least as long as the API server asked",
)
@async_step
async def honoured_retry_after(world: World) -> None:
    """Over every execution of the scenario: each failed attempt whose error carries the
    server's Retry-After was followed, that many virtual seconds later or more, by the
    next attempt. At least one attempt must have been asked to wait."""
    asked = 0
    short = []
    for execution_id, sid, rec in _retried(await _all_final(world)):
        for a, b in zip(rec.attempts, rec.attempts[1:], strict=False):
            match = _RETRY_AFTER.search(a.error or "")
            if match is None:
                continue
            asked += 1
            wanted = float(match.group(1))
            waited = b.started_at - a.finished_at
            if waited < wanted - TOLERANCE:
                short.append(
                    f"{execution_id}/{sid} attempt {a.number}: waited {waited:g}s, "
                    f"the server asked for {wanted:g}s"
                )
    if not asked:
        raise AssertionError("no failed attempt was asked by the API server to retry later")
    if short:
        raise AssertionError(
            f"{len(short)} of {asked} retries came too soon:\n" + "\n".join(short[:10])
        )


@then(
    "at least {count:d} steps were retried after API errors, each until it succeeded",
    example="Then at least 3 steps were retried after API errors, each until it succeeded",
)
@then(
    "at least {count:d} step was retried after API errors, each until it succeeded",
    example="Then at least 1 step was retried after API errors, each until it succeeded",
)
@async_step
async def retried_after_api_errors(world: World, count: int) -> None:
    """Over every execution of the scenario: steps whose failed attempts were answered
    with an API error (429 or 5xx) were tried again and ended Succeeded; at least
    ``count`` such steps."""
    hit = []
    bad = []
    for execution_id, sid, rec in _retried(await _all_final(world)):
        failed = [a for a in rec.attempts if a.error]
        codes = {int(m.group(1)) for a in failed if (m := _STATUS.search(a.error or ""))}
        where = f"{execution_id}/{sid}"
        if not codes or not codes <= {429, 500, 502, 503, 504}:
            bad.append(f"{where}: failed attempts {[a.error for a in failed]}")
            continue
        hit.append(where)
        if str(rec.status) != "Succeeded":
            bad.append(
                f"{where}: ended {rec.status} after {len(rec.attempts)} attempts ({rec.error})"
            )
    if bad:
        raise AssertionError("steps hit by API errors did not recover:\n" + "\n".join(bad[:10]))
    if len(hit) < count:
        raise AssertionError(f"{len(hit)} steps were retried after API errors, fewer than {count}")


@then(
    'the step "{step_id}" failed during the "{label}" fault and succeeded after it ended',
    example='Then the step "scale-up" failed during the "apiserver-restart" fault and '
    "succeeded after it ended",
)
@async_step
async def rode_out_window(world: World, step_id: str, label: str) -> None:
    """The profile's fault window ``label`` (``start``..``end`` after the cluster's time
    zero): the step's first attempt failed inside it, retries went on while it lasted,
    and the attempt that succeeded started once it was over."""
    rec = _step(await world.wait_for(world.execution_id()), step_id)
    sim = world.bed().cluster()
    fault = next((f for f in sim.profile.faults if f.label == label), None)
    if fault is None or fault.start is None or fault.end is None:
        raise AssertionError(f"the profile {sim.profile.name} has no fault window {label!r}")
    start, end = sim.t0 + fault.start, sim.t0 + fault.end
    attempts = rec.attempts
    if str(rec.status) != "Succeeded" or len(attempts) < 2:
        raise AssertionError(f"step {step_id!r} is {rec.status} after {len(attempts)} attempts")
    first, last = attempts[0], attempts[-1]
    during = [a for a in attempts[:-1] if start <= a.finished_at < end]
    if not start <= first.finished_at < end or not during:
        raise AssertionError(
            f"step {step_id!r}'s first attempt ended at {first.finished_at - sim.t0:g}s, "
            f"outside the {label} window {fault.start:g}-{fault.end:g}s"
        )
    if last.started_at < end - TOLERANCE:
        raise AssertionError(
            f"step {step_id!r} succeeded in an attempt started at {last.started_at - sim.t0:g}s, "
            f"before the {label} window ended at {fault.end:g}s"
        )


@then(
    'each execution\'s config map "{prefix}{{index}}" in "{namespace}" holds its token',
    example='Then each execution\'s config map "run-{index}" in "workflows" holds its token',
)
@async_step
async def config_maps_hold_tokens(world: World, prefix: str, namespace: str) -> None:
    """For every execution of the last batch, the ConfigMap named ``prefix`` + its input
    ``index`` holds its input ``token`` in ``data.token`` and in the label
    ``windtunnel.io/token`` (read back through the API)."""
    core = _core(world)
    wrong = []
    for execution_id in world.batch:
        state = await world.wait_for(execution_id)
        index, token = state.execution.inputs.get("index"), state.execution.inputs.get("token")
        name = f"{prefix}{index}"
        try:
            cm = core.read_namespaced_config_map(name, namespace)
        except k8s.ApiException as exc:
            wrong.append(f"{execution_id}: {namespace}/{name}: {exc.status} {exc.reason}")
            continue
        data = (cm.data or {}).get("token")
        labelled = (cm.metadata.labels or {}).get("windtunnel.io/token")
        if data != token or labelled != token:
            wrong.append(
                f"{execution_id}: {name} holds {data!r}, labelled {labelled!r}, not {token!r}"
            )
    if not world.batch:
        raise AssertionError("no batch of executions was submitted")
    if wrong:
        raise AssertionError(f"{len(wrong)} config maps are wrong:\n" + "\n".join(wrong[:10]))


# -- nodes and pods read back ----------------------------------------------------------


@then(
    "no node has more pod requests than it can allocate",
    example="Then no node has more pod requests than it can allocate",
)
def nodes_not_overcommitted(world: World) -> None:
    """For every node: the CPU, memory and pod count of the live pods bound to it fit
    its allocatable (as the API reports both)."""
    core = _core(world)
    used: dict[str, list[Any]] = {}
    for pod in core.list_pod_for_all_namespaces().items:
        if pod.spec.node_name and pod.status.phase not in ("Succeeded", "Failed"):
            totals = used.setdefault(pod.spec.node_name, [0, 0, 0])
            for c in pod.spec.containers:
                requests = (c.resources.requests if c.resources else None) or {}
                totals[0] += parse_quantity(requests.get("cpu", "0"))
                totals[1] += parse_quantity(requests.get("memory", "0"))
            totals[2] += 1
    over = []
    for node in core.list_node().items:
        alloc = node.status.allocatable or {}
        cpu, memory, pods = used.get(node.metadata.name, [0, 0, 0])
        limits = (
            parse_quantity(alloc.get("cpu", "0")),
            parse_quantity(alloc.get("memory", "0")),
            int(parse_quantity(alloc.get("pods", "0"))),
        )
        if cpu > limits[0] or memory > limits[1] or pods > limits[2]:
            over.append(
                f"{node.metadata.name}: cpu {format_quantity(cpu)}/{alloc.get('cpu')}, "
                f"memory {format_quantity(memory, binary=True)}/{alloc.get('memory')}, "
                f"pods {pods}/{alloc.get('pods')}"
            )
    if over:
        raise AssertionError("nodes over-committed:\n" + "\n".join(over))


def _events(world: World, namespace: str, reason: str, prefix: str) -> list[Any]:
    items = _core(world).list_namespaced_event(namespace).items
    return [
        e
        for e in items
        if e.reason == reason and (e.involved_object.name or "").startswith(f"{prefix}-")
    ]


@then(
    'no pod of "{app}" in "{namespace}" ever waited for room on a node',
    example='Then no pod of "job-d" in "batch" ever waited for room on a node',
)
def never_unschedulable(world: World, app: str, namespace: str) -> None:
    """The cluster's event history has no FailedScheduling for the app's pods: nothing
    asked the scheduler for more than the nodes had free."""
    found = _events(world, namespace, "FailedScheduling", app)
    if found:
        raise AssertionError(
            f"pods of {app} in {namespace} could not be scheduled: "
            f"{[(e.involved_object.name, e.message) for e in found[:5]]}"
        )


@then(
    'no pod of "{app}" in "{namespace}" was ever refused by the quota',
    example='Then no pod of "api" in "default" was ever refused by the quota',
)
def never_refused_by_quota(world: World, app: str, namespace: str) -> None:
    """The cluster's event history has no FailedCreate "exceeded quota" on the app's
    ReplicaSets: nothing asked for more than the namespace quota had left."""
    found = [
        e
        for e in _events(world, namespace, "FailedCreate", app)
        if "exceeded quota" in (e.message or "")
    ]
    if found:
        raise AssertionError(
            f"pods of {app} in {namespace} were refused by the quota: "
            f"{[(e.involved_object.name, e.message) for e in found[:5]]}"
        )


@then(
    'the noted pods of "{app}" in "{namespace}" were replaced on other nodes',
    example='Then the noted pods of "api-gateway" in "default" were replaced on other nodes',
)
def replaced_elsewhere(world: World, app: str, namespace: str) -> None:
    """The noted pods are gone (or terminating), and the app has as many live pods as
    its Deployment wants, all Running and Ready on other nodes, some of them new."""
    try:
        node, noted = world.memory[f"noted pods {namespace}/{app}"]
    except KeyError:
        raise AssertionError(f"the pods of {app} in {namespace} were not noted") from None
    pods = _core(world).list_namespaced_pod(namespace, label_selector=f"app={app}").items
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    still = sorted(p.metadata.name for p in live if p.metadata.name in noted)
    if still:
        raise AssertionError(f"the pods {still} still run (on {node})")
    on_node = sorted(p.metadata.name for p in live if p.spec.node_name == node)
    ready = [
        p
        for p in live
        if p.status.phase == "Running"
        and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
    ]
    wanted = _apps(world).read_namespaced_deployment(app, namespace).spec.replicas
    if on_node or len(ready) != wanted or len(live) != wanted:
        placed = {p.metadata.name: (p.spec.node_name, p.status.phase) for p in live}
        raise AssertionError(
            f"{app} wants {wanted} pods; {len(ready)} of {len(live)} live ones are Ready, "
            f"{on_node} are on {node}: {placed}"
        )


@then(
    'the execution was running when the node "{node}" went NotReady',
    example='Then the execution was running when the node "last" went NotReady',
)
@async_step
async def ran_across_failure(world: World, node: str) -> None:
    """The profile's timed NotReady event for the node fired after the last execution
    started and before it finished."""
    state = await world.wait_for(world.execution_id())
    sim = world.bed().cluster()
    name = sim.node(node)
    fired = [t for t, e in sim.fired if e.event == "NotReady" and sim.node(e.node) == name]
    started, finished = state.execution.started_at, state.execution.finished_at
    assert started is not None
    assert finished is not None
    if not fired:
        raise AssertionError(
            f"node {name} had not gone NotReady when the execution finished at "
            f"{finished - sim.t0:g}s (it ran from {started - sim.t0:g}s)"
        )
    if not started < fired[0] < finished:
        raise AssertionError(
            f"node {name} went NotReady at {fired[0] - sim.t0:g}s; the execution ran from "
            f"{started - sim.t0:g}s to {finished - sim.t0:g}s"
        )


# -- tenants ---------------------------------------------------------------------------


@then(
    "the only deployments whose spec changed are:",
    example="Then the only deployments whose spec changed are:\n  | namespace | name | replicas |",
)
def only_these_changed(world: World, datatable: list[list[str]]) -> None:
    """Against the noted Deployments: exactly the listed ones changed (generation, replicas,
    labels or annotations), each now with those replicas; none appeared or vanished."""
    before = world.memory.get("noted_deployments")
    if before is None:
        raise AssertionError("the deployments were not noted before (add the noting step)")
    after = _deployment_marks(world)
    wanted = {(r["namespace"], r["name"]): int(r["replicas"]) for r in _table(datatable)}
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    problems = []
    for key in sorted(changed - wanted.keys()):
        problems.append(f"{key[0]}/{key[1]} changed: {before.get(key)} -> {after.get(key)}")
    for key, replicas in sorted(wanted.items()):
        if key not in changed:
            problems.append(f"{key[0]}/{key[1]} did not change")
        elif after.get(key) is None or after[key][1] != replicas:
            got = None if after.get(key) is None else after[key][1]
            problems.append(f"{key[0]}/{key[1]} has {got} replicas, expected {replicas}")
    if problems:
        raise AssertionError("deployments changed unexpectedly:\n" + "\n".join(problems))
