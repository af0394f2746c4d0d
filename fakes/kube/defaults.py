"""Defaulting, as the real API server's defaulters, strategies and admission do it.

Controllers and the engine read these defaults back (a Deployment's rolling-update
strategy, a pod's restartPolicy and QoS class, a Job's generated selector), so the
simulated cluster fills them exactly where the real one does. Only fields someone
reads are defaulted; everything else is left as sent.

Two tables, because kube fills fields at two moments:

* :data:`DEFAULTERS` are the scheme defaulters (``SetDefaults_*``). kube runs them
  whenever it decodes a body, so on every write: create, update, each patch type and
  server-side apply. They only fill what is missing, so running them on an object
  that already has its defaults changes nothing (a no-op update stays a no-op);
* :data:`CREATE_DEFAULTERS` are what happens on create only: the registry strategies'
  ``PrepareForCreate`` (a Job's generated selector, a Namespace's finalizer and phase)
  and the admission plugins (a pod's service account, priority and default
  tolerations).

Both are keyed by ``(group, plural)``. A defaulter leaves a field alone when what is
there has the wrong type: such a body is the decoder's to refuse, not ours to crash on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.quantity import QuantityError, parse_quantity

JsonObj = dict[str, Any]
Defaulter = Callable[[JsonObj], None]

_NOT_READY_TOLERATIONS = (
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
)


def _map(parent: JsonObj, key: str) -> JsonObj | None:
    """``parent[key]``, an empty map when absent or null; None when it is not a map."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def default_container(c: JsonObj) -> None:
    image = c.get("image") or ""
    if "imagePullPolicy" not in c and isinstance(image, str):
        tag = image.rsplit("/", 1)[-1]
        latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
        c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    resources = _map(c, "resources")
    limits = resources.get("limits") if resources is not None else None
    if resources is not None and isinstance(limits, dict) and limits:
        requests = _map(resources, "requests")
        if requests is not None:
            for name, value in limits.items():
                requests.setdefault(name, value)
    for port in c.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in c.get("env") or ():
        source = env.get("valueFrom") if isinstance(env, dict) else None
        if isinstance(source, dict):
            _default_field_ref(source)


def _default_field_ref(holder: JsonObj) -> None:
    """``SetDefaults_ObjectFieldSelector``: a ``fieldRef`` names ``apiVersion: v1``."""
    ref = holder.get("fieldRef")
    if isinstance(ref, dict):
        ref.setdefault("apiVersion", "v1")


def _default_volumes(spec: JsonObj) -> None:
    """Downward API volume items' ``fieldRef`` defaults, as in the container env."""
    for volume in spec.get("volumes") or ():
        downward = volume.get("downwardAPI") if isinstance(volume, dict) else None
        items = downward.get("items") if isinstance(downward, dict) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict):
                _default_field_ref(item)


def default_pod_spec(spec: JsonObj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    _default_volumes(spec)
    for key in ("containers", "initContainers"):
        containers = spec.get(key)
        if isinstance(containers, list):
            for c in containers:
                if isinstance(c, dict):
                    default_container(c)


def default_pod(pod: JsonObj) -> None:
    """``SetDefaults_Pod``: the pod spec's defaults and ``enableServiceLinks``."""
    spec = _map(pod, "spec")
    if spec is None:
        return
    default_pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)


def admit_pod(pod: JsonObj) -> None:
    """What admission adds to a new pod: service account, priority, default tolerations."""
    spec = _map(pod, "spec")
    if spec is None:
        return
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    if not isinstance(tolerations, list):
        return
    keys = {t.get("key") for t in tolerations if isinstance(t, dict)}
    for t in _NOT_READY_TOLERATIONS:
        if t["key"] not in keys:
            tolerations.append(dict(t))


def pod_qos_class(spec: JsonObj) -> str:
    """Guaranteed, Burstable or BestEffort, computed like the kubelet's qos package."""
    containers = [c for c in (spec.get("containers") or []) if isinstance(c, dict)]
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in lim or name not in req:
                guaranteed = False
                continue
            try:
                if parse_quantity(req[name]) != parse_quantity(lim[name]):
                    guaranteed = False
            except QuantityError:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed and containers else "Burstable"


