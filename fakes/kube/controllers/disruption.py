"""The disruption controller: PodDisruptionBudget status, as kube computes it.

``kubectl get pdb`` and workflows read ``status.disruptionsAllowed`` and
``currentHealthy``; this keeps them true to the pods with the arithmetic of
``fakes.kube.budgets`` (the same the eviction subresource decides with): terminating
pods are not healthy, ``maxUnavailable`` and percentages count the controllers'
replicas as expected, ``disruptedPods`` entries are dropped once their pod is being
deleted or after two minutes (a timer recomputes then). When a pod's controller is
missing the budget fails safe: no disruptions, ``DisruptionAllowed=False`` with
reason ``SyncFailed``. Budgets over unmanaged pods get an ``UnmanagedPods`` warning
event when its status changes (kube sends one every sync).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube import budgets
from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.events import WARNING

if TYPE_CHECKING:
    from fakes.kube.store import Change

JsonObj = dict[str, Any]

_UNMANAGED = (
    "Pods selected by this PodDisruptionBudget were found to be unmanaged. As a result, the "
    "status of the PDB cannot be calculated correctly, which may result in undefined behavior. "
    'To account for these pods please set ".spec.minAvailable" field of the PDB to an '
    "integer value."
)


class DisruptionController(Controller):
    name = "disruption-controller"

    def setup(self) -> None:
        self.pdb_kind = self.kind("poddisruptionbudgets")
        self.pods_kind = self.kind("pods")
        self.lookup = budgets.store_lookup(self.access.store, self.access.registry)
        self.watch("poddisruptionbudgets", lambda c: self.enqueue((c.namespace, c.name)))
        self.watch("pods", self._on_pod)

    def resync(self) -> None:
        for stored in self.access.store.select(self.pdb_kind):
            self.enqueue((stored.namespace, stored.name))

    def _on_pod(self, change: Change) -> None:
        by_ns = self.access.store.table(self.pdb_kind).by_ns.get(change.namespace)
        if by_ns:
            for name in by_ns:
                self.enqueue((change.namespace, name))

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        pdb = self.access.get(self.pdb_kind, namespace, name)
        if pdb is None:
            return
        selector = budgets.selector(pdb)
        pods = [] if selector is None else self.access.select(self.pods_kind, namespace, selector)
        now = self.access.now()
        old = pdb.get("status") or {}
        generation = pdb["metadata"].get("generation", 1)
        conditions = [dict(c) for c in old.get("conditions") or ()]
        try:
            budget = budgets.compute(pdb, pods, now, self.lookup)
        except budgets.NoController as exc:
            self._fail_safe(pdb, old, conditions, str(exc))
            return
        status: JsonObj = {
            "observedGeneration": generation,
            "disruptionsAllowed": budget.allowed,
            "currentHealthy": budget.healthy,
            "desiredHealthy": budget.desired,
            "expectedPods": budget.expected,
            "conditions": conditions,
        }
        if budget.disrupted:
            status["disruptedPods"] = budget.disrupted
        budgets.set_allowed_condition(status, self.access.timestamp())
        if budget.recheck_at is not None:
            self.enqueue_after(key, max(0.0, budget.recheck_at - now), counts=False)
        if status != old:
            pdb["status"] = status
            self.access.update_status(self.pdb_kind, pdb)
            if budget.unmanaged:
                self.recorder.record(
                    pdb, "UnmanagedPods", _UNMANAGED, type=WARNING, component="controllermanager"
                )

    def _fail_safe(self, pdb: JsonObj, old: JsonObj, conditions: list[JsonObj], why: str) -> None:
        status = {**old, "disruptionsAllowed": 0, "conditions": conditions}
        status.setdefault("observedGeneration", 0)
        budgets.set_allowed_condition(status, self.access.timestamp())
        for c in conditions:
            if c.get("type") == "DisruptionAllowed":
                c.update(reason="SyncFailed", message=why)
        if status != old:
            pdb["status"] = status
            self.access.update_status(self.pdb_kind, pdb)
