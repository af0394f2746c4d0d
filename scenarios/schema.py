"""The scenario profile schema: what a profile file may say, checked field by field.

A profile is validated *after* ``extends`` is merged and named blocks are expanded
(``scenarios.loader``), so these models describe the resolved, self-contained form
that ``windtunnel scenarios show`` prints and ``scenarios.builder`` builds from.
Every model forbids unknown fields: a typo is an error at its file:line, never a
silently ignored setting.

Quantities (``cpu: 250m``, ``memory: 1Gi``) are Kubernetes quantities and are checked
here; times are simulated seconds on the event loop's clock, counted from the moment
the builder starts the cluster's controllers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.quantity import QuantityError, parse_quantity
from engine.template import RetryPolicy, WorkflowTemplate

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_PROFILE_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"

DnsName = Annotated[str, Field(pattern=_DNS_LABEL, max_length=63)]
Count = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_quantity(value: str | int | float | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    try:
        amount = parse_quantity(text)
    except QuantityError as exc:
        raise ValueError(
            f"{text!r} is not a Kubernetes quantity (e.g. 250m, 2, 512Mi, 4Gi): {exc}"
        ) from None
    if amount < 0:
        raise ValueError(f"{text!r} must not be negative")
    return text


class Resources(_Model):
    """A CPU / memory pair, as in a container's ``requests`` or ``limits``."""

    cpu: str | None = None
    memory: str | None = None

    _quantities = field_validator("cpu", "memory", mode="before")(_check_quantity)


class Delay(_Model):
    """A latency distribution: exactly one of ``fixed``, ``uniform`` or ``exponential``.

    ``{fixed: 1.0}``, ``{uniform: [0.3, 1.0]}``, ``{exponential: {mean: 0.5, cap: 5}}``.
    """

    fixed: Annotated[float, Field(ge=0)] | None = None
    uniform: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]] | None = None
    exponential: ExponentialDelay | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Delay:
        given = [k for k in ("fixed", "uniform", "exponential") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of fixed, uniform or exponential, e.g. {uniform: [0.3, 1.0]}"
            )
        if self.uniform is not None and self.uniform[0] > self.uniform[1]:
            raise ValueError(f"uniform: low {self.uniform[0]} is above high {self.uniform[1]}")
        return self


class ExponentialDelay(_Model):
    mean: Annotated[float, Field(ge=0)]
    cap: Annotated[float, Field(ge=0)]


Delay.model_rebuild()


class Taint(_Model):
    key: Annotated[str, Field(min_length=1)]
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class Toleration(_Model):
    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"] = ""
    toleration_seconds: int | None = None


class NodePool(_Model):
    """``count`` identical nodes named by ``name_pattern`` (``{i}`` counts from 1)."""

    count: Count
    name_pattern: str = "node-{i}"
    resources: str | None = None
    """The resource block the capacity came from (informational once resolved)."""
    cpu: str
    memory: str
    pods: Annotated[int, Field(ge=1, le=10_000)]
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    zone: str | None = None

    _quantities = field_validator("cpu", "memory", mode="before")(_check_quantity)

    @field_validator("name_pattern")
    @classmethod
    def _has_index(cls, value: str) -> str:
        if "{i}" not in value:
            raise ValueError(f"name_pattern {value!r} must contain '{{i}}', e.g. 'node-{{i}}'")
        probe = value.replace("{i}", "1")
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", probe):
            raise ValueError(
                f"name_pattern {value!r} gives node names like {probe!r}, which are not "
                "valid Kubernetes names (lowercase letters, digits, '-' and '.')"
            )
        return value


class Quota(_Model):
    """A namespace ResourceQuota: ``cpu``/``memory`` limit the sum of requests."""

    cpu: str | None = None
    memory: str | None = None
    pods: Count | None = None
    limits_cpu: str | None = None
    limits_memory: str | None = None
    services: Count | None = None
    configmaps: Count | None = None

    _quantities = field_validator("cpu", "memory", "limits_cpu", "limits_memory", mode="before")(
        _check_quantity
    )

    def hard(self) -> dict[str, str]:
        """The ResourceQuota ``spec.hard`` this stands for."""
        pairs = {
            "requests.cpu": self.cpu,
            "requests.memory": self.memory,
            "pods": self.pods,
            "limits.cpu": self.limits_cpu,
            "limits.memory": self.limits_memory,
            "services": self.services,
            "configmaps": self.configmaps,
        }
        return {k: str(v) for k, v in pairs.items() if v is not None}


class LimitRange(_Model):
    """A Container LimitRange: defaults filled into pods, and bounds."""

    default_request: Resources | None = None
    default: Resources | None = None
    min: Resources | None = None
    max: Resources | None = None


