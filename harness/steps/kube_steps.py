"""Steps that check what the Kubernetes actions did to the cluster, pod by pod.

The cluster steps (``cluster_steps``) read counts; these read identities and moments:
which pods a deployment ran before a step (remembered by uid), which of them are still
running afterwards and which are new, what the new ones request and which ReplicaSet
they come from, and -- through a watch of the cluster, in virtual time -- how many pods
of an app were Ready at every moment while a drain ran, against what its
PodDisruptionBudget requires. Everything is read through the official ``kubernetes``
client (the sync one for reads, the ``kubernetes.aio`` one for the watch), as an
operator's tooling would read it.

A pod counts as Ready when it is Running, its Ready condition is True and it is not
being deleted (a terminating pod serves no traffic and a budget does not count it).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes.aio import client as aio_client
from kubernetes.aio import watch as aio_watch

from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then, when
from harness.world import World

REMEMBERED = "kube.remembered_pods"
WATCHES = "kube.ready_watches"
TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def _core(world: World) -> Any:
    return k8s.CoreV1Api(world.bed().sync_api_client)


def _apps(world: World) -> Any:
    return k8s.AppsV1Api(world.bed().sync_api_client)


def _policy(world: World) -> Any:
    return k8s.PolicyV1Api(world.bed().sync_api_client)


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _live(pods: list[Any]) -> list[Any]:
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def _ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or pod.status.phase != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or ())


def _deployment_pods(world: World, name: str, namespace: str) -> tuple[Any, list[Any]]:
    """The deployment and its live (not terminating) pods, by its own selector."""
    dep = _apps(world).read_namespaced_deployment(name, namespace)
    selector = _selector(dep.spec.selector.match_labels)
    pods = _core(world).list_namespaced_pod(namespace, label_selector=selector).items
    return dep, _live(pods)


def _remembered(world: World, name: str, namespace: str) -> dict[str, str]:
    kept: dict[tuple[str, str], dict[str, str]] = world.memory.get(REMEMBERED, {})
    try:
        return kept[(namespace, name)]
    except KeyError:
        raise AssertionError(
            f"the pods of deployment {namespace}/{name} were not remembered: add "
            f'\'Given I remember the pods of the deployment "{name}" in "{namespace}"\' '
            "before the step that changes them"
        ) from None


def _describe(pods: list[Any]) -> str:
    return ", ".join(
        f"{p.metadata.name}@{p.spec.node_name}({p.status.phase}{', Ready' if _ready(p) else ''})"
        for p in sorted(pods, key=lambda p: p.metadata.name)
    )


# -- remembering -----------------------------------------------------------------------


def _remember(world: World, name: str, namespace: str) -> None:
    _, pods = _deployment_pods(world, name, namespace)
    if not pods:
        raise AssertionError(f"deployment {namespace}/{name} has no live pods to remember")
    world.memory.setdefault(REMEMBERED, {})[(namespace, name)] = {
        p.metadata.uid: p.metadata.name for p in pods
    }


@given(
    'I remember the pods of the deployment "{name}" in "{namespace}"',
    example='Given I remember the pods of the deployment "api-gateway" in "default"',
)
def remember_pods(world: World, name: str, namespace: str) -> None:
    """Note the uids and names of the deployment's live pods now, for later comparison."""
    _remember(world, name, namespace)


@when(
    'I note the pods of the deployment "{name}" in "{namespace}"',
    example='When I note the pods of the deployment "api-gateway" in "default"',
)
def note_pods(world: World, name: str, namespace: str) -> None:
    """The same as remembering them, between two When steps (replaces what was noted)."""
    _remember(world, name, namespace)


# -- pods kept and replaced ------------------------------------------------------------


