"""PodDisruptionBudget arithmetic, computed as kube's disruption controller does.

One function, :func:`compute`, gives a budget's numbers; the disruption controller
(``fakes.kube.controllers.disruption``) writes them into ``status`` and the
eviction subresource (``fakes.kube.eviction``) decides with them, so the two can
never disagree. It follows ``pkg/controller/disruption/disruption.go``:

* pods: every pod the selector matches in the namespace -- terminating and finished
  ones included (policy/v1: a null selector matches none, ``{}`` matches all);
* healthy (``currentHealthy``): pods with ``Ready=True`` that are *not* being deleted
  and not listed in ``status.disruptedPods`` (evicted in the last two minutes and
  not yet seen deleted);
* integer ``minAvailable``: desired = that number, expected = the number of pods;
* ``maxUnavailable`` or a percentage ``minAvailable``: expected = the summed
  ``spec.replicas`` of the pods' controllers (a Deployment for its ReplicaSets'
  pods, else the ReplicaSet, StatefulSet, ReplicationController, or any owner with
  ``spec.replicas``), so a terminating pod does not shrink the budget; percentages
  round up; desired = expected − maxUnavailable (not below 0) or the scaled
  minAvailable. Pods without a controller are ``unmanaged`` and not counted; a
  controller that cannot be found is :class:`NoController` (the controller then
  fails safe to zero disruptions);
* ``disruptionsAllowed`` = healthy − desired, and 0 when that is negative or no pod
  is expected.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes.kube.clock import parse_time
from fakes.kube.selectors import LabelSelector

if TYPE_CHECKING:
    from fakes.kube.kinds import KindRegistry
    from fakes.kube.store import ObjectStore

JsonObj = dict[str, Any]
Lookup = Callable[[str, str, str], JsonObj | None]
"""``(plural, namespace, name)`` → the object, or ``None`` when it does not exist."""

DELETION_TIMEOUT = 120.0
"""Seconds an evicted pod stays in ``disruptedPods`` before it is assumed not deleted."""

_CONTROLLER_KINDS = {
    "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets",
    "ReplicationController": "replicationcontrollers",
    "Deployment": "deployments",
}


class NoController(Exception):
    """A pod's controllerRef points at nothing that has a scale."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A budget's numbers at one moment (the fields of its ``status``)."""

    expected: int
    desired: int
    healthy: int
    disrupted: dict[str, str] = field(default_factory=dict)
    unmanaged: tuple[str, ...] = ()
    recheck_at: float | None = None
    """When the earliest ``disruptedPods`` entry expires (then recompute)."""

    @property
    def allowed(self) -> int:
        allowed = self.healthy - self.desired
        return 0 if self.expected <= 0 or allowed <= 0 else allowed


def is_ready(pod: JsonObj) -> bool:
    """``IsPodReady``: the Ready condition is True (the phase is not consulted)."""
    for c in pod.get("status", {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def selector(pdb: JsonObj) -> LabelSelector | None:
    """The budget's pod selector; ``None`` (policy/v1's null selector) selects nothing."""
    spec = (pdb.get("spec") or {}).get("selector")
    return None if spec is None else LabelSelector.from_spec(spec)


def selects(pdb: JsonObj, labels: dict[str, str]) -> bool:
    sel = selector(pdb)
    return sel is not None and sel.matches(labels)


def scaled(value: Any, total: int) -> int:
    """``GetScaledValueFromIntOrPercent`` rounding up, as both callers in kube do."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def compute(pdb: JsonObj, pods: list[JsonObj], now: float, lookup: Lookup) -> Budget:
    """The numbers for ``pdb`` over the ``pods`` its selector matches, at ``now``.

    Raises :class:`NoController` when a pod's controller is missing and the budget
    needs controller scales.
    """
    spec = pdb.get("spec") or {}
    unmanaged: tuple[str, ...] = ()
    min_available = spec.get("minAvailable")
    if spec.get("maxUnavailable") is not None:
        expected, unmanaged = _expected_scale(pods, lookup)
        desired = max(0, expected - scaled(spec["maxUnavailable"], expected))
    elif isinstance(min_available, int):
        expected, desired = len(pods), min_available
    elif min_available is not None:
        expected, unmanaged = _expected_scale(pods, lookup)
        desired = scaled(min_available, expected)
    else:
        expected = desired = 0
    disrupted, recheck_at = _disrupted(pdb, pods, now)
    healthy = sum(
        1
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and p["metadata"].get("name") not in disrupted
        and is_ready(p)
    )
    return Budget(expected, desired, healthy, disrupted, unmanaged, recheck_at)