class Service(_Model):
    port: Annotated[int, Field(ge=1, le=65535)] = 80
    target_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"


class Pdb(_Model):
    """A PodDisruptionBudget over the deployment's pods: exactly one of the two fields."""

    min_available: int | str | None = None
    max_unavailable: int | str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Pdb:
        if (self.min_available is None) == (self.max_unavailable is None):
            raise ValueError("give exactly one of min_available or max_unavailable")
        return self


class Hpa(_Model):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation.

    The simulated cluster stores it (clients and actions see it) but runs no HPA
    controller: replicas change only when something scales the deployment.
    """

    min_replicas: Annotated[int, Field(ge=1)]
    max_replicas: Annotated[int, Field(ge=1)]
    cpu_utilization: Annotated[int, Field(ge=1, le=1000)] = 70

    @model_validator(mode="after")
    def _ordered(self) -> Hpa:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}"
            )
        return self


class Probe(_Model):
    """A readiness or liveness probe of the deployment's container.

    ``type: http`` probes ``path`` on ``port`` (unset: the deployment's port, else
    8080), ``tcp`` connects to ``port``, ``exec`` runs ``command``. Unset timings are
    kube's defaults (initial delay 0, period 10 s, success 1, failure 3). Whether the
    probe passes is the simulation's call: it does unless ``probe_failures`` says not.
    """

    type: Literal["http", "tcp", "exec"] = "http"
    path: str = "/healthz"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    command: list[str] = Field(default_factory=lambda: ["true"])
    initial_delay_seconds: Annotated[int, Field(ge=0)] | None = None
    period_seconds: Annotated[int, Field(ge=1)] | None = None
    success_threshold: Annotated[int, Field(ge=1)] | None = None
    failure_threshold: Annotated[int, Field(ge=1)] | None = None


class Deployment(_Model):
    """One Deployment and what hangs off it (Service, PDB, HPA), all labelled ``app: NAME``."""

    replicas: Count
    image: str = "registry.example/app:1.0"
    requests: Resources = Field(default_factory=Resources)
    limits: Resources = Field(default_factory=Resources)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    service: Service | None = None
    pdb: Pdb | None = None
    hpa: Hpa | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    progress_deadline_seconds: Annotated[int, Field(ge=1)] | None = None
    """How long a rollout may make no progress before it is reported failed (kube: 600)."""


class Namespace(_Model):
    labels: dict[str, str] = Field(default_factory=dict)
    resources: str | None = None
    """The resource block the quota and limit range came from (informational)."""
    quota: Quota | None = None
    limit_range: LimitRange | None = None
    workloads: list[str] = Field(default_factory=list)
    """The workload blocks expanded into ``deployments`` and ``config_maps``."""
    deployments: dict[DnsName, Deployment] = Field(default_factory=dict)
    config_maps: dict[DnsName, dict[str, str]] = Field(default_factory=dict)


class Kubelet(_Model):
    """Simulated kubelet and node-controller timing (see ``SimulationConfig``)."""

    start_latency: Delay | None = None
    ready_latency: Delay | None = None
    termination_latency: Delay | None = None
    node_eviction_grace: Annotated[float, Field(ge=0)] | None = None
    """Seconds before pods of a NotReady node are evicted; unset: 300 (tolerations)."""
    events: bool = True


class TimedEvent(_Model):
    """Something that happens to a node at simulated second ``at``.

    ``node`` is a node name, ``first`` or ``last`` (in node-pool order).
    """

    at: Annotated[float, Field(ge=0)]
    node: Annotated[str, Field(min_length=1)]
    event: Literal["NotReady", "Ready", "Cordon", "Uncordon"]


class Images(_Model):
    """Images the simulated registries refuse: their pods wait in ImagePullBackOff.

    ``unpullable``: globs on the image reference (``"*:broken"``,
    ``"registry.example/private/*"``); ``unpullable_regex``: full-match regular
    expressions. Both match the reference as written and its fully qualified form
    (``nginx:1`` is also ``docker.io/library/nginx:1``).
    """

    unpullable: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    unpullable_regex: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)

    @field_validator("unpullable_regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


class ProbeFailure(_Model):
    """Pods whose readiness or liveness probe fails (``fakes.kube.controllers.probes``).

    Every given selector must match: ``namespace``, ``deployment`` (its pods), ``pod``
    (a name), ``labels``; ``container`` limits it to one container. ``share`` of the
    matching pods fail, picked by the profile's seed. A failing readiness probe keeps a
    pod Running but not Ready; a failing liveness probe gets its container killed and
    restarted into CrashLoopBackOff. Only containers that have such a probe fail it.
    """

    probe: Literal["readiness", "liveness"]
    label: str = ""
    namespace: DnsName | None = None
    deployment: DnsName | None = None
    pod: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    container: str | None = None
    share: Annotated[float, Field(ge=0, le=1)] = 1.0
    message: str | None = None
    """The probe's output in the Unhealthy event (default: what its handler type reports)."""