@then(
    'the deployment "{name}" in "{namespace}" kept {kept:d} of the remembered pods and runs '
    "{new:d} new ones, all Running and Ready",
    example='Then the deployment "api-gateway" in "default" kept 0 of the remembered pods '
    "and runs 5 new ones, all Running and Ready",
)
def kept_and_new(world: World, name: str, namespace: str, kept: int, new: int) -> None:
    """Live pods whose uid was remembered (kept) and the others (new); every one Ready.

    Counted by uid, so a pod recreated under the same name (a StatefulSet's) is new.
    The deployment's spec and ready replicas must equal kept + new as well.
    """
    remembered = _remembered(world, name, namespace)
    dep, pods = _deployment_pods(world, name, namespace)
    still = [p for p in pods if p.metadata.uid in remembered]
    fresh = [p for p in pods if p.metadata.uid not in remembered]
    problems = []
    if len(still) != kept:
        problems.append(
            f"{len(still)} of the {len(remembered)} remembered pods still run "
            f"({sorted(p.metadata.name for p in still)}), expected {kept}"
        )
    if len(fresh) != new:
        problems.append(f"{len(fresh)} new pods run, expected {new}")
    not_ready = [p.metadata.name for p in pods if not _ready(p)]
    if not_ready:
        problems.append(f"pods not Running and Ready: {not_ready}")
    ready = dep.status.ready_replicas or 0
    if dep.spec.replicas != kept + new or ready != kept + new:
        problems.append(f"the deployment wants {dep.spec.replicas} replicas, {ready} ready")
    if problems:
        raise AssertionError(
            f"deployment {namespace}/{name}: " + "; ".join(problems) + f". Pods: {_describe(pods)}"
        )


@then(
    'none of the new pods of the deployment "{name}" in "{namespace}" runs on the node "{node}"',
    example='Then none of the new pods of the deployment "api-gateway" in "default" runs on '
    'the node "first"',
)
def new_pods_avoid(world: World, name: str, namespace: str, node: str) -> None:
    """Pods created since the remembering are placed elsewhere (there must be some)."""
    node_name = world.bed().cluster().node(node)
    remembered = _remembered(world, name, namespace)
    _, pods = _deployment_pods(world, name, namespace)
    fresh = [p for p in pods if p.metadata.uid not in remembered]
    if not fresh:
        raise AssertionError(f"deployment {namespace}/{name} has no new pods to check")
    on_it = sorted(p.metadata.name for p in fresh if p.spec.node_name == node_name)
    if on_it:
        raise AssertionError(f"new pods {on_it} were placed on node {node_name}")


@then(
    'the pods of the deployment "{name}" in "{namespace}" come from the ReplicaSet of the '
    "remembered pods",
    example='Then the pods of the deployment "api-gateway" in "default" come from the '
    "ReplicaSet of the remembered pods",
)
def same_replica_set(world: World, name: str, namespace: str) -> None:
    """Every live pod carries the pod-template-hash the remembered pods carried."""
    remembered = _remembered(world, name, namespace)
    hashes = {n.rsplit("-", 2)[-2] for n in remembered.values() if n.count("-") >= 2}
    _, pods = _deployment_pods(world, name, namespace)
    got = {(p.metadata.labels or {}).get(TEMPLATE_HASH) for p in pods}
    if len(hashes) != 1 or got != hashes:
        raise AssertionError(
            f"deployment {namespace}/{name} runs pods of template hashes {sorted(map(str, got))}; "
            f"the remembered pods had {sorted(hashes)}"
        )


@then(
    'the deployment "{name}" in "{namespace}" is at revision {revision:d}',
    example='Then the deployment "api-gateway" in "default" is at revision 3',
)
def at_revision(world: World, name: str, namespace: str, revision: int) -> None:
    """The ``deployment.kubernetes.io/revision`` the deployment controller wrote."""
    dep = _apps(world).read_namespaced_deployment(name, namespace)
    found = (dep.metadata.annotations or {}).get(REVISION)
    if found != str(revision):
        raise AssertionError(f"deployment {namespace}/{name} is at revision {found}")