def _expected_scale(pods: list[JsonObj], lookup: Lookup) -> tuple[int, tuple[str, ...]]:
    scales: dict[str, int] = {}
    unmanaged: list[str] = []
    for pod in pods:
        meta = pod["metadata"]
        ref = _controller_ref(pod)
        if ref is None:
            unmanaged.append(meta.get("name", ""))
            continue
        if ref.get("uid") in scales:
            continue
        found = _scale_of(ref, meta.get("namespace", ""), lookup)
        if found is None:
            raise NoController(f'found no controllers for pod "{meta.get("name", "")}"')
        uid, scale = found
        scales[uid] = scale
    return sum(scales.values()), tuple(unmanaged)


def _controller_ref(obj: JsonObj) -> JsonObj | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            found: JsonObj = ref
            return found
    return None


def _owner(ref: JsonObj, namespace: str, lookup: Lookup) -> JsonObj | None:
    plural = _CONTROLLER_KINDS.get(str(ref.get("kind")))
    if plural is None:
        plural = str(ref.get("kind", "")).lower() + "s"
    try:
        obj = lookup(plural, namespace, str(ref.get("name", "")))
    except LookupError:  # a kind this cluster does not serve
        return None
    if obj is None or obj.get("metadata", {}).get("uid") != ref.get("uid"):
        return None
    return obj


def _scale_of(ref: JsonObj, namespace: str, lookup: Lookup) -> tuple[str, int] | None:
    """The finders: a ReplicaSet's pods count against its Deployment, if it has one."""
    owner = _owner(ref, namespace, lookup)
    if owner is None:
        return None
    if ref.get("kind") == "ReplicaSet":
        parent = _controller_ref(owner)
        if parent is not None and parent.get("kind") == "Deployment":
            deployment = _owner(parent, namespace, lookup)
            if deployment is None:
                return None
            owner = deployment
    replicas = (owner.get("spec") or {}).get("replicas")
    if replicas is None and owner.get("kind") not in _CONTROLLER_KINDS:
        return None  # no scale to read
    return str(owner["metadata"]["uid"]), 1 if replicas is None else int(replicas)


def _disrupted(
    pdb: JsonObj, pods: list[JsonObj], now: float
) -> tuple[dict[str, str], float | None]:
    """``buildDisruptedPodMap``: keep entries for pods not yet deleting and not expired."""
    listed = (pdb.get("status") or {}).get("disruptedPods") or {}
    kept: dict[str, str] = {}
    recheck_at: float | None = None
    if not listed:
        return kept, recheck_at
    for pod in pods:
        meta = pod["metadata"]
        when = listed.get(meta.get("name"))
        if when is None or meta.get("deletionTimestamp"):
            continue
        expires = parse_time(when) + DELETION_TIMEOUT
        if expires < now:
            continue
        kept[meta["name"]] = when
        recheck_at = expires if recheck_at is None else min(recheck_at, expires)
    return kept, recheck_at


def store_lookup(store: ObjectStore, registry: KindRegistry) -> Lookup:
    """A :data:`Lookup` reading ``store`` directly (callers hold the store lock or accept
    a momentary view)."""

    def lookup(plural: str, namespace: str, name: str) -> JsonObj | None:
        kind = registry.resolve(plural)
        stored = store.get(kind, namespace if kind.namespaced else "", name)
        return None if stored is None else stored.decode()

    return lookup


def set_allowed_condition(status: JsonObj, when: str) -> None:
    """``UpdateDisruptionAllowedCondition``: ``DisruptionAllowed`` True (SufficientPods)
    while a disruption is allowed, else False (InsufficientPods); ``lastTransitionTime``
    moves only when the status flips."""
    allowed = (status.get("disruptionsAllowed") or 0) > 0
    value, reason = ("True", "SufficientPods") if allowed else ("False", "InsufficientPods")
    conditions = status.setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == "DisruptionAllowed":
            if c.get("status") != value:
                c["lastTransitionTime"] = when
            c.pop("lastProbeTime", None)
            c.update(status=value, reason=reason, message="")
            c["observedGeneration"] = status.get("observedGeneration", 1)
            return
    conditions.append(
        {
            "type": "DisruptionAllowed",
            "status": value,
            "reason": reason,
            "message": "",
            "lastTransitionTime": when,
            "observedGeneration": status.get("observedGeneration", 1),
        }
    )
