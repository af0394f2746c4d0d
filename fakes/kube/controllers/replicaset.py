"""The ReplicaSet controller: keep ``spec.replicas`` live pods, report true status.

Pods are found through the store's owner index (ownerReferences), so a reconcile
costs the ReplicaSet's own pods, not the store. Terminating and finished pods do not
count as replicas (they are replaced at once), as in the real controller. Scale-down
deletes the least useful pods first: unscheduled, then not running, then not ready,
then the most recently created.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.access import controller_of, owner_reference
from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.kubelet import condition, pod_ready
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context
    from fakes.kube.store import Change

JsonObj = dict[str, Any]


def active(pod: JsonObj) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and pod.get("status", {}).get(
        "phase"
    ) not in (
        "Succeeded",
        "Failed",
    )


def available(pod: JsonObj, min_ready: float, now: float, parse: Any) -> bool:
    """Ready for at least ``min_ready`` seconds (``parse`` turns a timestamp into seconds)."""
    if not pod_ready(pod):
        return False
    if min_ready <= 0:
        return True
    c = condition(pod, "Ready")
    since = parse(c.get("lastTransitionTime")) if c else now
    return bool(now - since >= min_ready)


class PodOwnerController(Controller):
    """Shared plumbing of controllers that own pods: map pod changes to the owner."""

    owner_kind_name = ""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.owner_kind = self.kind(self.owner_kind_name)
        self.pods_kind = self.kind("pods")

    def setup(self) -> None:
        self.watch(self.owner_kind_name, self._on_owner)
        self.watch("pods", self._on_pod)

    def resync(self) -> None:
        for stored in self.access.store.select(self.owner_kind):
            self.enqueue((stored.namespace, stored.name))

    def _on_owner(self, change: Change) -> None:
        self.enqueue((change.namespace, change.name))

    def _on_pod(self, change: Change) -> None:
        # The owner name is in the raw bytes; decoding only the ownerReferences would
        # need a parser, and pod writes are the hot path, so look for our kind first.
        marker = b'"kind":"' + self.owner_kind.kind.encode() + b'"'
        raw = change.raw
        at = raw.find(b'"ownerReferences"')
        if at < 0 or raw.find(marker, at) < 0:
            return
        import json

        for ref in json.loads(raw)["metadata"].get("ownerReferences") or ():
            if ref.get("controller") and ref.get("kind") == self.owner_kind.kind:
                self.enqueue((change.namespace, ref["name"]))

    def pods_of(self, owner: JsonObj) -> list[JsonObj]:
        return self.access.owned(self.pods_kind, owner["metadata"]["uid"])

    def new_pod(
        self,
        owner: JsonObj,
        template: JsonObj,
        name: str | None = None,
        extra_labels: dict[str, str] | None = None,
    ) -> JsonObj:
        meta = template.get("metadata") or {}
        pod_meta: JsonObj = {
            "namespace": owner["metadata"]["namespace"],
            "labels": dict(meta.get("labels") or {}, **(extra_labels or {})),
            "ownerReferences": [owner_reference(owner)],
        }
        if meta.get("annotations"):
            pod_meta["annotations"] = dict(meta["annotations"])
        if name:
            pod_meta["name"] = name
        else:
            pod_meta["generateName"] = owner["metadata"]["name"] + "-"
        return {"metadata": pod_meta, "spec": copy.deepcopy(template.get("spec") or {})}

    def write_status(self, obj: JsonObj, status: JsonObj) -> None:
        if obj.get("status") == status:
            return
        obj["status"] = status
        self.access.update_status(self.owner_kind, obj)


class ReplicaSetController(PodOwnerController):
    name = "replicaset-controller"
    owner_kind_name = "replicasets"

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        rs = self.access.get(self.owner_kind, namespace, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        # Read-only views (cached per pod revision): nothing below changes a pod dict.
        pods = [
            p
            for p in self.access.owned_view(self.pods_kind, rs["metadata"]["uid"])
            if (controller_of(p) or {}).get("uid") == rs["metadata"]["uid"]
        ]
        live = [p for p in pods if active(p)]
        want = int(rs.get("spec", {}).get("replicas", 1))
        if len(live) < want:
            template = rs.get("spec", {}).get("template") or {}
            for _ in range(want - len(live)):
                try:
                    pod = self.access.create(self.pods_kind, self.new_pod(rs, template))
                except ApiError as exc:
                    self.create_refused(rs, key, exc, "replicaset-controller")
                    break
                live.append(pod)
                self.recorder.record(
                    rs,
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    component="replicaset-controller",
                )
        elif len(live) > want:
            live.sort(key=_deletion_rank)
            doomed, live = live[: len(live) - want], live[len(live) - want :]
            for pod in doomed:
                try:
                    self.access.delete(self.pods_kind, namespace, pod["metadata"]["name"])
                except ApiError:
                    continue
                self.recorder.record(
                    rs,
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    component="replicaset-controller",
                )
        self.update_status(rs, live)

    def update_status(self, rs: JsonObj, live: list[JsonObj]) -> None:
        spec = rs.get("spec", {})
        min_ready = float(spec.get("minReadySeconds") or 0)
        now = self.access.now()
        from fakes.kube.clock import parse_time

        labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
        ready = sum(1 for p in live if pod_ready(p))
        avail = sum(1 for p in live if available(p, min_ready, now, parse_time))
        if min_ready > 0 and avail < ready:
            self.enqueue_after((rs["metadata"]["namespace"], rs["metadata"]["name"]), min_ready)
        status: JsonObj = {
            "replicas": len(live),
            "fullyLabeledReplicas": sum(
                1
                for p in live
                if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
            ),
            "readyReplicas": ready,
            "availableReplicas": avail,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        old = rs.get("status") or {}
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        self.write_status(
            rs, {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        )


def _deletion_rank(pod: JsonObj) -> tuple[int, int, int, str]:
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}
    return (
        1 if pod.get("spec", {}).get("nodeName") else 0,
        phase_rank.get(pod.get("status", {}).get("phase", "Pending"), 0),
        1 if pod_ready(pod) else 0,
        _neg(pod["metadata"].get("creationTimestamp", "")),
    )


def _neg(text: str) -> str:
    # Newest first: invert each character so a plain ascending sort puts later
    # timestamps first.
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)