@then(
    'the deployment "{name}" in "{namespace}" and each of its pods request "{cpu}" CPU and '
    '"{memory}" memory',
    example='Then the deployment "redis-cache" in "default" and each of its pods request '
    '"250m" CPU and "256Mi" memory',
)
def requests_are(world: World, name: str, namespace: str, cpu: str, memory: str) -> None:
    """The pod template's first container requests, and every live pod's."""
    dep, pods = _deployment_pods(world, name, namespace)
    want = {"cpu": cpu, "memory": memory}

    def requests(spec: Any) -> dict[str, str]:
        resources = spec.containers[0].resources
        return dict((resources.requests if resources else None) or {})

    wrong = {p.metadata.name: requests(p.spec) for p in pods if requests(p.spec) != want}
    template = requests(dep.spec.template.spec)
    if template != want or wrong or not pods:
        raise AssertionError(
            f"deployment {namespace}/{name} template requests {template}; pods requesting "
            f"otherwise: {wrong or 'none'}; expected {want} ({len(pods)} live pods)"
        )


@then(
    'the pod deleted by the step "{step_id}" is gone and the pod in its output "{key}" is new, '
    "Running and Ready",
    example='Then the pod deleted by the step "delete" is gone and the pod in its output '
    '"replacement" is new, Running and Ready',
)
@async_step
async def deleted_and_replaced(world: World, step_id: str, key: str) -> None:
    """The step's ``pod``/``uid`` outputs name a pod no longer live; ``key`` a new Ready one."""
    state = await world.wait_for(world.execution_id())
    outputs = dict(state.step(step_id).outputs or {})
    namespace = outputs.get("namespace", "default")
    if "uid" not in outputs or key not in outputs:
        raise AssertionError(f"step {step_id!r} outputs lack 'uid' or {key!r}: {outputs}")
    pods = _core(world).list_namespaced_pod(namespace).items
    by_uid = {p.metadata.uid: p for p in pods}
    victim = by_uid.get(outputs["uid"])
    if victim is not None and victim.metadata.deletion_timestamp is None:
        raise AssertionError(f"pod {outputs.get('pod')} ({outputs['uid']}) is still live")
    live = {p.metadata.name: p for p in _live(pods)}
    replacement = live.get(str(outputs[key]))
    if replacement is None or not _ready(replacement):
        raise AssertionError(
            f"step {step_id!r} names {outputs[key]!r} as {key}, which is "
            f"{'not a live pod' if replacement is None else 'not Running and Ready'}"
        )
    if replacement.metadata.uid == outputs["uid"]:
        raise AssertionError(f"{key} {outputs[key]!r} is the deleted pod itself")


@when(
    'I run the workflow "{name}" with the input "{key}" naming a remembered pod of the '
    'deployment "{deployment}" in "{namespace}"',
    example='When I run the workflow "delete-one" with the input "pod" naming a remembered pod '
    'of the deployment "api-gateway" in "default"',
)
@async_step
async def run_on_remembered_pod(
    world: World, name: str, key: str, deployment: str, namespace: str
) -> None:
    """Submit with ``inputs[key]`` = the first remembered pod by name; wait until it ends."""
    remembered = _remembered(world, deployment, namespace)
    pod = sorted(remembered.values())[0]
    execution_id = await world.bed().engine.submit(world.template(name), {key: pod})
    world.remember(execution_id)
    await world.wait_for(execution_id)


# -- whole namespaces and nodes --------------------------------------------------------


@then(
    'no pod in "{namespace}" runs on the node "{node}"',
    example='Then no pod in "default" runs on the node "first"',
)
def namespace_off_node(world: World, namespace: str, node: str) -> None:
    """No live pod of the namespace is bound to the node."""
    node_name = world.bed().cluster().node(node)
    pods = (
        _core(world)
        .list_namespaced_pod(namespace, field_selector=f"spec.nodeName={node_name}")
        .items
    )
    on_it = sorted(p.metadata.name for p in _live(pods))
    if on_it:
        raise AssertionError(f"pods {on_it} still run on node {node_name}")


@then(
    'every deployment in "{namespace}" has all its replicas Running and Ready',
    example='Then every deployment in "default" has all its replicas Running and Ready',
)
def all_deployments_ready(world: World, namespace: str) -> None:
    """For each deployment: its spec replicas, ready replicas and Ready live pods agree."""
    wrong = []
    for dep in _apps(world).list_namespaced_deployment(namespace).items:
        _, pods = _deployment_pods(world, dep.metadata.name, namespace)
        ready = [p for p in pods if _ready(p)]
        want = dep.spec.replicas
        if len(ready) != want or (dep.status.ready_replicas or 0) != want:
            wrong.append(
                f"{dep.metadata.name}: wants {want}, status ready "
                f"{dep.status.ready_replicas or 0}, Ready pods {len(ready)} of {len(pods)}"
            )
    if wrong:
        raise AssertionError(f"deployments of {namespace} not fully Ready: " + "; ".join(wrong))


