"""The Deployment controller: ReplicaSets per pod template, rolling updates, status.

Follows the real controller's algorithm (pkg/controller/deployment):

* The pod template hash (FNV-32a of the template, safe-encoded) names the new
  ReplicaSet ``<deployment>-<hash>`` and labels its pods ``pod-template-hash``.
* The new ReplicaSet is the oldest one whose template equals the Deployment's
  ignoring that label (kube's ``EqualIgnoreHash``), equality being semantic: a null
  value or an empty map or list is the field left out. So a template copied back from
  an old ReplicaSet (``rollout undo``, whose patch carries
  ``metadata.creationTimestamp: null``; or reverting a ``restartedAt`` change) reuses
  that ReplicaSet, which takes the next revision and records the revisions it had in
  ``deployment.kubernetes.io/revision-history``.
* ``deployment.kubernetes.io/revision`` on the ReplicaSets and the Deployment;
  old ReplicaSets beyond ``revisionHistoryLimit`` are deleted once scaled to zero.
* RollingUpdate: scale the new ReplicaSet up to ``replicas + maxSurge`` total pods,
  scale old ones down while keeping ``replicas - maxUnavailable`` available
  (unhealthy old pods go first). Recreate: old to zero first, then the new one.
* Status from the ReplicaSets' status (``unavailableReplicas``: their desired
  replicas less the available ones, as kube counts); Available and Progressing
  conditions with the real reasons. Progress is kube's DeploymentProgressing -- more
  updated, ready or available pods, or fewer old ones (losing pods is not progress) --
  and a rollout without any for ``progressDeadlineSeconds`` is ProgressDeadlineExceeded
  (``kubectl rollout status`` then fails); a new ReplicaSet starts the clock again.
"""

from __future__ import annotations

import copy
import json
import math
from typing import TYPE_CHECKING, Any

from fakes.kube.clock import parse_time
from fakes.kube.controllers.access import controller_of, owner_reference
from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.revisions import (
    DESIRED,
    HASH_LABEL,
    MAX_REPLICAS,
    NOT_COPIED,
    REVISION,
    find_new_rs,
    revision_of,
    set_new_rs_annotations,
    template_hash,
)
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context
    from fakes.kube.store import Change

JsonObj = dict[str, Any]


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        frac = int(value[:-1]) * total / 100
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(value or 0)


def _replicas(rs: JsonObj) -> int:
    return int(rs.get("spec", {}).get("replicas", 0))


def _status(rs: JsonObj, field: str) -> int:
    return int((rs.get("status") or {}).get(field, 0))


