"""StatefulSet, DaemonSet and Job basics, on the shared pod-owner plumbing.

* StatefulSet: pods ``<name>-<ordinal>``, created in order (OrderedReady waits for
  the previous ordinal to be Ready; Parallel does not), removed from the highest
  ordinal; a template change replaces pods from the highest ordinal one at a time.
* DaemonSet: one pod per node that fits (nodeSelector, taints), bound directly; a pod
  stays on a node tainted NoSchedule after it started (only NoExecute evicts it).
* Job: runs ``parallelism`` pods until ``completions`` succeed; ``backoffLimit``
  failures fail it. Conditions Complete / Failed with the real reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.kubelet import pod_ready
from fakes.kube.controllers.replicaset import PodOwnerController, active
from fakes.kube.controllers.revisions import template_hash
from fakes.kube.controllers.scheduler import tolerates
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context

JsonObj = dict[str, Any]

REVISION_LABEL = "controller-revision-hash"


class StatefulSetController(PodOwnerController):
    name = "statefulset-controller"
    owner_kind_name = "statefulsets"

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        sts = self.access.get(self.owner_kind, namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        spec = sts.get("spec", {})
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        revision = f"{name}-{template_hash(template)}"
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        by_name = {p["metadata"]["name"]: p for p in self.pods_of(sts)}
        for i in range(replicas):
            pod_name = f"{name}-{i}"
            pod = by_name.get(pod_name)
            if pod is None:
                labels = {
                    "statefulset.kubernetes.io/pod-name": pod_name,
                    REVISION_LABEL: revision,
                    "apps.kubernetes.io/pod-index": str(i),
                }
                new = self.new_pod(sts, template, pod_name, labels)
                new["spec"].setdefault("hostname", pod_name)
                if spec.get("serviceName"):
                    new["spec"].setdefault("subdomain", spec["serviceName"])
                try:
                    self.access.create(self.pods_kind, new)
                except ApiError as exc:
                    self.create_refused(
                        sts,
                        key,
                        exc,
                        "statefulset-controller",
                        f"create Pod {pod_name} in StatefulSet {name} failed error: {exc.message}",
                    )
                    break
                self.recorder.record(
                    sts,
                    "SuccessfulCreate",
                    f"create Pod {pod_name} in StatefulSet {name} successful",
                    component="statefulset-controller",
                )
                if ordered:
                    break
            elif ordered and not (active(pod) and pod_ready(pod)):
                break
        else:
            for pod_name, pod in sorted(by_name.items(), key=lambda kv: -_ordinal(kv[0])):
                if _ordinal(pod_name) >= replicas and not pod["metadata"].get("deletionTimestamp"):
                    self.access.delete(self.pods_kind, namespace, pod_name)
                    self.recorder.record(
                        sts,
                        "SuccessfulDelete",
                        f"delete Pod {pod_name} in StatefulSet {name} successful",
                        component="statefulset-controller",
                    )
                    if ordered:
                        break
            else:
                self._roll(sts, by_name, replicas, revision)
        self._status(sts, revision)

    def _roll(
        self, sts: JsonObj, by_name: dict[str, JsonObj], replicas: int, revision: str
    ) -> None:
        live = [
            by_name[f"{sts['metadata']['name']}-{i}"]
            for i in range(replicas)
            if f"{sts['metadata']['name']}-{i}" in by_name
        ]
        if any(not (active(p) and pod_ready(p)) for p in live):
            return
        partition = int(
            ((sts["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get(
                "partition", 0
            )
        )
        if (sts["spec"].get("updateStrategy") or {}).get("type") == "OnDelete":
            return
        for pod in sorted(live, key=lambda p: -_ordinal(p["metadata"]["name"])):
            if _ordinal(pod["metadata"]["name"]) < partition:
                break
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision:
                self.access.delete(
                    self.pods_kind, pod["metadata"]["namespace"], pod["metadata"]["name"]
                )
                return

    def _status(self, sts: JsonObj, revision: str) -> None:
        live = [p for p in self.pods_of(sts) if active(p)]
        updated = sum(
            1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision
        )
        ready = sum(1 for p in live if pod_ready(p))
        old = sts.get("status") or {}
        status: JsonObj = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": updated if updated == len(live) else len(live) - updated,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": revision
            if updated == len(live)
            else old.get("currentRevision", revision),
            "updateRevision": revision,
            "collisionCount": 0,
        }
        self.write_status(sts, status)


def _ordinal(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


class DaemonSetController(PodOwnerController):
    name = "daemonset-controller"
    owner_kind_name = "daemonsets"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.nodes_kind = self.kind("nodes")

    def setup(self) -> None:
        super().setup()
        self.watch("nodes", lambda c: self.resync())

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        ds = self.access.get(self.owner_kind, namespace, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        template = ds.get("spec", {}).get("template") or {}
        revision = template_hash(template)
        tspec = template.get("spec") or {}
        selector = tspec.get("nodeSelector") or {}
        tolerations = daemon_tolerations(tspec)
        fits: dict[str, tuple[bool, bool]] = {}
        for stored in self.access.store.select(self.nodes_kind):
            fits[stored.name] = should_run(stored.decode(), selector, tolerations)
        pods = sorted(
            (p for p in self.pods_of(ds) if active(p)),
            key=lambda p: p["metadata"].get("creationTimestamp", ""),
        )
        on: dict[str, JsonObj] = {}
        for p in pods:
            node_name = p.get("spec", {}).get("nodeName", "")
            run, keep = fits.get(node_name, (False, False))
            stale = (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision
            if not keep or node_name in on or (stale and run):
                self.access.delete(self.pods_kind, namespace, p["metadata"]["name"])
            else:
                on[node_name] = p
        for node_name, (run, _) in fits.items():
            if not run or node_name in on:
                continue
            pod = self.new_pod(ds, template, extra_labels={REVISION_LABEL: revision})
            pod["spec"]["nodeName"] = node_name
            pod["spec"]["tolerations"] = tolerations
            try:
                created = self.access.create(self.pods_kind, pod)
            except ApiError as exc:
                self.create_refused(ds, key, exc, "daemonset-controller")
                break
            self.recorder.record(
                ds,
                "SuccessfulCreate",
                f"Created pod: {created['metadata']['name']}",
                component="daemonset-controller",
            )
        self._status(ds, fits, on, revision)

    def _status(
        self,
        ds: JsonObj,
        fits: dict[str, tuple[bool, bool]],
        on: dict[str, JsonObj],
        revision: str,
    ) -> None:
        # As updateDaemonSetStatus: only nodes that should run the pod are desired;
        # a pod kept on a node it may no longer be started on is misscheduled.
        desired = [n for n, (run, _) in fits.items() if run]
        current = [on[n] for n in desired if n in on]
        ready = sum(1 for p in current if pod_ready(p))
        status: JsonObj = {
            "currentNumberScheduled": len(current),
            "desiredNumberScheduled": len(desired),
            "numberMisscheduled": sum(1 for n in on if not fits.get(n, (False, False))[0]),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": sum(
                1
                for p in current
                if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision
            ),
            "numberAvailable": ready,
        }
        if len(desired) - ready:
            status["numberUnavailable"] = len(desired) - ready
        self.write_status(ds, status)


_DAEMON_TOLERATIONS: tuple[tuple[str, str], ...] = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


def daemon_tolerations(tspec: JsonObj) -> list[JsonObj]:
    """The template's tolerations plus those the DaemonSet controller adds to every pod.

    As AddOrUpdateDaemonPodTolerations: a daemon pod survives a NotReady or
    unreachable node (no tolerationSeconds) and ignores pressure and cordons;
    host-network pods also tolerate an unavailable network.
    """
    tolerations = list(tspec.get("tolerations") or ())
    defaults = list(_DAEMON_TOLERATIONS)
    if tspec.get("hostNetwork"):
        defaults.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    for taint_key, effect in defaults:
        tolerations = [
            t for t in tolerations if (t.get("key"), t.get("effect")) != (taint_key, effect)
        ]
        tolerations.append({"key": taint_key, "operator": "Exists", "effect": effect})
    return tolerations


def should_run(
    node: JsonObj, selector: dict[str, str], tolerations: list[JsonObj]
) -> tuple[bool, bool]:
    """``(should_run, should_continue_running)`` of a daemon pod on ``node``.

    As NodeShouldRunDaemonPod: a node whose labels do not match gets no pod and
    loses one it has; an untolerated NoSchedule taint only stops a new pod from
    being started, while an untolerated NoExecute taint also evicts a running one.
    ``spec.unschedulable`` is ignored (daemon pods tolerate the cordon taint).
    """
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False, False
    untolerated = [
        t
        for t in node.get("spec", {}).get("taints") or ()
        if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, t)
    ]
    if not untolerated:
        return True, True
    return False, all(t.get("effect") != "NoExecute" for t in untolerated)


class JobController(PodOwnerController):
    name = "job-controller"
    owner_kind_name = "jobs"

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        job = self.access.get(self.owner_kind, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        spec = job.get("spec", {})
        old = job.get("status") or {}
        if any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in old.get("conditions") or ()
        ):
            return
        pods = self.pods_of(job)
        succeeded = sum(1 for p in pods if p.get("status", {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if p.get("status", {}).get("phase") == "Failed")
        running = [p for p in pods if active(p)]
        completions = int(spec.get("completions") or 1)
        parallelism = int(spec.get("parallelism", 1))
        now = self.access.timestamp()
        status: JsonObj = dict(old)
        status.setdefault("startTime", now)
        conditions = list(old.get("conditions") or ())
        if failed > int(spec.get("backoffLimit", 6)):
            for p in running:
                self.access.delete(self.pods_kind, namespace, p["metadata"]["name"])
            running = []
            conditions += [
                {
                    "type": "FailureTarget",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                },
            ]
            self.recorder.record(
                job,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                "Warning",
                component="job-controller",
            )
        elif succeeded >= completions:
            conditions += [
                {
                    "type": "SuccessCriteriaMet",
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Complete",
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                },
            ]
            status["completionTime"] = now
            self.recorder.record(job, "Completed", "Job completed", component="job-controller")
        elif not spec.get("suspend"):
            want = min(parallelism, completions - succeeded) - len(running)
            template = spec.get("template") or {}
            for _ in range(max(want, 0)):
                try:
                    pod = self.access.create(self.pods_kind, self.new_pod(job, template))
                except ApiError as exc:
                    self.create_refused(job, key, exc, "job-controller")
                    break
                running.append(pod)
                self.recorder.record(
                    job,
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    component="job-controller",
                )
        status["active"] = len(running)
        status["ready"] = sum(1 for p in running if pod_ready(p))
        status["succeeded"] = succeeded
        status["failed"] = failed
        status["terminating"] = sum(1 for p in pods if p["metadata"].get("deletionTimestamp"))
        status["uncountedTerminatedPods"] = {}
        status = {
            k: v
            for k, v in status.items()
            if v or k in ("ready", "terminating", "uncountedTerminatedPods")
        }
        if conditions:
            status["conditions"] = conditions
        self.write_status(job, status)
