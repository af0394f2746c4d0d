"""Steps that break workloads the way real clusters do: images that cannot be pulled,
probes that fail, rollouts that stall -- and read the result back.

Faults go to the simulated kubelets (``sim.images``, ``sim.probes`` of the scenario's
cluster): an unpullable image leaves its pods Pending in ErrImagePull/ImagePullBackOff,
a failing readiness probe keeps pods Running but not Ready, a failing liveness probe
restarts containers into CrashLoopBackOff. A rollout that cannot finish reports
``Progressing`` False with ``ProgressDeadlineExceeded`` after the Deployment's
``progressDeadlineSeconds`` of virtual time (600 unless set). Pods are "the pods of
APP" by their ``app`` label, as the profiles label them; state is read back through
the official ``kubernetes`` client.
"""

from __future__ import annotations

from typing import Any, Literal

from kubernetes import client as k8s

from harness.steps.catalog import given, then, when
from harness.world import World

_PULLING = ("ErrImagePull", "ImagePullBackOff")

Probe = Literal["readiness", "liveness"]


def _core(world: World) -> Any:
    return k8s.CoreV1Api(world.bed().sync_api_client)


def _apps(world: World) -> Any:
    return k8s.AppsV1Api(world.bed().sync_api_client)


def _pods(world: World, app: str, namespace: str) -> list[Any]:
    pods = _core(world).list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def _waiting_reasons(pod: Any) -> list[str]:
    return [
        cs.state.waiting.reason
        for cs in pod.status.container_statuses or ()
        if cs.state is not None and cs.state.waiting is not None
    ]


def _probe(kind: str) -> Probe:
    if kind == "readiness":
        return "readiness"
    if kind == "liveness":
        return "liveness"
    raise AssertionError(f"{kind!r} is not a probe the simulation fails: say readiness or liveness")


# -- images ----------------------------------------------------------------------------


@given(
    'the image "{image}" cannot be pulled',
    example='Given the image "nginx:broken" cannot be pulled',
)
def image_unpullable(world: World, image: str) -> None:
    """Pulls of that image fail from now on (pods already running keep running)."""
    world.bed().cluster().images.unpullable(image)


@given(
    'images matching "{pattern}" cannot be pulled',
    example='Given images matching "registry.example/private/*" cannot be pulled',
)
def images_unpullable(world: World, pattern: str) -> None:
    """A glob on the image reference (``*:broken``), as written or fully qualified."""
    world.bed().cluster().images.unpullable(pattern)


@when(
    'the image "{image}" can be pulled again',
    example='When the image "nginx:broken" can be pulled again',
)
def image_pullable(world: World, image: str) -> None:
    """The next pull retry of each waiting pod succeeds (within its back-off, up to 5 min)."""
    world.bed().cluster().images.pullable(image)


# -- probes ----------------------------------------------------------------------------


@given(
    'the {probe:w} probe of the pods of "{app}" in "{namespace}" fails',
    example='Given the readiness probe of the pods of "api-gateway" in "default" fails',
)
def probe_fails(world: World, probe: str, app: str, namespace: str) -> None:
    """Readiness: Running but not Ready; liveness: killed and restarted. Only containers
    that have such a probe fail it."""
    world.bed().cluster().probes.fail(
        _probe(probe),
        namespace=namespace,
        labels={"app": app},
    )


@given(
    'the {probe:w} probe of {percent:d}% of the pods of "{app}" in "{namespace}" fails',
    example='Given the readiness probe of 40% of the pods of "user-service" in "default" fails',
)
def probe_fails_for_a_share(
    world: World, probe: str, percent: int, app: str, namespace: str
) -> None:
    """That share of the pods, picked by the scenario's seed (the same pods every run)."""
    if not 0 <= percent <= 100:
        raise AssertionError(f"{percent}% is not a share of pods: say 0 to 100")
    world.bed().cluster().probes.fail(
        _probe(probe),
        namespace=namespace,
        labels={"app": app},
        share=percent / 100,
    )