class Cluster(_Model):
    mode: Literal["controllers", "settled"] = "controllers"
    """``controllers``: every pod goes through scheduler and kubelet (quota admission
    included); ``settled``: Deployments are written already rolled out (the fast path
    for thousands of nodes) and quotas are created afterwards from what exists."""
    node_pools: dict[DnsName, NodePool] = Field(default_factory=dict)
    namespaces: dict[DnsName, Namespace] = Field(default_factory=dict)
    kubelet: Kubelet = Field(default_factory=Kubelet)
    events: list[TimedEvent] = Field(default_factory=list)
    images: Images = Field(default_factory=Images)
    probe_failures: list[ProbeFailure] = Field(default_factory=list)


class Fault(_Model):
    """One fault rule for the simulated API (``fakes.kube.faults.Rule``).

    Matches on ``verb``, ``resource``, ``namespace``, ``name``, ``subresource`` (unset:
    any; ``verb``/``resource`` may be lists); adds ``latency``; answers ``error`` with
    ``probability``, at most ``times`` times, within ``[start, end)`` seconds.
    """

    label: str = ""
    verb: str | list[str] | None = None
    resource: str | list[str] | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    error: Literal[409, 429, 500, 503, 504] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] = 1.0
    times: Annotated[int, Field(ge=1)] | None = None
    retry_after: Annotated[int, Field(ge=0)] | None = None
    message: str | None = None
    latency: Annotated[float, Field(ge=0)] | Delay = 0.0
    drop_watch_after: Annotated[float, Field(ge=0)] | None = None
    start: Annotated[float, Field(ge=0)] | None = None
    end: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _does_something(self) -> Fault:
        if self.error is None and self.latency == 0.0 and self.drop_watch_after is None:
            raise ValueError("a fault needs an error, a latency or drop_watch_after")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class EngineSettings(_Model):
    """How the harness builds the engine for this profile."""

    max_concurrency: Annotated[int, Field(ge=1)] | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    """The default retry policy of templates that declare none."""
    step_timeout: Annotated[float, Field(gt=0)] | None = None
    workflow_timeout: Annotated[float, Field(gt=0)] | None = None
    store: Literal["memory", "sqlite"] = "memory"


# -- load ----------------------------------------------------------------------------
# ``load:`` of a profile: what ``windtunnel load`` runs (loadtests/). Times are seconds of
# real time, since a load run is not under virtual time.

Users = Annotated[int, Field(ge=1, le=100_000)]
Seconds = Annotated[float, Field(gt=0)]


class SteadyShape(_Model):
    """``users`` for ``duration`` seconds, started at ``spawn_rate`` a second."""

    users: Users
    duration: Seconds
    spawn_rate: Annotated[float, Field(gt=0)] | None = None
    """Users started per second; unset: all of them within the first second."""


class RampShape(_Model):
    """``start_users`` to ``end_users`` in ``steps`` equal steps over ``duration``, then
    ``hold`` seconds at ``end_users``."""

    start_users: Annotated[int, Field(ge=0, le=100_000)] = 0
    end_users: Users
    duration: Seconds
    steps: Annotated[int, Field(ge=1, le=1000)] = 10
    hold: Annotated[float, Field(ge=0)] = 0.0


class SpikeShape(_Model):
    """``users`` throughout ``duration``, and ``spike_users`` from ``at`` for ``length``."""

    users: Users
    spike_users: Users
    at: Annotated[float, Field(ge=0)]
    length: Seconds
    duration: Seconds

    @model_validator(mode="after")
    def _inside(self) -> SpikeShape:
        if self.spike_users <= self.users:
            raise ValueError(f"spike_users {self.spike_users} must be above users {self.users}")
        if self.at + self.length > self.duration:
            raise ValueError(
                f"the spike ({self.at:g} s + {self.length:g} s) ends after duration "
                f"{self.duration:g} s: shorten it or lengthen duration"
            )
        return self


class SoakShape(_Model):
    """``users`` for a long ``duration``, reached by a linear ``ramp_up``."""

    users: Users
    duration: Seconds
    ramp_up: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _ramp_inside(self) -> SoakShape:
        if self.ramp_up >= self.duration:
            raise ValueError(
                f"ramp_up {self.ramp_up:g} s must be shorter than duration {self.duration:g} s"
            )
        return self


