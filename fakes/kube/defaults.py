"""Defaulting on create, as the real API server's defaulters and strategies do it.

Controllers and the engine read these defaults back (a Deployment's rolling-update
strategy, a pod's restartPolicy and QoS class, a Job's generated selector), so the
simulated cluster fills them exactly where the real one does. Only fields someone
reads are defaulted; everything else is left as sent.
"""

from __future__ import annotations

from typing import Any

from engine.quantity import QuantityError, parse_quantity

JsonObj = dict[str, Any]

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


def default_container(c: JsonObj) -> None:
    image = c.get("image") or ""
    if "imagePullPolicy" not in c:
        tag = image.rsplit("/", 1)[-1]
        latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
        c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    resources = c.setdefault("resources", {})
    limits = resources.get("limits")
    if isinstance(limits, dict) and limits:
        requests = resources.setdefault("requests", {})
        for name, value in limits.items():
            requests.setdefault(name, value)
    for port in c.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def default_pod_spec(spec: JsonObj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or ():
            if isinstance(c, dict):
                default_container(c)


def default_pod(pod: JsonObj) -> None:
    """Pod defaults plus what admission adds (service account, default tolerations)."""
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
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


def _default_template(obj: JsonObj) -> None:
    template = obj.get("spec", {}).get("template")
    if isinstance(template, dict):
        default_pod_spec(template.setdefault("spec", {}))
        template.setdefault("metadata", {})


def default_deployment(obj: JsonObj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(obj)


def default_replicaset(obj: JsonObj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _default_template(obj)


def default_statefulset(obj: JsonObj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"partition": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(obj)


def default_daemonset(obj: JsonObj) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(obj)


def default_job(obj: JsonObj) -> None:
    """Job defaults, including the generated ``controller-uid`` selector and labels."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    template = spec.setdefault("template", {})
    tmeta = template.setdefault("metadata", {})
    if not spec.get("manualSelector"):
        uid = obj["metadata"]["uid"]
        name = obj["metadata"]["name"]
        labels = tmeta.setdefault("labels", {})
        labels.setdefault("batch.kubernetes.io/controller-uid", uid)
        labels.setdefault("batch.kubernetes.io/job-name", name)
        labels.setdefault("controller-uid", uid)
        labels.setdefault("job-name", name)
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    default_pod_spec(template.setdefault("spec", {}))
    template["spec"].setdefault("restartPolicy", "Never")


def default_namespace(obj: JsonObj) -> None:
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}


class ServiceIPs:
    """Hands out ClusterIPs from 10.96.0.0/12 in order (deterministic)."""

    def __init__(self) -> None:
        self.next = 10

    def allocate(self) -> str:
        n = self.next
        self.next += 1
        return f"10.96.{n // 256}.{n % 256}"


def default_service(obj: JsonObj, ips: ServiceIPs) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
        spec["clusterIP"] = ips.allocate()
        spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or ():
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


DEFAULTERS = {
    "pods": default_pod,
    "deployments": default_deployment,
    "replicasets": default_replicaset,
    "statefulsets": default_statefulset,
    "daemonsets": default_daemonset,
    "jobs": default_job,
    "namespaces": default_namespace,
}
