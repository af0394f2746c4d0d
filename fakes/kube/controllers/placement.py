"""Where a pod may run: the scheduler's filters, shared by everything that places pods.

The scheduler (``scheduler.py``) binds pending pods one at a time; the settled-cluster
builder (``bulk.py``) writes thousands of pods already bound. Both must accept and
refuse the same nodes, so the rules live here once:

1. ``unschedulable`` (cordoned) -- unless the pod tolerates
   ``node.kubernetes.io/unschedulable:NoSchedule``;
2. taints with effect ``NoSchedule`` or ``NoExecute`` the pod does not tolerate
   (``PreferNoSchedule`` only steers scoring, it never excludes);
3. ``nodeSelector`` -- every key present with the same value in the node's labels;
4. resources -- pod slots, then the sum of container requests (at least the largest
   init container's) against allocatable CPU and memory. A pod that requests none of
   a resource fits whatever the node's use of it.

Filters 1-3 do not depend on what already runs on the node (:func:`node_unfit`), so a
caller placing many pods with one spec may apply them once and re-check only 4
(:func:`short_of`). Each failure is the default scheduler's wording, which
:func:`unavailable_message` assembles into its "0/3 nodes are available: ..." line.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from engine.quantity import QuantityError, parse_quantity

JsonObj = dict[str, Any]

_QUANTITIES: dict[str, Fraction] = {}


def _quantity(value: Any) -> Fraction:
    """Parsed quantity; cached, as the same few strings repeat across thousands of pods."""
    if value is None:
        return Fraction(0)
    key = str(value)
    cached = _QUANTITIES.get(key)
    if cached is not None:
        return cached
    try:
        amount = parse_quantity(value)
    except QuantityError:
        amount = Fraction(0)
    if len(_QUANTITIES) < 10_000:
        _QUANTITIES[key] = amount
    return amount


def _milli(value: Any) -> int:
    return math.ceil(_quantity(value) * 1000)


def _units(value: Any) -> int:
    return math.ceil(_quantity(value))


def pod_requests(spec: JsonObj) -> tuple[int, int]:
    """(milli-CPU, memory bytes): containers summed, at least the largest init container."""
    cpu = mem = 0
    for c in spec.get("containers") or ():
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += _milli(req.get("cpu"))
        mem += _units(req.get("memory"))
    for c in spec.get("initContainers") or ():
        req = (c.get("resources") or {}).get("requests") or {}
        cpu = max(cpu, _milli(req.get("cpu")))
        mem = max(mem, _units(req.get("memory")))
    return cpu, mem


def tolerates(tolerations: list[JsonObj], taint: JsonObj) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        if not t.get("key") and op == "Exists":
            return True
        if t.get("key") != taint.get("key"):
            continue
        if op == "Exists" or t.get("value", "") == taint.get("value", ""):
            return True
    return False


class NodeInfo:
    """What placement needs of a node: allocatable, labels, hard taints, and what is used."""

    __slots__ = (
        "cpu",
        "labels",
        "mem",
        "name",
        "pods",
        "taints",
        "unschedulable",
        "used_cpu",
        "used_mem",
        "used_pods",
    )

    def __init__(self, node: JsonObj) -> None:
        self.name: str = node["metadata"]["name"]
        self.used_cpu = 0
        self.used_mem = 0
        self.used_pods = 0
        self.refresh(node)

    def refresh(self, node: JsonObj) -> None:
        alloc = node.get("status", {}).get("allocatable") or {}
        self.cpu = _milli(alloc.get("cpu"))
        self.mem = _units(alloc.get("memory"))
        self.pods = _units(alloc.get("pods"))
        self.labels: dict[str, str] = node["metadata"].get("labels") or {}
        spec = node.get("spec", {})
        self.unschedulable = bool(spec.get("unschedulable"))
        self.taints: list[JsonObj] = [
            t for t in spec.get("taints") or () if t.get("effect") in ("NoSchedule", "NoExecute")
        ]

    def take(self, cpu: int, mem: int) -> None:
        """Count a pod with these requests as running here."""
        self.used_cpu += cpu
        self.used_mem += mem
        self.used_pods += 1

    def give_back(self, cpu: int, mem: int) -> None:
        """Stop counting a pod :meth:`take` counted."""
        self.used_cpu -= cpu
        self.used_mem -= mem
        self.used_pods -= 1


UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
"""The taint a cordoned node is treated as having (what a pod must tolerate to land there)."""


def node_unfit(info: NodeInfo, selector: dict[str, str], tolerations: list[JsonObj]) -> str | None:
    """Why the node refuses any pod with this selector and these tolerations, or ``None``.

    Filters 1-3 of the module docstring, in the scheduler's plugin order; the first
    failure is the reason, as the default scheduler reports one per node.
    """
    if info.unschedulable and not tolerates(tolerations, UNSCHEDULABLE_TAINT):
        return "node(s) were unschedulable"
    for taint in info.taints:
        if not tolerates(tolerations, taint):
            shown = (
                f"{taint.get('key')}: {taint['value']}" if taint.get("value") else taint.get("key")
            )
            return f"node(s) had untolerated taint {{{shown}}}"
    for k, v in selector.items():
        if info.labels.get(k) != v:
            return "node(s) didn't match Pod's node affinity/selector"
    return None


def short_of(info: NodeInfo, cpu: int, mem: int) -> list[str]:
    """What the node lacks for one more pod requesting ``cpu`` milli-CPU and ``mem`` bytes."""
    why = []
    if info.used_pods + 1 > info.pods:
        why.append("Too many pods")
    if cpu and info.used_cpu + cpu > info.cpu:
        why.append("Insufficient cpu")
    if mem and info.used_mem + mem > info.mem:
        why.append("Insufficient memory")
    return why


def unfit(
    info: NodeInfo,
    cpu: int,
    mem: int,
    selector: dict[str, str],
    tolerations: list[JsonObj],
) -> list[str]:
    """Every reason the node refuses the pod (empty: it fits)."""
    why = node_unfit(info, selector, tolerations)
    return [why] if why else short_of(info, cpu, mem)


def unavailable_message(nodes: int, reasons: dict[str, int]) -> str:
    """The scheduler's FailedScheduling message for ``reasons`` (reason -> node count)."""
    if nodes == 0:
        return "no nodes available to schedule pods"
    detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    message = f"0/{nodes} nodes are available"
    message += f": {detail}." if detail else "."
    return message + (
        f" preemption: 0/{nodes} nodes are available: {nodes} Preemption is not helpful "
        "for scheduling."
    )
