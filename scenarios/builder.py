"""Building a simulated cluster from a resolved profile, and the engine settings of one.

``await build_cluster(load_profile("HighLoadProduction"))`` returns a started
:class:`ScenarioCluster` (a :class:`fakes.kube.simulation.SimulatedCluster`) on the
running loop, settled: every pod that can run is Running and Ready. Under looptime
that takes no virtual-time waiting on the caller's part and a few tens of
milliseconds of wall time for the 25-pod production profile.

Order of construction: nodes, namespaces (labels), limit ranges, quotas and config
maps; then the controllers start and each namespace's deployments (with their
services, PDBs and HPAs) are created through the API's admission path and settled,
namespace by namespace in file order, so what a profile lists first was there
first; then the profile's faults go live.
In ``mode: settled`` deployments are written already rolled out through the bulk
path (``fakes.kube.controllers.bulk``: the scheduler's placement rules and the
namespace's LimitRange defaults, but no quota checks) and quotas are created
afterwards, counting what exists.

Image and probe faults (``cluster.images``, ``cluster.probe_failures``) are kubelet
rules from the start, so a profile deployment on an unpullable image waits in
ImagePullBackOff while the cluster is built (``settle`` does not wait for it);
``sim.images`` and ``sim.probes`` change them at run time. In ``mode: settled`` pods
are written already running, so only pods started later pull images.

Time zero of the profile's timeline (``events[].at``, ``faults[].start``/``end``) is
the loop time at which the workloads were all in place (:attr:`ScenarioCluster.t0`); events
are ``loop.call_at`` callbacks, cancelled when the cluster stops.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from engine.errors import Problem
from engine.template import RetryPolicy, StepSpec, WorkflowTemplate
from fakes.kube.controllers.config import Delay as SimDelay
from fakes.kube.controllers.config import NodeShape, SimulationConfig
from fakes.kube.controllers.images import ImageRule
from fakes.kube.controllers.probes import ProbeFailure as SimProbeFailure
from fakes.kube.faults import Rule
from fakes.kube.simulation import SimulatedCluster
from scenarios.checks import (
    check_settled_quotas,
    pool_labels,
    pool_node_names,
    resolve_node,
    tolerations_of,
)
from scenarios.errors import ProfileError
from scenarios.schema import (
    Cluster,
    Deployment,
    Fault,
    Kubelet,
    Namespace,
    Probe,
    ProbeFailure,
    Profile,
    Resources,
    TimedEvent,
)
from scenarios.schema import Delay as DelaySpec

if TYPE_CHECKING:
    from fakes.kube.clock import Clock

JsonObj = dict[str, Any]


class ScenarioCluster(SimulatedCluster):
    """A simulated cluster built from a profile: knows its profile, nodes and timeline."""

    def __init__(self, profile: Profile, **kwargs: Any) -> None:
        super().__init__(seed=profile.seed, nodes=0, **kwargs)
        self.profile = profile
        self.node_names: list[str] = []
        self.t0: float = 0.0
        self.fired: list[tuple[float, TimedEvent]] = []
        """Timed events that have happened, with the loop time they fired at."""
        self._timers: list[asyncio.TimerHandle] = []

    def node(self, ref: str) -> str:
        """A node name for ``first``, ``last`` or a name."""
        return resolve_node(self.profile, ref)

    async def stop(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        await super().stop()

    def _schedule(self, event: TimedEvent) -> None:
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_at(self.t0 + event.at, self._fire, event))

    def _fire(self, event: TimedEvent) -> None:
        node = self.node(event.node)
        if event.event == "NotReady":
            self.set_node_ready(node, False)
        elif event.event == "Ready":
            self.set_node_ready(node, True)
        elif event.event == "Cordon":
            self.cordon(node, True)
        else:
            self.cordon(node, False)
        self.fired.append((asyncio.get_running_loop().time(), event))


async def build_cluster(
    profile: Profile,
    *,
    settle: bool = True,
    clock: Clock | None = None,
    mode: Literal["controllers", "settled"] | None = None,
) -> ScenarioCluster:
    """Create, start and (by default) settle the profile's cluster on the running loop.

    ``mode`` overrides the profile's ``cluster.mode``. The caller owns the result:
    ``await sim.stop()`` (or ``async with``) when done.
    """
    if mode is not None and mode != profile.cluster.mode:
        profile = profile.model_copy(
            update={"cluster": profile.cluster.model_copy(update={"mode": mode})}
        )
    cluster = profile.cluster
    if cluster.mode == "settled":
        problems = check_settled_quotas(profile)
        if problems:
            raise ProfileError(problems, name=profile.name)
    sim = ScenarioCluster(profile, config=simulation_config(cluster.kubelet, cluster), clock=clock)
    for pool in cluster.node_pools.values():
        names = pool_node_names(pool)
        shape = NodeShape(pool.cpu, pool.memory, pool.pods, pool_labels(pool))
        if not pool.taints and pool.name_pattern.endswith("{i}") and pool.count:
            sim.add_nodes(pool.count, prefix=pool.name_pattern[: -len("{i}")], shape=shape)
        else:
            taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
            for name in names:
                sim.add_node(name, shape, taints=taints or None)
        sim.node_names.extend(names)
    for ns_name, ns in cluster.namespaces.items():
        _create_namespace(sim, ns_name, ns, quota=cluster.mode == "controllers")
    if cluster.mode == "settled":
        for ns_name, ns in cluster.namespaces.items():
            for dep_name, dep in ns.deployments.items():
                try:
                    sim.add_settled_deployment(deployment_body(dep_name, dep), ns_name)
                except ValueError as exc:
                    raise ProfileError(
                        [Problem(f"deployment '{dep_name}' in namespace '{ns_name}': {exc}")],
                        name=profile.name,
                    ) from None
                _create_companions(sim, ns_name, dep_name, dep)
            if ns.quota is not None:
                sim.api.create("resourcequotas", _quota_body(ns), ns_name)
        await sim.start()
    else:
        await sim.start()
        # Namespace by namespace, in file order, each settled before the next: what
        # the profile lists first was there first (and has the room), whatever the
        # controllers' latencies -- so which pods end up Pending is deterministic.
        for ns_name, ns in cluster.namespaces.items():
            for dep_name, dep in ns.deployments.items():
                sim.api.create("deployments", deployment_body(dep_name, dep), ns_name)
                _create_companions(sim, ns_name, dep_name, dep)
            if ns.deployments and settle:
                await sim.settle()
    sim.t0 = asyncio.get_running_loop().time()
    for event in cluster.events:
        sim._schedule(event)
    if settle:
        await sim.settle()
    for fault in profile.faults:
        sim.faults.add(fault_rule(fault, sim.t0))
    return sim


def simulation_config(kubelet: Kubelet, cluster: Cluster | None = None) -> SimulationConfig:
    """The controllers' settings: the kubelet's timing and, given the cluster, its
    image and probe faults."""
    config = SimulationConfig(
        node_eviction_grace=kubelet.node_eviction_grace, kubelet_events=kubelet.events
    )
    for field in ("start_latency", "ready_latency", "termination_latency"):
        spec = getattr(kubelet, field)
        if spec is not None:
            setattr(config, field, sim_delay(spec))
    if cluster is not None:
        config.unpullable_images.extend(ImageRule(p) for p in cluster.images.unpullable)
        config.unpullable_images.extend(
            ImageRule(p, regex=True) for p in cluster.images.unpullable_regex
        )
        config.probe_failures.extend(
            probe_failure(f, i) for i, f in enumerate(cluster.probe_failures, start=1)
        )
    return config


def probe_failure(spec: ProbeFailure, index: int = 1) -> SimProbeFailure:
    """The kubelet's rule for a profile probe failure (labelled by its place if unnamed)."""
    return SimProbeFailure(
        probe=spec.probe,
        namespace=spec.namespace,
        pod=spec.pod,
        deployment=spec.deployment,
        labels=dict(spec.labels),
        container=spec.container,
        share=spec.share,
        message=spec.message,
        label=spec.label or f"probe-failure-{index}",
    )


