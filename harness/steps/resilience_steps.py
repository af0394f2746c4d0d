"""Steps for resilience scenarios: faults ridden out, nodes and pods read back, tenants.

They check, from the records an operator would read, that a workflow rode out what the
scenario did to the cluster: the engine's step records (retries and the waits between
them against the server's Retry-After, fault windows), and the cluster's state and
event history read back through the official ``kubernetes`` client (pods placed and
Ready, FailedScheduling and FailedCreate events, node allocations, which deployments
changed). Fault windows and node failures come from the scenario's own cluster
(``world.bed().cluster()``): its profile and the timed events it fired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kubernetes import client as k8s

from engine import ExecutionState, StepRecord
from engine.quantity import format_quantity, parse_quantity
from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import then, when
from harness.steps.reading import all_final as _all_final
from harness.steps.reading import apps_api as _apps
from harness.steps.reading import core_api as _core
from harness.steps.reading import deployment_marks as _deployment_marks
from harness.steps.reading import step_record as _step
from harness.steps.reading import table_rows as _table
from harness.world import World

TOLERANCE = 1e-6
_RETRY_AFTER = re.compile(r"server asks to retry after ([0-9.]+)s")
_STATUS = re.compile(r": (\d{3}) [A-Za-z]+")


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
