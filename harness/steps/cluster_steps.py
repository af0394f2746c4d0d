"""Steps that choose the cluster, break it on cue, and read its state back.

The profile step builds the scenario's testbed; without one, the first step that needs
a testbed builds the ``--scenario`` profile. Faults go through the simulated cluster's
fault injector (API errors, throttling, latency) and its node lifecycle (NotReady,
cordon); they are seeded, so a scenario breaks the same way every run. Cluster state is
read back through the official ``kubernetes`` client, as a user's tooling would read it,
so a scenario checks what the cluster *is*, not what the engine says it did.
Node references accept a name or ``first``/``last`` (the profile's first or last node).
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from harness.steps.asyncio_steps import async_step
from harness.steps.catalog import given, then, when
from harness.world import World


def _core(world: World) -> Any:
    return k8s.CoreV1Api(world.bed().sync_api_client)


def _apps(world: World) -> Any:
    return k8s.AppsV1Api(world.bed().sync_api_client)


def _node(world: World, ref: str) -> str:
    return world.bed().cluster().node(ref)


# -- choosing the cluster --------------------------------------------------------------


@given("the {profile:w} cluster", example="Given the HighLoadProduction cluster")
def the_cluster(world: World, profile: str) -> None:
    """Build the scenario's testbed on this profile (its cluster settled, its engine up)."""
    world.use_profile(profile)


# -- faults ----------------------------------------------------------------------------


def _match(verb: str, resource: str, namespace: str | None = None) -> dict[str, Any]:
    match: dict[str, Any] = {"verb": None if verb == "all" else verb}
    match["resource"] = None if resource == "anything" else resource
    if namespace:
        match["namespace"] = namespace
    return match


@given(
    "the API server fails the next {times:d} {verb:w} requests for {resource:w} with {code:d}",
    example="Given the API server fails the next 2 patch requests for deployments with 500",
)
def api_errors(world: World, times: int, verb: str, resource: str, code: int) -> None:
    """The next ``times`` matching requests get ``code`` (``all`` verbs, ``anything``)."""
    world.bed().cluster().faults.error(code, times=times, **_match(verb, resource))


@given(
    "the API server throttles the next {times:d} {verb:w} requests for {resource:w} "
    "asking to retry after {seconds:d} seconds",
    example="Given the API server throttles the next 3 patch requests for deployments "
    "asking to retry after 5 seconds",
)
def api_throttles(world: World, times: int, verb: str, resource: str, seconds: int) -> None:
    """429 Too Many Requests with a Retry-After header, for the next ``times`` requests."""
    world.bed().cluster().faults.error(
        429, times=times, retry_after=seconds, **_match(verb, resource)
    )


@given(
    "the API server answers {verb:w} requests for {resource:w} {seconds:g} seconds late",
    example="Given the API server answers get requests for deployments 2 seconds late",
)
def api_latency(world: World, verb: str, resource: str, seconds: float) -> None:
    """Every matching request is delayed by that many virtual seconds."""
    world.bed().cluster().faults.latency(seconds, **_match(verb, resource))


@given(
    "the API server is down from {start:g} to {end:g} seconds from now",
    example="Given the API server is down from 0 to 60 seconds from now",
)
def api_outage(world: World, start: float, end: float) -> None:
    """Every request in that window of virtual time answers 503."""
    loop_now = world.loop.time()
    world.bed().cluster().faults.outage(loop_now + start, loop_now + end)


@when(
    'the node "{node}" stops reporting Ready', example='When the node "last" stops reporting Ready'
)
def node_not_ready(world: World, node: str) -> None:
    """The node's kubelet stops posting status; the node lifecycle takes it from there."""
    world.bed().cluster().set_node_ready(_node(world, node), False)


@when('the node "{node}" reports Ready again', example='When the node "last" reports Ready again')
def node_ready(world: World, node: str) -> None:
    """The node's kubelet posts Ready again."""
    world.bed().cluster().set_node_ready(_node(world, node), True)


@when(
    'an operator scales the deployment "{name}" in "{namespace}" to {replicas:d}',
    example='When an operator scales the deployment "worker" in "default" to 1',
)
def operator_scales(world: World, name: str, namespace: str, replicas: int) -> None:
    """Someone else changes the cluster while the scenario runs (through the API)."""
    _apps(world).patch_namespaced_deployment_scale(
        name, namespace, {"spec": {"replicas": replicas}}
    )


@when("the cluster settles", example="When the cluster settles")
@async_step
async def cluster_settles(world: World) -> None:
    """Wait (virtual time) until the controllers have no work left."""
    await world.bed().cluster().settle()


# -- reading the cluster back ----------------------------------------------------------


@then(
    'the deployment "{name}" in "{namespace}" has {count:d} ready replicas',
    example='Then the deployment "api" in "default" has 5 ready replicas',
)
def ready_replicas(world: World, name: str, namespace: str, count: int) -> None:
    """Spec replicas and ready replicas, as the cluster reports them now."""
    dep = _apps(world).read_namespaced_deployment(name, namespace)
    ready = dep.status.ready_replicas or 0
    if dep.spec.replicas != count or ready != count:
        raise AssertionError(
            f"deployment {namespace}/{name} wants {dep.spec.replicas} replicas, "
            f"{ready} ready; expected {count} and {count}"
        )