def sim_delay(spec: DelaySpec) -> SimDelay:
    if spec.fixed is not None:
        return SimDelay.fixed(spec.fixed)
    if spec.uniform is not None:
        return SimDelay.uniform(*spec.uniform)
    assert spec.exponential is not None
    return SimDelay.exponential(spec.exponential.mean, spec.exponential.cap)


def fault_rule(fault: Fault, t0: float = 0.0) -> Rule:
    """The ``fakes.kube.faults.Rule`` for a profile fault; its window starts at ``t0``."""

    def match(value: str | list[str] | None) -> str | tuple[str, ...] | None:
        return tuple(value) if isinstance(value, list) else value

    latency = sim_delay(fault.latency) if isinstance(fault.latency, DelaySpec) else fault.latency
    return Rule(
        verb=match(fault.verb),
        resource=match(fault.resource),
        namespace=fault.namespace,
        name=fault.name,
        subresource=fault.subresource,
        latency=latency,
        error=fault.error,
        probability=fault.probability,
        times=fault.times,
        retry_after=fault.retry_after,
        message=fault.message,
        drop_watch_after=fault.drop_watch_after,
        start=None if fault.start is None else t0 + fault.start,
        end=None if fault.end is None else t0 + fault.end,
        label=fault.label,
    )


# -- object bodies ---------------------------------------------------------------------