# -- disruption budgets and watching readiness -----------------------------------------


@given(
    'the PodDisruptionBudget "{name}" in "{namespace}" allows no disruption',
    example='Given the PodDisruptionBudget "redis-cache" in "default" allows no disruption',
)
def budget_allows_none(world: World, name: str, namespace: str) -> None:
    """An operator tightens the budget to ``maxUnavailable: 0`` (through the API)."""
    _policy(world).patch_namespaced_pod_disruption_budget(
        name, namespace, {"spec": {"maxUnavailable": 0, "minAvailable": None}}
    )


def _required(world: World, app: str, namespace: str) -> tuple[int, str]:
    """How many pods of ``app`` the budget selecting them requires Ready, and why."""
    budgets = _policy(world).list_namespaced_pod_disruption_budget(namespace).items
    mine = [b for b in budgets if (b.spec.selector.match_labels or {}).get("app") == app]
    if len(mine) != 1:
        raise AssertionError(f"expected one PodDisruptionBudget for app {app}, found {len(mine)}")
    spec = mine[0].spec
    dep = _apps(world).read_namespaced_deployment(app, namespace)
    replicas = int(dep.spec.replicas)

    def count(value: Any, *, up: bool) -> int:
        if isinstance(value, str) and value.endswith("%"):
            share = replicas * int(value[:-1]) / 100
            return math.ceil(share) if up else math.floor(share)
        return int(value)

    if spec.min_available is not None:
        return count(spec.min_available, up=True), f"minAvailable {spec.min_available}"
    unavailable = count(spec.max_unavailable, up=True)
    return replicas - unavailable, f"maxUnavailable {spec.max_unavailable} of {replicas}"


@dataclass
class ReadyWatch:
    """Ready pods of one app at every moment a watch reported, in loop time."""

    app: str
    namespace: str
    ready: dict[str, bool] = field(default_factory=dict)
    timeline: list[tuple[float, int]] = field(default_factory=list)
    events: int = 0
    task: asyncio.Task[None] | None = None
    error: BaseException | None = None

    def record(self, uid: str, ready: bool | None) -> None:
        if ready is None:
            self.ready.pop(uid, None)
        else:
            self.ready[uid] = ready
        count = sum(self.ready.values())
        if not self.timeline or self.timeline[-1][1] != count:
            self.timeline.append((asyncio.get_running_loop().time(), count))


async def _follow(watch: ReadyWatch, api: Any, version: str) -> None:
    """Follow the pods' watch from ``version``; list afresh if the server says 410."""
    selector = f"app={watch.app}"
    while True:
        try:
            stream: Any = aio_watch.Watch()  # type: ignore[no-untyped-call]
            async with stream.stream(
                api.list_namespaced_pod,
                watch.namespace,
                label_selector=selector,
                resource_version=version,
                allow_watch_bookmarks=True,
                timeout_seconds=3600,
            ) as events:
                async for event in events:
                    if event["type"] == "BOOKMARK":
                        continue
                    pod = event["object"]
                    version = pod.metadata.resource_version
                    watch.events += 1
                    gone = event["type"] == "DELETED"
                    watch.record(pod.metadata.uid, None if gone else _ready(pod))
        except aio_client.ApiException as exc:
            if exc.status != 410:
                raise
            listed: Any = await api.list_namespaced_pod(watch.namespace, label_selector=selector)
            watch.ready = {p.metadata.uid: _ready(p) for p in listed.items}
            version = listed.metadata.resource_version