@when(
    'the {probe:w} probe of the pods of "{app}" in "{namespace}" passes again',
    example='When the readiness probe of the pods of "api-gateway" in "default" passes again',
)
def probe_passes(world: World, probe: str, app: str, namespace: str) -> None:
    """Every rule failing that probe for those pods is removed; the next probe passes."""
    probes = world.bed().cluster().probes
    kind = _probe(probe)
    for rule in [
        r
        for r in probes.rules
        if r.probe == kind and r.namespace == namespace and r.labels == {"app": app}
    ]:
        probes.remove(rule)


# -- rollouts --------------------------------------------------------------------------


@when(
    'an operator rolls out the image "{image}" to the deployment "{name}" in "{namespace}"',
    example='When an operator rolls out the image "nginx:broken" to the deployment '
    '"api-gateway" in "default"',
)
def operator_rolls_out(world: World, image: str, name: str, namespace: str) -> None:
    """Set the first container's image through the API, as ``kubectl set image`` does."""
    apps = _apps(world)
    dep = apps.read_namespaced_deployment(name, namespace)
    container = dep.spec.template.spec.containers[0].name
    patch = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}
    apps.patch_namespaced_deployment(name, namespace, patch)


# -- reading back ----------------------------------------------------------------------


@then(
    'the deployment "{name}" in "{namespace}" has the condition {type:w} "{status}" '
    'with the reason "{reason}"',
    example='Then the deployment "api-gateway" in "default" has the condition Progressing '
    '"False" with the reason "ProgressDeadlineExceeded"',
)
def deployment_condition(
    world: World, name: str, namespace: str, type: str, status: str, reason: str
) -> None:
    """The Deployment's condition as the cluster reports it now (Available, Progressing)."""
    dep = _apps(world).read_namespaced_deployment(name, namespace)
    conditions = {c.type: c for c in dep.status.conditions or ()}
    found = conditions.get(type)
    if found is None:
        raise AssertionError(
            f"deployment {namespace}/{name} has no {type} condition; it has {sorted(conditions)}"
        )
    if (found.status, found.reason) != (status, reason):
        raise AssertionError(
            f"deployment {namespace}/{name} {type} is {found.status!r} with the reason "
            f"{found.reason!r} ({found.message}); expected {status!r} with {reason!r}"
        )


@then(
    '{count:d} pods of "{app}" in "{namespace}" cannot pull their image',
    example='Then 2 pods of "api-gateway" in "default" cannot pull their image',
)
def pods_cannot_pull(world: World, count: int, app: str, namespace: str) -> None:
    """Pending pods with a container waiting in ErrImagePull or ImagePullBackOff."""
    pods = _pods(world, app, namespace)
    stuck = [
        p.metadata.name
        for p in pods
        if p.status.phase == "Pending" and any(r in _PULLING for r in _waiting_reasons(p))
    ]
    if len(stuck) != count:
        seen = {p.metadata.name: (p.status.phase, _waiting_reasons(p)) for p in pods}
        raise AssertionError(f"{len(stuck)} pods of {app} cannot pull their image: {seen}")


@then(
    '{count:d} pods of "{app}" in "{namespace}" are Running but not Ready',
    example='Then 2 pods of "user-service" in "default" are Running but not Ready',
)
def pods_unready(world: World, count: int, app: str, namespace: str) -> None:
    """Running pods whose Ready condition is False (a failing readiness probe, say)."""
    pods = _pods(world, app, namespace)
    unready = [
        p.metadata.name
        for p in pods
        if p.status.phase == "Running"
        and any(c.type == "Ready" and c.status == "False" for c in p.status.conditions or ())
    ]
    if len(unready) != count:
        phases = {p.metadata.name: p.status.phase for p in pods}
        raise AssertionError(f"{len(unready)} pods of {app} are Running but not Ready: {phases}")


@then(
    'every pod of "{app}" in "{namespace}" restarted at least {count:d} times',
    example='Then every pod of "worker" in "default" restarted at least 2 times',
)
def pods_restarted(world: World, app: str, namespace: str, count: int) -> None:
    """Each live pod's highest container restartCount (a failing liveness probe, say)."""
    pods = _pods(world, app, namespace)
    restarts = {
        p.metadata.name: max(
            (cs.restart_count for cs in p.status.container_statuses or ()), default=0
        )
        for p in pods
    }
    if not pods or min(restarts.values()) < count:
        raise AssertionError(f"pods of {app} restarted {restarts} times; expected >= {count}")
