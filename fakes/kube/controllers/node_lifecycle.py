"""Node lifecycle: NotReady nodes get taints, their pods go NotReady, then are evicted.

``set_node_ready(name, False)`` (or any status write making Ready not True) makes the
controller: taint the node ``node.kubernetes.io/unreachable`` (NoSchedule and
NoExecute) so the scheduler avoids it, mark its pods Ready=False, and after each pod's
NoExecute ``tolerationSeconds`` (300 s by default, or ``config.node_eviction_grace``)
delete the pod -- its controller then replaces it elsewhere. The kubelet of a
NotReady node is dead, so evicted pods stay Terminating there until it comes back.
Ready again: taints removed, pending evictions cancelled.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.kubelet import condition, set_condition
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context
    from fakes.kube.controllers.kubelet import Kubelet

JsonObj = dict[str, Any]

UNREACHABLE = "node.kubernetes.io/unreachable"


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def __init__(self, ctx: Context, kubelet: Kubelet) -> None:
        super().__init__(ctx)
        self.kubelet = kubelet
        self.nodes_kind = self.kind("nodes")
        self.pods_kind = self.kind("pods")

    def setup(self) -> None:
        self.watch("nodes", lambda c: self.enqueue(("node", c.name)))

    def resync(self) -> None:
        for stored in self.access.store.select(self.nodes_kind):
            self.enqueue(("node", stored.name))

    def set_node_ready(self, name: str, ready: bool) -> None:
        """Flip the node's Ready condition as a kubelet (or its absence) would."""
        node = self.access.get(self.nodes_kind, "", name)
        if node is None:
            raise KeyError(f"no node named {name!r}")
        now = self.access.timestamp()
        if ready:
            set_condition(
                node, "Ready", "True", now, "KubeletReady", "kubelet is posting ready status"
            )
        else:
            set_condition(
                node,
                "Ready",
                "Unknown",
                now,
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
            )
        self.access.update_status(self.nodes_kind, node)

    def _pods_on(self, node: str) -> list[JsonObj]:
        index = self.access.store.table(self.pods_kind).field_index["spec.nodeName"]
        stored = sorted(index.get(node, ()), key=lambda s: (s.namespace, s.name))
        return [s.decode() for s in stored]

    def reconcile(self, key: Any) -> None:
        what, *rest = key
        if what == "evict":
            self._evict(*rest)
            return
        name = rest[0]
        node = self.access.get(self.nodes_kind, "", name)
        if node is None:
            self.ctx.not_ready_nodes.discard(name)
            return
        c = condition(node, "Ready")
        if c is None:
            return
        ready = c.get("status") == "True"
        was_ready = name not in self.ctx.not_ready_nodes
        taints = [
            t for t in node.get("spec", {}).get("taints") or () if t.get("key") != UNREACHABLE
        ]
        if ready:
            self.ctx.not_ready_nodes.discard(name)
            if len(taints) != len(node.get("spec", {}).get("taints") or ()):
                node["spec"]["taints"] = taints
                if not taints:
                    del node["spec"]["taints"]
                self.access.update(self.nodes_kind, node)
            if not was_ready:
                self.recorder.record(
                    node,
                    "NodeReady",
                    f"Node {name} status is now: NodeReady",
                    component="node-controller",
                )
                for pod in self._pods_on(name):
                    self.cancel_after(
                        ("evict", pod["metadata"]["namespace"], pod["metadata"]["name"])
                    )
                self.kubelet.poke_node(name)
            return
        if was_ready:
            self.ctx.not_ready_nodes.add(name)
            self.recorder.record(
                node,
                "NodeNotReady",
                f"Node {name} status is now: NodeNotReady",
                component="node-controller",
            )
        if len(taints) == len(node.get("spec", {}).get("taints") or ()):
            now = self.access.timestamp()
            node.setdefault("spec", {})["taints"] = [
                *taints,
                {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": now},
                {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": now},
            ]
            self.access.update(self.nodes_kind, node)
        if was_ready:
            self._mark_pods_not_ready(name)

    def _mark_pods_not_ready(self, name: str) -> None:
        now = self.access.timestamp()
        for pod in self._pods_on(name):
            meta = pod["metadata"]
            if condition(pod, "Ready") is not None and not meta.get("deletionTimestamp"):
                set_condition(pod, "Ready", "False", now)
                with contextlib.suppress(ApiError):
                    self.access.update_status(self.pods_kind, pod)
            if meta.get("deletionTimestamp"):
                continue
            grace = self._toleration_seconds(pod)
            if grace is None:
                continue
            self.enqueue_after(("evict", meta["namespace"], meta["name"]), grace)

    def _toleration_seconds(self, pod: JsonObj) -> float | None:
        if self.config.node_eviction_grace is not None:
            return self.config.node_eviction_grace
        best: float | None = -1.0
        for t in pod.get("spec", {}).get("tolerations") or ():
            if t.get("effect") not in (None, "", "NoExecute"):
                continue
            if (t.get("operator") == "Exists" and not t.get("key")) or t.get("key") == UNREACHABLE:
                seconds = t.get("tolerationSeconds")
                if seconds is None:
                    return None
                best = max(best or 0.0, float(seconds))
        return 0.0 if best == -1.0 else best

    def _evict(self, namespace: str, name: str) -> None:
        pod = self.access.get(self.pods_kind, namespace, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        if pod.get("spec", {}).get("nodeName") not in self.ctx.not_ready_nodes:
            return
        self.recorder.record(
            pod,
            "TaintManagerEviction",
            f"Marking for deletion Pod {namespace}/{name}",
            component="taint-eviction-controller",
        )
        self.access.delete(self.pods_kind, namespace, name)