@when(
    'I watch the Ready pods of "{app}" in "{namespace}"',
    example='When I watch the Ready pods of "user-service" in "default"',
)
@async_step
async def watch_ready(world: World, app: str, namespace: str) -> None:
    """List the app's pods now, then follow the cluster's watch for the rest of the scenario.

    The watch runs on the scenario's loop, so it sees every change while later steps
    let virtual time pass; nothing polls.
    """
    api = aio_client.CoreV1Api(world.bed().api_client)
    listed: Any = await api.list_namespaced_pod(namespace, label_selector=f"app={app}")
    watch = ReadyWatch(app, namespace)
    watch.ready = {p.metadata.uid: _ready(p) for p in listed.items}
    watch.timeline.append((asyncio.get_running_loop().time(), sum(watch.ready.values())))
    version = listed.metadata.resource_version

    async def run() -> None:
        try:
            await _follow(watch, api, version)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # kept for the Then step to report
            watch.error = exc

    watch.task = asyncio.get_running_loop().create_task(run())
    world.memory.setdefault(WATCHES, {})[(namespace, app)] = watch
    await asyncio.sleep(0)


@then(
    'while watched, the Ready pods of "{app}" in "{namespace}" went down to {low:d} but never '
    "below what its PodDisruptionBudget requires",
    example='Then while watched, the Ready pods of "user-service" in "default" went down to 6 '
    "but never below what its PodDisruptionBudget requires",
)
@async_step
async def never_below_budget(world: World, app: str, namespace: str, low: int) -> None:
    """The lowest Ready count the watch saw is ``low``, and ``low`` meets the budget.

    ``low`` shows the drain really pressed on the budget (a watch that saw nothing
    would trivially pass "never below").
    """
    watches: dict[tuple[str, str], ReadyWatch] = world.memory.get(WATCHES, {})
    watch = watches.get((namespace, app))
    if watch is None:
        raise AssertionError(
            f'no watch of {app} in {namespace}: add \'When I watch the Ready pods of "{app}" '
            f'in "{namespace}"\' before the step that disrupts it'
        )
    await asyncio.sleep(0)
    if watch.error is not None:
        raise AssertionError(f"the watch of {app} in {namespace} failed: {watch.error!r}")
    required, why = _required(world, app, namespace)
    lowest = min(count for _, count in watch.timeline)
    t0 = world.bed().t0
    seen = ", ".join(f"{count}@{t - t0:.1f}s" for t, count in watch.timeline)
    if lowest < required:
        raise AssertionError(
            f"{app} in {namespace} dropped to {lowest} Ready pods; its PodDisruptionBudget "
            f"({why}) requires {required}. Ready pods over time: {seen}"
        )
    if lowest != low:
        raise AssertionError(
            f"{app} in {namespace} went down to {lowest} Ready pods, expected {low} "
            f"(budget: {why} -> {required}); {watch.events} watch events. Over time: {seen}"
        )
    if low < required:
        raise AssertionError(f"expected low {low} is itself below the budget's {required}")


@then(
    'the step "{step_id}" had evictions refused by a PodDisruptionBudget',
    example='Then the step "drain" had evictions refused by a PodDisruptionBudget',
)
@async_step
async def evictions_refused(world: World, step_id: str) -> None:
    """The drain's ``eviction_refusals`` output is at least one: a budget made it wait."""
    state = await world.wait_for(world.execution_id())
    outputs = dict(state.step(step_id).outputs or {})
    if int(outputs.get("eviction_refusals") or 0) < 1:
        raise AssertionError(f"step {step_id!r} saw no refused eviction: {outputs}")


@then(
    'the pods of "{app}" in "{namespace}" that ran on the node "{node}" still run there, Ready',
    example='Then the pods of "redis-cache" in "default" that ran on the node "first" still '
    "run there, Ready",
)
def still_on_node(world: World, app: str, namespace: str, node: str) -> None:
    """The remembered pods of deployment ``app`` on the node are the same live, Ready pods."""
    node_name = world.bed().cluster().node(node)
    remembered = _remembered(world, app, namespace)
    _, pods = _deployment_pods(world, app, namespace)
    here = [p for p in pods if p.spec.node_name == node_name]
    kept = [p for p in here if p.metadata.uid in remembered and _ready(p)]
    if not here or len(kept) != len(here):
        raise AssertionError(
            f"on node {node_name}, {app} runs {_describe(here) or 'nothing'}; expected its "
            f"remembered pods, Ready"
        )