@then(
    'the deployment "{name}" in "{namespace}" runs the image "{image}"',
    example='Then the deployment "api" in "default" runs the image "nginx:1.25"',
)
def runs_image(world: World, name: str, namespace: str, image: str) -> None:
    """The pod template's first container image, and every live pod's."""
    dep = _apps(world).read_namespaced_deployment(name, namespace)
    template_image = dep.spec.template.spec.containers[0].image
    pods = _pods(world, namespace, dep.spec.selector.match_labels)
    images = {p.spec.containers[0].image for p in pods}
    if template_image != image or images != {image}:
        raise AssertionError(
            f"deployment {namespace}/{name} template runs {template_image!r}, pods run {images}"
        )


def _pods(world: World, namespace: str, labels: dict[str, str]) -> list[Any]:
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = _core(world).list_namespaced_pod(namespace, label_selector=selector).items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


@then(
    'no pod of "{app}" in "{namespace}" runs on the node "{node}"',
    example='Then no pod of "api-gateway" in "default" runs on the node "last"',
)
def no_pod_on(world: World, app: str, namespace: str, node: str) -> None:
    """Live pods labelled ``app=APP`` are all placed on other nodes."""
    name = _node(world, node)
    on_it = [
        p.metadata.name for p in _pods(world, namespace, {"app": app}) if p.spec.node_name == name
    ]
    if on_it:
        raise AssertionError(f"pods {on_it} still run on node {name}")


@then(
    'the pods of "{app}" in "{namespace}" are {count:d} Running and Ready',
    example='Then the pods of "api" in "default" are 5 Running and Ready',
)
def pods_ready(world: World, app: str, namespace: str, count: int) -> None:
    """How many live pods of the app are Running with the Ready condition True."""
    pods = _pods(world, namespace, {"app": app})
    ready = [
        p.metadata.name
        for p in pods
        if p.status.phase == "Running"
        and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
    ]
    if len(ready) != count:
        phases = {p.metadata.name: p.status.phase for p in pods}
        raise AssertionError(f"{len(ready)} of the pods of {app} are Running and Ready: {phases}")


@then(
    'the node "{node}" is unschedulable',
    example='Then the node "first" is unschedulable',
)
def node_unschedulable(world: World, node: str) -> None:
    """The node is cordoned, as the cluster reports it."""
    name = _node(world, node)
    if not _core(world).read_node(name).spec.unschedulable:
        raise AssertionError(f"node {name} is schedulable")


@then(
    'the node "{node}" is schedulable',
    example='Then the node "first" is schedulable',
)
def node_schedulable(world: World, node: str) -> None:
    """The node is not cordoned."""
    name = _node(world, node)
    if _core(world).read_node(name).spec.unschedulable:
        raise AssertionError(f"node {name} is cordoned")


@then(
    'the node "{node}" has the condition Ready "{status}"',
    example='Then the node "last" has the condition Ready "Unknown"',
)
def node_condition(world: World, node: str, status: str) -> None:
    """The node's Ready condition status (True, False, Unknown)."""
    name = _node(world, node)
    conditions = _core(world).read_node(name).status.conditions or []
    found = next((c.status for c in conditions if c.type == "Ready"), None)
    if found != status:
        raise AssertionError(f"node {name} Ready is {found}, not {status}")


@then(
    'the quota of "{namespace}" shows {used} {resource} used',
    example='Then the quota of "default" shows 10 pods used',
)
def quota_used(world: World, namespace: str, used: str, resource: str) -> None:
    """The ResourceQuota's ``status.used`` for one resource, as the quota controller keeps it."""
    quotas = _core(world).list_namespaced_resource_quota(namespace).items
    if not quotas:
        raise AssertionError(f"namespace {namespace} has no ResourceQuota")
    values = {k: v for q in quotas for k, v in (q.status.used or {}).items()}
    if values.get(resource) != used:
        raise AssertionError(f"quota of {namespace} shows {resource} used {values.get(resource)}")


@then(
    'the quota of "{namespace}" is not exceeded',
    example='Then the quota of "default" is not exceeded',
)
def quota_respected(world: World, namespace: str) -> None:
    """Every resource's usage is within its hard limit (read from the pods, not the quota)."""
    from engine.quantity import parse_quantity

    quotas = _core(world).list_namespaced_resource_quota(namespace).items
    pods = [
        p
        for p in _core(world).list_namespaced_pod(namespace).items
        if p.status.phase not in ("Succeeded", "Failed")
    ]
    usage: dict[str, Any] = {"pods": len(pods), "requests.cpu": 0, "requests.memory": 0}
    for pod in pods:
        for c in pod.spec.containers:
            requests = (c.resources.requests if c.resources else None) or {}
            usage["requests.cpu"] += parse_quantity(requests.get("cpu", "0"))
            usage["requests.memory"] += parse_quantity(requests.get("memory", "0"))
    usage["cpu"], usage["memory"] = usage["requests.cpu"], usage["requests.memory"]
    over = []
    for quota in quotas:
        for resource, hard in (quota.spec.hard or {}).items():
            if resource in usage and usage[resource] > parse_quantity(hard):
                over.append(f"{resource}: {usage[resource]} > {hard}")
    if over:
        raise AssertionError(f"namespace {namespace} is over its quota: {over}")