def _resources(requests: Resources, limits: Resources) -> JsonObj:
    out: JsonObj = {}
    for key, res in (("requests", requests), ("limits", limits)):
        values = {k: v for k, v in (("cpu", res.cpu), ("memory", res.memory)) if v is not None}
        if values:
            out[key] = values
    return out


def probe_body(probe: Probe, port: int | None) -> JsonObj:
    """The container probe for a profile probe (``port``: the deployment's, if any)."""
    target = probe.port or port or 8080
    body: JsonObj
    if probe.type == "http":
        body = {"httpGet": {"path": probe.path, "port": target}}
    elif probe.type == "tcp":
        body = {"tcpSocket": {"port": target}}
    else:
        body = {"exec": {"command": list(probe.command)}}
    for key, value in (
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ):
        if value is not None:
            body[key] = value
    return body


def deployment_body(name: str, dep: Deployment) -> JsonObj:
    """The apps/v1 Deployment for a profile deployment (pods labelled ``app: NAME``)."""
    labels = {"app": name, **dep.labels}
    container: JsonObj = {"name": name, "image": dep.image}
    resources = _resources(dep.requests, dep.limits)
    if resources:
        container["resources"] = resources
    if dep.port is not None:
        container["ports"] = [{"containerPort": dep.port}]
    if dep.readiness_probe is not None:
        container["readinessProbe"] = probe_body(dep.readiness_probe, dep.port)
    if dep.liveness_probe is not None:
        container["livenessProbe"] = probe_body(dep.liveness_probe, dep.port)
    pod_spec: JsonObj = {"containers": [container]}
    if dep.node_selector:
        pod_spec["nodeSelector"] = dict(dep.node_selector)
    if dep.tolerations:
        pod_spec["tolerations"] = [{k: v for k, v in t.items() if v} for t in tolerations_of(dep)]
        for body, spec in zip(pod_spec["tolerations"], dep.tolerations, strict=True):
            if spec.toleration_seconds is not None:
                body["tolerationSeconds"] = spec.toleration_seconds
    template_meta: JsonObj = {"labels": labels}
    if dep.annotations:
        template_meta["annotations"] = dict(dep.annotations)
    deployment_spec: JsonObj = {
        "replicas": dep.replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": template_meta, "spec": pod_spec},
    }
    if dep.progress_deadline_seconds is not None:
        deployment_spec["progressDeadlineSeconds"] = dep.progress_deadline_seconds
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": deployment_spec,
    }


