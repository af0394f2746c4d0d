"""The scheduler: binds pending pods to nodes that fit, or explains why none does.

Filters, in the default scheduler's plugin order (the first failure per node is
reported): node unschedulable (cordon, unless tolerated), NoSchedule/NoExecute taints
without a matching toleration, nodeSelector, and resources -- the sum of container
requests against allocatable CPU, memory and pod slots. The rules are
``placement.py``'s, shared with the settled-cluster builder (``bulk.py``) so that both
accept the same nodes. Among feasible nodes it picks the least allocated (ties:
search order).

Cost: node usage is kept incrementally from the pod change stream (the indexed
``spec.nodeName``/``status.phase`` fields say when a pod lands on or leaves a node,
so a pod is decoded once), and like ``percentageOfNodesToScore`` the search stops
after enough feasible nodes in large clusters, starting where the last one ended.

A pod that fits nowhere gets PodScheduled=False (reason Unschedulable, the real
"0/3 nodes are available: ..." message) and a FailedScheduling event, and is parked
until a node changes or a pod leaves a node, then retried.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.events import WARNING
from fakes.kube.controllers.kubelet import set_condition
from fakes.kube.controllers.placement import (
    NodeInfo,
    pod_requests,
    tolerates,
    unavailable_message,
    unfit,
)
from fakes.kube.store import DELETED

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context
    from fakes.kube.store import Change

__all__ = ["NodeInfo", "Scheduler", "pod_requests", "tolerates"]

JsonObj = dict[str, Any]
Key = tuple[str, str]


class Scheduler(Controller):
    """See module docstring."""

    name = "scheduler"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.pods_kind = self.kind("pods")
        self.nodes_kind = self.kind("nodes")
        fields = self.pods_kind.extra_fields
        self._i_node = fields.index("spec.nodeName")
        self._i_phase = fields.index("status.phase")
        self.nodes: dict[str, NodeInfo] = {}
        self._order: list[str] | None = None
        self._start = 0
        self.placed: dict[Key, tuple[str, int, int]] = {}
        self.parked: dict[Key, None] = {}

    def setup(self) -> None:
        self.watch("nodes", self._on_node)
        self.watch("pods", self._on_pod)

    def resync(self) -> None:
        store = self.access.store
        for stored in store.select(self.nodes_kind):
            self.nodes[stored.name] = NodeInfo(stored.decode())
        self._order = None
        for stored in store.select(self.pods_kind):
            node, phase = stored.fields[self._i_node], stored.fields[self._i_phase]
            key = (stored.namespace, stored.name)
            if node:
                if phase not in ("Succeeded", "Failed"):
                    self._account(key, node, json.loads(stored.raw))
            else:
                self.enqueue(key)

    # -- listeners (under the store lock: bookkeeping and enqueue only) ----------

    def _on_node(self, change: Change) -> None:
        if change.type == DELETED:
            self.nodes.pop(change.name, None)
            self._order = None
            return
        node = json.loads(change.raw)
        info = self.nodes.get(change.name)
        if info is None:
            self.nodes[change.name] = NodeInfo(node)
            self._order = None
        else:
            info.refresh(node)
        self._flush()

    def _on_pod(self, change: Change) -> None:
        key = (change.namespace, change.name)
        node = change.fields[self._i_node]
        phase = change.fields[self._i_phase]
        if change.type == DELETED or phase in ("Succeeded", "Failed"):
            self.parked.pop(key, None)
            if self._release(key):
                self._flush()
            return
        if node:
            if key not in self.placed:
                self._account(key, node, json.loads(change.raw))
            return
        if key not in self.parked:
            self.enqueue(key)

    def _account(self, key: Key, node: str, pod: JsonObj) -> None:
        cpu, mem = pod_requests(pod.get("spec", {}))
        self.placed[key] = (node, cpu, mem)
        info = self.nodes.get(node)
        if info is not None:
            info.take(cpu, mem)

    def _release(self, key: Key) -> bool:
        placed = self.placed.pop(key, None)
        if placed is None:
            return False
        info = self.nodes.get(placed[0])
        if info is not None:
            info.give_back(placed[1], placed[2])
        return True

    def _flush(self) -> None:
        if self.parked:
            for key in self.parked:
                self.enqueue(key)
            self.parked.clear()

    # -- scheduling --------------------------------------------------------------

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        pod = self.access.get(self.pods_kind, namespace, name)
        if pod is None:
            return
        spec = pod.get("spec", {})
        if spec.get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return
        node, reasons = self.find_node(spec)
        if node is not None:
            self.bind(pod, node)
        else:
            self.park(pod, reasons)

    def find_node(self, spec: JsonObj) -> tuple[NodeInfo | None, dict[str, int]]:
        cpu, mem = pod_requests(spec)
        selector: dict[str, str] = spec.get("nodeSelector") or {}
        tolerations: list[JsonObj] = spec.get("tolerations") or []
        if self._order is None:
            self._order = sorted(self.nodes)
        order = self._order
        n = len(order)
        # Like percentageOfNodesToScore, scaled for Python: enough nodes to balance well.
        wanted = n if n <= 50 else max(50, n // 20)
        reasons: dict[str, int] = {}
        best: NodeInfo | None = None
        best_score = -1.0
        feasible = 0
        start = self._start % n if n else 0
        examined = 0
        for i in range(n):
            info = self.nodes[order[(start + i) % n]]
            examined += 1
            why = unfit(info, cpu, mem, selector, tolerations)
            if why:
                for reason in why:
                    reasons[reason] = reasons.get(reason, 0) + 1
                continue
            feasible += 1
            score = 0.0
            if info.cpu:
                score += (info.cpu - info.used_cpu - cpu) / info.cpu
            if info.mem:
                score += (info.mem - info.used_mem - mem) / info.mem
            if info.pods:
                # Spread: with equal requests (or none), fewer pods wins.
                score += (info.pods - info.used_pods) / info.pods
            if score > best_score:
                best, best_score = info, score
            if feasible >= wanted:
                break
        self._start = start + examined
        return best, reasons

    def bind(self, pod: JsonObj, node: NodeInfo) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        self._account(key, node.name, pod)
        try:
            self.access.bind(pod, node.name)
        except Exception:
            self._release(key)
            raise
        self.recorder.record(
            pod,
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node.name}",
            component="default-scheduler",
        )

    def park(self, pod: JsonObj, reasons: dict[str, int]) -> None:
        meta = pod["metadata"]
        message = unavailable_message(len(self.nodes), reasons)
        key = (meta["namespace"], meta["name"])
        self.parked[key] = None
        current = None
        for c in pod.get("status", {}).get("conditions") or ():
            if c.get("type") == "PodScheduled":
                current = c
        if current is None or current.get("message") != message or current.get("status") != "False":
            set_condition(
                pod, "PodScheduled", "False", self.access.timestamp(), "Unschedulable", message
            )
            pod.setdefault("status", {}).setdefault("phase", "Pending")
            self.access.update_status(self.pods_kind, pod)
        self.recorder.record(
            pod, "FailedScheduling", message, WARNING, component="default-scheduler"
        )
