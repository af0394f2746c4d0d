"""The disruption controller: PodDisruptionBudget status (disruptionsAllowed).

Eviction (``pods/eviction``) reads ``status.disruptionsAllowed``; this keeps it true
to the pods: expected = matching live pods, healthy = the Ready ones, desired from
``minAvailable`` (rounded up) or ``expected - maxUnavailable`` (rounded down).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.kubelet import pod_ready, set_condition
from fakes.kube.controllers.replicaset import active
from fakes.kube.selectors import LabelSelector

if TYPE_CHECKING:
    from fakes.kube.store import Change

JsonObj = dict[str, Any]


def _amount(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        frac = int(value[:-1]) * total / 100
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(value)


class DisruptionController(Controller):
    name = "disruption-controller"

    def setup(self) -> None:
        self.pdb_kind = self.kind("poddisruptionbudgets")
        self.pods_kind = self.kind("pods")
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
        spec = pdb.get("spec", {})
        selector = LabelSelector.from_spec(spec.get("selector"))
        pods = [p for p in self.access.select(self.pods_kind, namespace, selector) if active(p)]
        if not spec.get("selector"):
            pods = []
        expected = len(pods)
        healthy = sum(1 for p in pods if pod_ready(p))
        if spec.get("maxUnavailable") is not None:
            desired = max(0, expected - _amount(spec["maxUnavailable"], expected, False))
        else:
            desired = _amount(spec.get("minAvailable", 1), expected, True)
        allowed = max(0, healthy - desired)
        old = pdb.get("status") or {}
        status: JsonObj = {
            "observedGeneration": pdb["metadata"].get("generation", 1),
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
            "conditions": [dict(c) for c in old.get("conditions") or ()],
        }
        if old.get("disruptedPods"):
            status["disruptedPods"] = old["disruptedPods"]
        probe = {"status": status}
        if allowed:
            set_condition(
                probe, "DisruptionAllowed", "True", self.access.timestamp(), "SufficientPods"
            )
        else:
            set_condition(
                probe, "DisruptionAllowed", "False", self.access.timestamp(), "InsufficientPods"
            )
        for c in status["conditions"]:
            c.pop("lastProbeTime", None)
            c.setdefault("message", "")
            c["observedGeneration"] = status["observedGeneration"]
        if status != old:
            pdb["status"] = status
            self.access.update_status(self.pdb_kind, pdb)