def _create_namespace(sim: SimulatedCluster, name: str, ns: Namespace, *, quota: bool) -> None:
    existing = sim.store.get(sim.api.registry.resolve("namespaces"), "", name)
    if existing is None:
        sim.api.create("namespaces", {"metadata": {"name": name, "labels": dict(ns.labels)}})
    elif ns.labels:
        sim.api.patch("namespaces", name, {"metadata": {"labels": dict(ns.labels)}})
    if ns.limit_range is not None:
        item: JsonObj = {"type": "Container"}
        for key, field in (
            ("defaultRequest", ns.limit_range.default_request),
            ("default", ns.limit_range.default),
            ("min", ns.limit_range.min),
            ("max", ns.limit_range.max),
        ):
            if field is not None:
                values = {k: v for k, v in (("cpu", field.cpu), ("memory", field.memory)) if v}
                if values:
                    item[key] = values
        sim.api.create(
            "limitranges", {"metadata": {"name": "limits"}, "spec": {"limits": [item]}}, name
        )
    if quota and ns.quota is not None:
        sim.api.create("resourcequotas", _quota_body(ns), name)
    for cm_name, data in ns.config_maps.items():
        sim.api.create("configmaps", {"metadata": {"name": cm_name}, "data": dict(data)}, name)


def _quota_body(ns: Namespace) -> JsonObj:
    assert ns.quota is not None
    return {"metadata": {"name": "quota"}, "spec": {"hard": ns.quota.hard()}}


def _create_companions(sim: SimulatedCluster, ns: str, name: str, dep: Deployment) -> None:
    selector = {"app": name}
    labels = {"app": name, **dep.labels}
    if dep.service is not None:
        port: JsonObj = {"name": "http", "port": dep.service.port, "protocol": "TCP"}
        port["targetPort"] = dep.service.target_port or dep.port or dep.service.port
        sim.api.create(
            "services",
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {"selector": selector, "ports": [port], "type": dep.service.type},
            },
            ns,
        )
    if dep.pdb is not None:
        spec: JsonObj = {"selector": {"matchLabels": selector}}
        if dep.pdb.min_available is not None:
            spec["minAvailable"] = dep.pdb.min_available
        else:
            spec["maxUnavailable"] = dep.pdb.max_unavailable
        sim.api.create(
            "poddisruptionbudgets",
            {"apiVersion": "policy/v1", "metadata": {"name": name, "labels": labels}, "spec": spec},
            ns,
        )
    if dep.hpa is not None:
        sim.api.create(
            "horizontalpodautoscalers",
            {
                "apiVersion": "autoscaling/v2",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": dep.hpa.min_replicas,
                    "maxReplicas": dep.hpa.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": dep.hpa.cpu_utilization,
                                },
                            },
                        }
                    ],
                },
            },
            ns,
        )


# -- engine ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineSetup:
    """What a profile says about the engine, in the shapes the engine takes.

    ``Engine(state_storage=..., repository=..., **setup.engine_kwargs())``; templates
    get the profile's defaults through :meth:`apply_defaults`. ``store`` says which
    stores the harness should give it (``memory`` or ``sqlite``).
    """

    max_concurrency: int | None
    seed: int
    default_retry: RetryPolicy
    step_timeout: float | None
    workflow_timeout: float | None
    store: str

    def engine_kwargs(self) -> dict[str, Any]:
        return {"max_concurrency": self.max_concurrency, "seed": self.seed}

    def apply_defaults(self, template: WorkflowTemplate) -> WorkflowTemplate:
        """The template with the profile's retry policy and timeouts where it sets none."""
        update: dict[str, Any] = {}
        if "retry" not in template.model_fields_set:
            update["retry"] = self.default_retry
        if template.timeout is None and self.workflow_timeout is not None:
            update["timeout"] = self.workflow_timeout
        if self.step_timeout is not None:
            steps: list[StepSpec] = [
                s if s.timeout is not None else s.model_copy(update={"timeout": self.step_timeout})
                for s in template.steps
            ]
            update["steps"] = tuple(steps)
        return template.model_copy(update=update) if update else template


def engine_settings(profile: Profile) -> EngineSetup:
    e = profile.engine
    return EngineSetup(
        max_concurrency=e.max_concurrency,
        seed=profile.seed,
        default_retry=e.retry,
        step_timeout=e.step_timeout,
        workflow_timeout=e.workflow_timeout,
        store=e.store,
    )
