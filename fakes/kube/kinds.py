"""The resource kinds the simulated API server knows, as one data table.

Routing, discovery (``/api``, ``/apis``, per-group resource lists), field-selector
support, delete response shapes and the ``kubectl get`` Table output all read this
table, so adding a kind here is the only step needed to serve it.

Each row mirrors what kube-apiserver publishes in its discovery documents, plus a few
behaviour flags taken from the real storage strategies:

* ``returns_deleted_object`` -- the real registry sets ``ReturnDeletedObject`` for
  pods, services, service accounts, resource quotas (and a few kinds we do not serve),
  so DELETE answers with the object; every other kind answers with a ``Status``.
  (The official client's generated response types confirm it: ``V1Pod`` for
  ``delete_namespaced_pod``, ``object`` for ``delete_namespaced_deployment``.)
* ``tracks_generation`` -- ``metadata.generation`` starts at 1 and is bumped when the
  spec changes.
* ``status_on_create`` -- kinds whose create strategy clears ``status`` (it is written
  by controllers through the ``status`` subresource).
* ``field_selectors`` -- the field labels the real server accepts for this kind beyond
  ``metadata.name`` and ``metadata.namespace``; ``indexed_fields`` is the subset the
  store keeps an index for.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

STANDARD_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)

COMMON_FIELD_SELECTORS: tuple[str, ...] = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True, slots=True)
class Subresource:
    """A subresource such as ``pods/status`` or ``deployments/scale``."""

    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """One served resource: identity, scope, verbs and behaviour flags."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    subresources: tuple[Subresource, ...] = ()
    categories: tuple[str, ...] = ()
    returns_deleted_object: bool = False
    tracks_generation: bool = False
    status_on_create: bool = True
    field_selectors: tuple[str, ...] = ()
    indexed_fields: tuple[str, ...] = ()
    _all_fields: tuple[str, ...] = field(default=(), repr=False, compare=False)
    _hash: int = field(default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_all_fields", COMMON_FIELD_SELECTORS + self.field_selectors)
        object.__setattr__(self, "_hash", hash((self.group, self.version, self.plural)))

    def __hash__(self) -> int:
        # Kinds key the store's tables and indexes, so every read hashes one; the
        # generated dataclass hash walks every field (subresources included) each
        # time. Equal kinds share group/version/plural, so this stays consistent
        # with the generated __eq__.
        return self._hash

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``: how error messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def all_field_selectors(self) -> tuple[str, ...]:
        """Every field label a field selector may use on this kind, in a fixed order."""
        return self._all_fields

    @property
    def extra_fields(self) -> tuple[str, ...]:
        """Field labels stored with each object (everything beyond name/namespace)."""
        return self.field_selectors

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None


_STATUS = Subresource("status", "", ("get", "patch", "update"))
_SCALE = Subresource("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")

_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)
_EVENTS_V1_FIELDS = (
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "reason",
    "type",
    "reportingController",
)

