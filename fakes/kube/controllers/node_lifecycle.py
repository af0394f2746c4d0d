"""Node lifecycle: condition taints on unhealthy nodes, and taint-based eviction.

Two halves of kube's node lifecycle controller:

* Conditions to taints. A node whose Ready condition is ``False`` gets
  ``node.kubernetes.io/not-ready``, one whose Ready is ``Unknown`` (its kubelet stopped
  posting, as ``set_node_ready(name, False)`` simulates) gets
  ``node.kubernetes.io/unreachable``, each as NoSchedule and NoExecute. Its pods are
  marked Ready=False. Ready again: those taints are removed.
* The taint manager (NoExecuteTaintManager). Every pod bound to a node with NoExecute
  taints -- the condition taints above or any a user adds with ``kubectl taint`` -- is
  deleted at once if it does not tolerate one of them, else after the smallest
  ``tolerationSeconds`` among the tolerations used (never if none has one). Removing
  the taints before then cancels the eviction. Pods get the default 300 s tolerations of
  not-ready/unreachable from admission; ``config.node_eviction_grace`` overrides the
  delay for those two taints only. The deletion is graceful: on a dead (NotReady) node
  the pod stays Terminating until the kubelet comes back; its controller replaces it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.kubelet import condition, set_condition
from fakes.kube.controllers.scheduler import tolerates
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context
    from fakes.kube.controllers.kubelet import Kubelet
    from fakes.kube.records import Change

JsonObj = dict[str, Any]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
CONDITION_TAINTS = frozenset({NOT_READY, UNREACHABLE})
# Ready condition status -> the taint key kube's node lifecycle controller applies.
_TAINT_FOR_READY = {"False": NOT_READY, "Unknown": UNREACHABLE}


def eviction_delay(
    tolerations: list[JsonObj], taints: list[JsonObj], condition_grace: float | None = None
) -> float | None:
    """Seconds until a pod with ``tolerations`` is evicted by NoExecute ``taints``.

    ``0.0`` when a taint is not tolerated, ``None`` when the pod may stay for good. Like
    kube, each taint uses the first toleration matching it and the smallest
    ``tolerationSeconds`` among those wins; ``condition_grace`` replaces it for the
    not-ready/unreachable taints.
    """
    best: float | None = None
    for taint in taints:
        if condition_grace is not None and taint.get("key") in CONDITION_TAINTS:
            seconds: Any = condition_grace
        else:
            used = next((t for t in tolerations if tolerates([t], taint)), None)
            if used is None:
                return 0.0
            seconds = used.get("tolerationSeconds")
            if seconds is None:
                continue
        delay = max(float(seconds), 0.0)
        best = delay if best is None else min(best, delay)
    return best


def no_execute_taints(node: JsonObj) -> list[JsonObj]:
    return [t for t in node.get("spec", {}).get("taints") or () if t.get("effect") == "NoExecute"]


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def __init__(self, ctx: Context, kubelet: Kubelet) -> None:
        super().__init__(ctx)
        self.kubelet = kubelet
        self.nodes_kind = self.kind("nodes")
        self.pods_kind = self.kind("pods")
        # node -> its NoExecute taints as last reconciled; only nodes that have some.
        self._no_execute: dict[str, list[JsonObj]] = {}
        # (namespace, pod) of every armed eviction, so a re-evaluation keeps its deadline.
        self._pending: set[tuple[str, str]] = set()

    def setup(self) -> None:
        self.watch("nodes", lambda c: self.enqueue(("node", c.name)))
        self.watch("pods", self._pod_changed)

    def resync(self) -> None:
        for stored in self.access.store.select(self.nodes_kind):
            self.enqueue(("node", stored.name))

    def _pod_changed(self, c: Change) -> None:
        if c.type == "DELETED":
            self._cancel(c.namespace, c.name, quiet=True)
        elif self._no_execute and c.field_values().get("spec.nodeName") in self._no_execute:
            self.enqueue(("pod", c.namespace, c.name))

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
        elif what == "pod":
            pod = self.access.get(self.pods_kind, rest[0], rest[1])
            if pod is not None:
                self._consider(pod)
        else:
            self._reconcile_node(rest[0])

    def _reconcile_node(self, name: str) -> None:
        node = self.access.get(self.nodes_kind, "", name)
        if node is None:
            self.ctx.not_ready_nodes.discard(name)
            self._no_execute.pop(name, None)
            return
        self._sync_condition(node)
        taints = no_execute_taints(node)
        if taints == self._no_execute.get(name, []):
            return
        if taints:
            self._no_execute[name] = taints
        else:
            self._no_execute.pop(name, None)
        for pod in self._pods_on(name):
            self._consider(pod)

    def _sync_condition(self, node: JsonObj) -> None:
        """Condition taints and Ready transitions (events, pods' Ready, kubelet)."""
        name = node["metadata"]["name"]
        c = condition(node, "Ready")
        if c is None:
            return
        status = str(c.get("status"))
        wanted = None if status == "True" else _TAINT_FOR_READY.get(status, UNREACHABLE)
        current = node.get("spec", {}).get("taints") or []
        kept = [t for t in current if t.get("key") not in CONDITION_TAINTS or t["key"] == wanted]
        if wanted is not None and not any(t.get("key") == wanted for t in kept):
            now = self.access.timestamp()
            kept += [
                {"key": wanted, "effect": "NoSchedule", "timeAdded": now},
                {"key": wanted, "effect": "NoExecute", "timeAdded": now},
            ]
        if kept != current:
            if kept:
                node.setdefault("spec", {})["taints"] = kept
            else:
                del node["spec"]["taints"]
            node = self.access.update(self.nodes_kind, node)
        was_ready = name not in self.ctx.not_ready_nodes
        if (status == "True") == was_ready:
            return
        if status == "True":
            self.ctx.not_ready_nodes.discard(name)
            self.recorder.record(
                node,
                "NodeReady",
                f"Node {name} status is now: NodeReady",
                component="node-controller",
            )
            self.kubelet.poke_node(name)
            return
        self.ctx.not_ready_nodes.add(name)
        self.recorder.record(
            node,
            "NodeNotReady",
            f"Node {name} status is now: NodeNotReady",
            component="node-controller",
        )
        self._mark_pods_not_ready(name)

    def _mark_pods_not_ready(self, name: str) -> None:
        now = self.access.timestamp()
        for pod in self._pods_on(name):
            meta = pod["metadata"]
            if condition(pod, "Ready") is not None and not meta.get("deletionTimestamp"):
                set_condition(pod, "Ready", "False", now)
                with contextlib.suppress(ApiError):
                    self.access.update_status(self.pods_kind, pod)

    def _delay(self, pod: JsonObj) -> float | None:
        taints = self._no_execute.get(pod.get("spec", {}).get("nodeName") or "", [])
        if not taints:
            return None
        tolerations = pod.get("spec", {}).get("tolerations") or []
        return eviction_delay(tolerations, taints, self.config.node_eviction_grace)

    def _consider(self, pod: JsonObj) -> None:
        """Arm, keep or cancel the pod's eviction for its node's NoExecute taints now."""
        meta = pod["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        if meta.get("deletionTimestamp"):
            self._cancel(namespace, name, quiet=True)
            return
        delay = self._delay(pod)
        if delay is None:
            self._cancel(namespace, name)
        elif delay == 0.0:
            self._evict(namespace, name)
        elif (namespace, name) not in self._pending:
            # Like kube, an armed eviction keeps the deadline it was first given.
            self._pending.add((namespace, name))
            self.enqueue_after(("evict", namespace, name), delay)

    def _cancel(self, namespace: str, name: str, quiet: bool = False) -> None:
        if (namespace, name) not in self._pending:
            return
        self._pending.discard((namespace, name))
        self.cancel_after(("evict", namespace, name))
        pod = None if quiet else self.access.get(self.pods_kind, namespace, name)
        if pod is not None:
            self.recorder.record(
                pod,
                "TaintManagerEviction",
                f"Cancelling deletion of Pod {namespace}/{name}",
                component="taint-eviction-controller",
            )

    def _evict(self, namespace: str, name: str) -> None:
        self._pending.discard((namespace, name))
        pod = self.access.get(self.pods_kind, namespace, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        if self._delay(pod) is None:
            return
        self.recorder.record(
            pod,
            "TaintManagerEviction",
            f"Marking for deletion Pod {namespace}/{name}",
            component="taint-eviction-controller",
        )
        with contextlib.suppress(ApiError):
            self.access.delete(self.pods_kind, namespace, name)