def _default_template(spec: JsonObj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        tspec = _map(template, "spec")
        if tspec is not None:
            default_pod_spec(tspec)
        template.setdefault("metadata", {})


def default_deployment(obj: JsonObj) -> None:
    spec = _map(obj, "spec")
    if spec is None:
        return
    spec.setdefault("replicas", 1)
    strategy = _map(spec, "strategy")
    if strategy is not None:
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = _map(strategy, "rollingUpdate")
            if ru is not None:
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(spec)


def default_replicaset(obj: JsonObj) -> None:
    spec = _map(obj, "spec")
    if spec is None:
        return
    spec.setdefault("replicas", 1)
    _default_template(spec)


def default_statefulset(obj: JsonObj) -> None:
    spec = _map(obj, "spec")
    if spec is None:
        return
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"partition": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(spec)


def default_daemonset(obj: JsonObj) -> None:
    spec = _map(obj, "spec")
    if spec is None:
        return
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(spec)


def default_job(obj: JsonObj) -> None:
    spec = _map(obj, "spec")
    if spec is None:
        return
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    template = _map(spec, "template")
    if template is not None:
        template.setdefault("metadata", {})
        tspec = _map(template, "spec")
        if tspec is not None:
            default_pod_spec(tspec)


def generate_job_selector(obj: JsonObj) -> None:
    """A new Job's ``controller-uid`` selector and template labels (unless manual)."""
    spec = _map(obj, "spec")
    template = _map(spec, "template") if spec is not None else None
    tmeta = _map(template, "metadata") if template is not None else None
    if spec is None or tmeta is None or spec.get("manualSelector"):
        return
    labels = _map(tmeta, "labels")
    if labels is None:
        return
    uid = obj["metadata"]["uid"]
    name = obj["metadata"]["name"]
    labels.setdefault("batch.kubernetes.io/controller-uid", uid)
    labels.setdefault("batch.kubernetes.io/job-name", name)
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", name)
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})


def default_namespace(obj: JsonObj) -> None:
    labels = _map(obj["metadata"], "labels")
    if labels is not None:
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def prepare_namespace(obj: JsonObj) -> None:
    """A new Namespace: the ``kubernetes`` finalizer and phase Active."""
    spec = _map(obj, "spec")
    if spec is not None:
        spec.setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}


def default_secret(obj: JsonObj) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"


class ServiceIPs:
    """Hands out ClusterIPs from 10.96.0.0/12 in order (deterministic)."""

    def __init__(self) -> None:
        self.next = 10

    def allocate(self) -> str:
        n = self.next
        self.next += 1
        return f"10.96.{n // 256}.{n % 256}"


def default_service(obj: JsonObj, ips: ServiceIPs, old: JsonObj | None = None) -> None:
    """Service defaults and a ClusterIP; an update keeps the IPs ``old`` already has.

    As kube's ``patchAllocatedValues``, an update that leaves ``clusterIP`` out keeps
    the allocated one rather than getting a new address.
    """
    spec = _map(obj, "spec")
    if spec is None:
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if old is not None and spec["type"] != "ExternalName" and not spec.get("clusterIP"):
        old_spec = old.get("spec") or {}
        if old_spec.get("type") != "ExternalName" and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
                spec["clusterIPs"] = old_spec["clusterIPs"]
    if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
        spec["clusterIP"] = ips.allocate()
        spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    ports = spec.get("ports")
    for port in ports if isinstance(ports, list) else ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


# Status fields Go serialises even when zero (no omitempty); the official client's
# models require some of them, so a fresh or partially written status carries them.
ZERO_STATUS: dict[str, JsonObj] = {
    "replicasets": {"replicas": 0},
    "statefulsets": {"replicas": 0, "availableReplicas": 0},
    "daemonsets": {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    },
    "horizontalpodautoscalers": {"desiredReplicas": 0},
    "poddisruptionbudgets": {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    },
    "services": {"loadBalancer": {}},
}


def with_zero_status(plural: str, status: JsonObj | None) -> JsonObj:
    """``status`` with the kind's always-serialised zero fields filled in."""
    zero = ZERO_STATUS.get(plural)
    if zero is None:
        return status if status is not None else {}
    return {**zero, **(status or {})}


# The scheme defaulters: every write (create, update, patch, apply).
DEFAULTERS: dict[tuple[str, str], Defaulter] = {
    ("", "pods"): default_pod,
    ("apps", "deployments"): default_deployment,
    ("apps", "replicasets"): default_replicaset,
    ("apps", "statefulsets"): default_statefulset,
    ("apps", "daemonsets"): default_daemonset,
    ("batch", "jobs"): default_job,
    ("", "namespaces"): default_namespace,
    ("", "secrets"): default_secret,
}
# Strategies and admission: create only, after the scheme defaulters.
CREATE_DEFAULTERS: dict[tuple[str, str], Defaulter] = {
    ("", "pods"): admit_pod,
    ("batch", "jobs"): generate_job_selector,
    ("", "namespaces"): prepare_namespace,
}