KINDS: tuple[ResourceKind, ...] = (
    ResourceKind(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        False,
        ("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=(_STATUS, Subresource("finalize", "", ("update",))),
        field_selectors=("status.phase",),
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        False,
        ("no",),
        subresources=(_STATUS,),
        field_selectors=("spec.unschedulable",),
        indexed_fields=("spec.unschedulable",),
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        True,
        ("po",),
        subresources=(
            _STATUS,
            Subresource("binding", "Binding", ("create",)),
            Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
        ),
        categories=("all",),
        returns_deleted_object=True,
        tracks_generation=True,
        field_selectors=_POD_FIELDS,
        indexed_fields=("spec.nodeName", "status.phase"),
    ),
    ResourceKind(
        "",
        "v1",
        "Service",
        "services",
        "service",
        True,
        ("svc",),
        subresources=(_STATUS,),
        categories=("all",),
        returns_deleted_object=True,
    ),
    ResourceKind(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        True,
        ("ep",),
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        True,
        ("cm",),
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "Secret",
        "secrets",
        "secret",
        True,
        field_selectors=("type",),
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        True,
        ("sa",),
        returns_deleted_object=True,
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "Event",
        "events",
        "event",
        True,
        ("ev",),
        field_selectors=_EVENT_FIELDS,
        indexed_fields=("involvedObject.name",),
        status_on_create=False,
    ),
    ResourceKind(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        True,
        ("quota",),
        subresources=(_STATUS,),
        returns_deleted_object=True,
    ),
    ResourceKind(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        "limitrange",
        True,
        ("limits",),
        status_on_create=False,
    ),
    ResourceKind(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        True,
        ("deploy",),
        subresources=(_STATUS, _SCALE),
        categories=("all",),
        tracks_generation=True,
    ),
    ResourceKind(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        True,
        ("rs",),
        subresources=(_STATUS, _SCALE),
        categories=("all",),
        tracks_generation=True,
        field_selectors=("status.replicas",),
    ),
    ResourceKind(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        True,
        ("sts",),
        subresources=(_STATUS, _SCALE),
        categories=("all",),
        tracks_generation=True,
    ),
    ResourceKind(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        True,
        ("ds",),
        subresources=(_STATUS,),
        categories=("all",),
        tracks_generation=True,
    ),
    ResourceKind(
        "batch",
        "v1",
        "Job",
        "jobs",
        "job",
        True,
        subresources=(_STATUS,),
        categories=("all",),
        tracks_generation=True,
        field_selectors=("status.successful",),
    ),
    ResourceKind(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        True,
        ("hpa",),
        subresources=(_STATUS,),
        categories=("all",),
        tracks_generation=True,
    ),
    ResourceKind(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        True,
        ("pdb",),
        subresources=(_STATUS,),
        tracks_generation=True,
    ),
    ResourceKind(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        True,
        status_on_create=False,
    ),
    ResourceKind(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        True,
        status_on_create=False,
    ),
    ResourceKind(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        "event",
        True,
        ("ev",),
        field_selectors=_EVENTS_V1_FIELDS,
        status_on_create=False,
    ),
)


def _view(storage: ResourceKind, version: str) -> ResourceKind:
    """``storage`` as served at another ``version`` (converted, no table of its own)."""
    return dataclasses.replace(storage, version=version)


def _kind(kinds: tuple[ResourceKind, ...], group: str, plural: str) -> ResourceKind:
    return next(k for k in kinds if k.group == group and k.plural == plural)


VIEWS: tuple[tuple[ResourceKind, ResourceKind], ...] = (
    (
        _view(_kind(KINDS, "autoscaling", "horizontalpodautoscalers"), "v1"),
        _kind(KINDS, "autoscaling", "horizontalpodautoscalers"),
    ),
)
"""``(view, storage)``: versions served by converting to and from a stored version
(``fakes.kube.conversion``), as kube serves ``autoscaling/v1`` HPAs from v2 storage."""


class KindRegistry:
    """Looks kinds up by URL coordinates, by plural/short/kind name, or by apiVersion+kind.

    ``views`` are versions served by conversion: discovery and OpenAPI list them after
    the stored version (which stays preferred); :meth:`view` finds one by URL and
    :meth:`by_url` never returns one, since they have no storage.
    """

    def __init__(
        self,
        kinds: tuple[ResourceKind, ...] = KINDS,
        views: tuple[tuple[ResourceKind, ResourceKind], ...] = VIEWS,
    ) -> None:
        self.kinds = kinds
        self.views = tuple((v, s) for v, s in views if s in kinds)
        self._views = {(v.group, v.version, v.plural): (v, s) for v, s in self.views}
        self._by_gvr: dict[tuple[str, str, str], ResourceKind] = {}
        self._by_gvk: dict[tuple[str, str], ResourceKind] = {}
        self._by_name: dict[str, ResourceKind] = {}
        for k in kinds:
            self._by_gvr[(k.group, k.version, k.plural)] = k
            self._by_gvk.setdefault((k.api_version, k.kind), k)
            for alias in (k.plural, k.singular, k.kind.lower(), *k.short_names):
                self._by_name.setdefault(alias, k)
            self._by_name.setdefault(k.group_resource, k)
            self._by_name.setdefault(f"{k.plural}.{k.version}.{k.group}", k)

    def by_url(self, group: str, version: str, plural: str) -> ResourceKind | None:
        return self._by_gvr.get((group, version, plural))

    def view(
        self, group: str, version: str, plural: str
    ) -> tuple[ResourceKind, ResourceKind] | None:
        """``(view, storage)`` when ``group/version/plural`` is served by conversion."""
        return self._views.get((group, version, plural))

    def by_api_version_kind(self, api_version: str, kind: str) -> ResourceKind | None:
        return self._by_gvk.get((api_version, kind))

    def resolve(self, name: str) -> ResourceKind:
        """Resolve ``pods``, ``po``, ``Pod``, ``deployments.apps`` or ``events.events.k8s.io``.

        Raises ``KeyError`` naming the known resources when nothing matches, so a typo
        in a controller or test fails with the list of valid names.
        """
        kind = self._by_name.get(name) or self._by_name.get(name.lower())
        if kind is None:
            known = ", ".join(sorted({k.group_resource for k in self.kinds}))
            raise KeyError(f"unknown resource {name!r}; known resources: {known}")
        return kind

    def groups(self) -> dict[str, list[str]]:
        """Group name → served versions, core group under ``""``, in table order."""
        out: dict[str, list[str]] = {}
        for k in self.kinds:
            versions = out.setdefault(k.group, [])
            if k.version not in versions:
                versions.append(k.version)
        for v, _ in self.views:
            versions = out.setdefault(v.group, [])
            if v.version not in versions:
                versions.append(v.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceKind]:
        """Kinds served at ``group/version``, stored or converted views."""
        kinds = [*self.kinds, *(v for v, _ in self.views)]
        return [k for k in kinds if k.group == group and k.version == version]


DEFAULT_REGISTRY = KindRegistry()