class LoadShape(_Model):
    """Exactly one of ``steady``, ``ramp``, ``spike`` or ``soak`` (loadtests.shapes)."""

    steady: SteadyShape | None = None
    ramp: RampShape | None = None
    spike: SpikeShape | None = None
    soak: SoakShape | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> LoadShape:
        given = [k for k in ("steady", "ramp", "spike", "soak") if getattr(self, k) is not None]
        if not given:
            raise ValueError(
                "give one of steady, ramp, spike or soak, e.g. {steady: {users: 10, duration: 60}}"
            )
        if len(given) > 1:
            raise ValueError(
                f"give exactly one of steady, ramp, spike or soak, not {' and '.join(given)} "
                "(a profile inherits its base's shape: set the one you do not want to null)"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("steady", "ramp", "spike", "soak") if getattr(self, k))


class LoadSlos(_Model):
    """Service-level objectives checked at the end of a load run; unset ones are not."""

    p95_completion_ms: Annotated[float, Field(gt=0)] | None = None
    """At most this 95th percentile of submit-to-terminal latency, in milliseconds."""
    max_failure_ratio: Annotated[float, Field(ge=0, le=1)] | None = None
    """At most this share of executions failed (submit refused, or an unexpected end)."""
    min_executions_per_s: Annotated[float, Field(ge=0)] | None = None
    """At least this many executions reached their end per second of the run."""


TerminalStatus = Literal["Succeeded", "Failed", "PartiallySucceeded", "Cancelled", "RolledBack"]
_SUCCEEDED: list[TerminalStatus] = ["Succeeded"]


class LoadWorkflow(_Model):
    """One template of the workflow mix; a user picks it with odds ``weight`` / total."""

    weight: Annotated[int, Field(ge=1, le=10_000)] = 1
    template: WorkflowTemplate
    inputs: dict[str, Any] = Field(default_factory=dict)
    expect: list[TerminalStatus] = Field(default_factory=lambda: _SUCCEEDED.copy(), min_length=1)
    """The end statuses that count as a success of the execution."""


class Load(_Model):
    """How ``windtunnel load`` loads the engine with this profile (see loadtests/)."""

    nightly: bool = False
    """Whether ``windtunnel nightly`` runs this profile's load run."""
    mode: Literal["http", "inprocess"] = "inprocess"
    """The default user: over the engine's HTTP service, or in the Locust process."""
    shape: LoadShape
    workflows: Annotated[list[LoadWorkflow], Field(min_length=1)]
    slos: LoadSlos = Field(default_factory=LoadSlos)
    wait_seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    """Each user waits this long between the end of one execution and the next submit."""
    drain_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """After the load stops, how long running executions may take to end before they
    count as lost."""

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("Input should be a valid dictionary")
        return data

    @field_validator("workflows")
    @classmethod
    def _unique_templates(cls, workflows: list[LoadWorkflow]) -> list[LoadWorkflow]:
        seen: set[tuple[str, int]] = set()
        for w in workflows:
            key = (w.template.name, w.template.version)
            if key in seen:
                raise ValueError(
                    f"template {key[0]!r} version {key[1]} is in the mix twice: "
                    "give the entries other names or versions, or add their weights"
                )
            seen.add(key)
        return workflows


class Profile(_Model):
    """A resolved scenario profile (see module docstring)."""

    name: Annotated[str, Field(pattern=_PROFILE_NAME)]
    description: str = ""
    extends: str | None = None
    """The base this profile was merged over (informational once resolved)."""
    seed: int = 0
    cluster: Cluster = Field(default_factory=Cluster)
    faults: list[Fault] = Field(default_factory=list)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    load: Load | None = None
    """The load run (``windtunnel load``): shape, workflow mix, SLOs; None: no load run."""


# -- named blocks --------------------------------------------------------------------


class NodeResources(_Model):
    cpu: str
    memory: str
    pods: Annotated[int, Field(ge=1, le=10_000)]
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)

    _quantities = field_validator("cpu", "memory", mode="before")(_check_quantity)


class ResourceBlock(_Model):
    """``kind: resources``: a node shape and/or a namespace quota and limit range."""

    name: Annotated[str, Field(pattern=_PROFILE_NAME)]
    kind: Literal["resources"]
    description: str = ""
    node: NodeResources | None = None
    quota: Quota | None = None
    limit_range: LimitRange | None = None


class WorkloadBlock(_Model):
    """``kind: workloads``: deployments (with services, PDBs, HPAs) and config maps."""

    name: Annotated[str, Field(pattern=_PROFILE_NAME)]
    kind: Literal["workloads"]
    description: str = ""
    deployments: dict[DnsName, Deployment] = Field(default_factory=dict)
    config_maps: dict[DnsName, dict[str, str]] = Field(default_factory=dict)