class DeploymentController(Controller):
    name = "deployment-controller"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.deploy_kind = self.kind("deployments")
        self.rs_kind = self.kind("replicasets")

    def setup(self) -> None:
        self.watch("deployments", lambda c: self.enqueue((c.namespace, c.name)))
        self.watch("replicasets", self._on_rs)

    def resync(self) -> None:
        for stored in self.access.store.select(self.deploy_kind):
            self.enqueue((stored.namespace, stored.name))

    def _on_rs(self, change: Change) -> None:
        raw = change.raw
        if b'"kind":"Deployment"' not in raw:
            return
        for ref in json.loads(raw)["metadata"].get("ownerReferences") or ():
            if ref.get("controller") and ref.get("kind") == "Deployment":
                self.enqueue((change.namespace, ref["name"]))

    # -- reconcile ---------------------------------------------------------------

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        d = self.access.get(self.deploy_kind, namespace, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        uid = d["metadata"]["uid"]
        all_rs = [
            rs
            for rs in self.access.owned(self.rs_kind, uid)
            if (controller_of(rs) or {}).get("uid") == uid
        ]
        spec = d.get("spec", {})
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        h = template_hash(template, int((d.get("status") or {}).get("collisionCount", 0)))
        # By the hash label too: a template written without the server's defaults (a
        # PUT here is not defaulted as kube would) never equals its ReplicaSet's.
        new_rs = find_new_rs(template, all_rs) or next(
            (rs for rs in all_rs if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == h),
            None,
        )
        old_rs = [rs for rs in all_rs if rs is not new_rs]
        if spec.get("paused"):
            if new_rs is not None:
                self._scale(
                    d,
                    new_rs,
                    replicas if not any(_replicas(r) for r in old_rs) else _replicas(new_rs),
                )
            self._sync_status(d, new_rs, all_rs)
            return
        max_revision = max((revision_of(rs) for rs in old_rs), default=0)
        created = new_rs is None
        if new_rs is None:
            try:
                new_rs = self._create_rs(d, h, max_revision + 1, replicas, old_rs)
            except ApiError as exc:
                if exc.reason == "AlreadyExists":
                    # Another template hashed to this name: hash again with a new count.
                    status = d.setdefault("status", {})
                    status["collisionCount"] = int(status.get("collisionCount", 0)) + 1
                    self.access.update_status(self.deploy_kind, d)
                raise
            all_rs.append(new_rs)
        elif set_new_rs_annotations(d, new_rs, max_revision + 1):
            new_rs = self.access.update(self.rs_kind, new_rs)
            all_rs = [*old_rs, new_rs]
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            self._recreate(d, new_rs, old_rs, replicas)
        else:
            self._rolling(d, new_rs, old_rs, replicas)
        self._cleanup(d, old_rs)
        self._sync_status(d, new_rs, all_rs, created)

    def _surge_unavailable(self, d: JsonObj, replicas: int) -> tuple[int, int]:
        ru = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
        surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
        unavailable = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, unavailable

    def _create_rs(
        self, d: JsonObj, h: str, revision: int, replicas: int, old_rs: list[JsonObj]
    ) -> JsonObj:
        template = copy.deepcopy(d["spec"].get("template") or {})
        tmeta = template.setdefault("metadata", {})
        tmeta.setdefault("labels", {})[HASH_LABEL] = h
        selector = copy.deepcopy(d["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        surge, _ = self._surge_unavailable(d, replicas)
        rolling = (d["spec"].get("strategy") or {}).get("type") != "Recreate"
        if not any(_replicas(r) for r in old_rs):
            start = replicas
        elif rolling:
            start = max(0, min(replicas, replicas + surge - sum(_replicas(r) for r in old_rs)))
        else:
            start = 0
        annotations = {
            k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED
        }
        annotations.update(
            {REVISION: str(revision), DESIRED: str(replicas), MAX_REPLICAS: str(replicas + surge)}
        )
        rs = {
            "metadata": {
                "name": f"{d['metadata']['name']}-{h}",
                "namespace": d["metadata"]["namespace"],
                "labels": dict(tmeta["labels"]),
                "annotations": annotations,
                "ownerReferences": [owner_reference(d)],
            },
            "spec": {
                "replicas": start,
                "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        created = self.access.create(self.rs_kind, rs)
        if start:
            self._scaled_event(d, created, 0, start, "up")
        return created

    def _scale(self, d: JsonObj, rs: JsonObj, count: int) -> JsonObj:
        current = _replicas(rs)
        if current == count:
            return rs
        rs["spec"]["replicas"] = count
        replicas = int(d["spec"].get("replicas", 1))
        surge, _ = self._surge_unavailable(d, replicas)
        annotations = rs["metadata"].setdefault("annotations", {})
        annotations[DESIRED] = str(replicas)
        annotations[MAX_REPLICAS] = str(replicas + surge)
        updated = self.access.update(self.rs_kind, rs)
        self._scaled_event(d, rs, current, count, "up" if count > current else "down")
        return updated

    def _scaled_event(self, d: JsonObj, rs: JsonObj, old: int, new: int, direction: str) -> None:
        self.recorder.record(
            d,
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {old} to {new}",
            component="deployment-controller",
        )

    def _recreate(self, d: JsonObj, new_rs: JsonObj, old_rs: list[JsonObj], replicas: int) -> None:
        for rs in old_rs:
            if _replicas(rs):
                self._scale(d, rs, 0)
        if any(_status(rs, "replicas") for rs in old_rs) or any(_replicas(rs) for rs in old_rs):
            return
        self._scale(d, new_rs, replicas)

    def _rolling(self, d: JsonObj, new_rs: JsonObj, old_rs: list[JsonObj], replicas: int) -> None:
        surge, unavailable = self._surge_unavailable(d, replicas)
        active_old = [rs for rs in old_rs if _replicas(rs)]
        if not active_old:
            self._scale(d, new_rs, replicas)
            return
        # Scale the new ReplicaSet up within the surge budget.
        new_count = _replicas(new_rs)
        if new_count > replicas:
            new_rs = self._scale(d, new_rs, replicas)
        elif new_count < replicas:
            total = new_count + sum(_replicas(rs) for rs in active_old)
            room = replicas + surge - total
            if room > 0:
                new_rs = self._scale(d, new_rs, new_count + min(room, replicas - new_count))
        # Scale old ReplicaSets down within the availability budget.
        all_count = _replicas(new_rs) + sum(_replicas(rs) for rs in active_old)
        min_available = replicas - unavailable
        new_unavailable = _replicas(new_rs) - _status(new_rs, "availableReplicas")
        budget = all_count - min_available - new_unavailable
        if budget <= 0:
            return
        active_old.sort(
            key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"])
        )
        # Unhealthy old pods first: they do not count towards availability anyway.
        for rs in active_old:
            if budget <= 0:
                break
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            cut = min(unhealthy, budget)
            rs = self._scale(d, rs, _replicas(rs) - cut)
            budget -= cut
        available = _status(new_rs, "availableReplicas") + sum(
            min(_status(rs, "availableReplicas"), _replicas(rs)) for rs in active_old
        )
        budget = min(budget, available - min_available)
        for rs in active_old:
            if budget <= 0:
                break
            current = (
                self.access.get(self.rs_kind, rs["metadata"]["namespace"], rs["metadata"]["name"])
                or rs
            )
            cut = min(_replicas(current), budget)
            if cut:
                self._scale(d, current, _replicas(current) - cut)
                budget -= cut

    def _cleanup(self, d: JsonObj, old_rs: list[JsonObj]) -> None:
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        dead = [rs for rs in old_rs if not _replicas(rs) and not _status(rs, "replicas")]
        dead.sort(key=revision_of)
        for rs in dead[: max(0, len(dead) - limit)]:
            try:
                self.access.delete(
                    self.rs_kind, rs["metadata"]["namespace"], rs["metadata"]["name"]
                )
            except Exception:
                continue

    # -- status ------------------------------------------------------------------

    def _sync_status(
        self, d: JsonObj, new_rs: JsonObj | None, all_rs: list[JsonObj], created: bool = False
    ) -> None:
        fresh = []
        for rs in all_rs:
            cur = self.access.get(self.rs_kind, rs["metadata"]["namespace"], rs["metadata"]["name"])
            if cur is not None:
                fresh.append(cur)
        spec = d.get("spec", {})
        replicas = int(spec.get("replicas", 1))
        _, unavailable = self._surge_unavailable(d, replicas)
        new_name = new_rs["metadata"]["name"] if new_rs is not None else None
        new_cur = next((rs for rs in fresh if rs["metadata"]["name"] == new_name), None)
        total = sum(_status(rs, "replicas") for rs in fresh)
        ready = sum(_status(rs, "readyReplicas") for rs in fresh)
        desired = sum(_replicas(rs) for rs in fresh)
        avail = sum(_status(rs, "availableReplicas") for rs in fresh)
        updated = _status(new_cur, "replicas") if new_cur is not None else 0
        old_status = d.get("status") or {}
        now = self.access.timestamp()
        conditions = {c["type"]: dict(c) for c in old_status.get("conditions") or ()}

        def put(type: str, status: str, reason: str, message: str, progress: bool = False) -> None:
            c = conditions.get(type)
            if c is None:
                c = conditions[type] = {"type": type, "lastTransitionTime": now}
            elif c.get("status") != status:
                c["lastTransitionTime"] = now
            changed = (
                c.get("status") != status
                or c.get("reason") != reason
                or c.get("message") != message
            )
            if changed or progress:
                c["lastUpdateTime"] = now
            c.update(status=status, reason=reason, message=message)

        if avail >= replicas - unavailable:
            put(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        else:
            put(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        complete = updated == replicas and avail >= replicas and total == replicas
        # kube's DeploymentProgressing: more updated, ready or available pods, or fewer
        # old ones. Losing pods is not progress, so it does not hold off the deadline.
        progressed = (
            updated > old_status.get("updatedReplicas", 0)
            or ready > old_status.get("readyReplicas", 0)
            or avail > old_status.get("availableReplicas", 0)
            or total - updated
            < old_status.get("replicas", 0) - old_status.get("updatedReplicas", 0)
        )
        rs_text = f'ReplicaSet "{new_name}"'
        deadline = spec.get("progressDeadlineSeconds")
        if new_name is None:
            pass
        elif complete:
            put(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f"{rs_text} has successfully progressed.",
            )
        elif created or progressed or "Progressing" not in conditions:
            created = created or "Progressing" not in conditions
            put(
                "Progressing",
                "True",
                "NewReplicaSetCreated" if created else "ReplicaSetUpdated",
                f'Created new replica set "{new_name}"'
                if created
                else f"{rs_text} is progressing.",
                progress=True,
            )
            if deadline is not None:
                self.enqueue_after(
                    (d["metadata"]["namespace"], d["metadata"]["name"]),
                    float(deadline) + 1,
                    counts=False,
                )
        elif (
            deadline is not None
            and conditions["Progressing"].get("reason") != "ProgressDeadlineExceeded"
        ):
            since = parse_time(conditions["Progressing"].get("lastUpdateTime", now))
            if self.access.now() - since > float(deadline):
                put(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f"{rs_text} has timed out progressing.",
                )
        status: JsonObj = {"observedGeneration": d["metadata"].get("generation", 1)}
        for field, value in (
            ("replicas", total),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", avail),
            # kube: the ReplicaSets' desired replicas less the available ones.
            ("unavailableReplicas", max(desired - avail, 0)),
        ):
            if value:
                status[field] = value
        order = ("Available", "Progressing")
        status["conditions"] = [conditions[t] for t in order if t in conditions] + [
            c for t, c in conditions.items() if t not in order
        ]
        if "collisionCount" in old_status:
            status["collisionCount"] = old_status["collisionCount"]
        annotations = d["metadata"].setdefault("annotations", {})
        changed = False
        if new_cur is not None and annotations.get(REVISION) != str(revision_of(new_cur)):
            annotations[REVISION] = str(revision_of(new_cur))
            changed = True
        if changed:
            d = self.access.update(self.deploy_kind, d)
        if status != old_status:
            d["status"] = status
            self.access.update_status(self.deploy_kind, d)
