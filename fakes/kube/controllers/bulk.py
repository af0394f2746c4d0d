"""Fast paths for building big, already-settled clusters.

Running every pod through the controllers costs a few milliseconds of Python per
pod (four writes, each encoded). Scenario builders that need thousands of nodes and
tens of thousands of pods write the *settled* state directly instead -- nodes Ready,
Deployments with their ReplicaSet and Running/Ready pods bound to nodes, statuses
caught up -- through the core's ``bulk_create``. The objects are exactly what the
controllers would have produced, so when the controllers start (or are running)
they find nothing to do, and later changes (scale, rollout, node failure) proceed
from there as usual.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.access import owner_reference
from fakes.kube.controllers.kubelet import NODE_INFO, node_addresses
from fakes.kube.controllers.revisions import HASH_LABEL, REVISION, template_hash
from fakes.kube.controllers.scheduler import NodeInfo, pod_requests
from fakes.kube.defaults import admit_pod, default_deployment, default_pod

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.controllers.config import NodeShape

JsonObj = dict[str, Any]
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"


def node_object(name: str, shape: NodeShape, now: str) -> JsonObj:
    """A Ready node as the kubelet reports it."""
    resources = {
        "cpu": shape.cpu,
        "memory": shape.memory,
        "pods": str(shape.pods),
        "ephemeral-storage": "100Gi",
    }
    conditions = [
        {
            "type": t,
            "status": "False",
            "reason": r,
            "message": "",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        for t, r in (
            ("MemoryPressure", "KubeletHasSufficientMemory"),
            ("DiskPressure", "KubeletHasNoDiskPressure"),
            ("PIDPressure", "KubeletHasSufficientPID"),
        )
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                **shape.labels,
            },
        },
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": conditions,
            "addresses": node_addresses(name),
            "nodeInfo": dict(NODE_INFO),
        },
    }


def add_nodes(api: Api, names: list[str], shape: NodeShape) -> int:
    now = api.now()
    return api.bulk_create("nodes", (node_object(n, shape, now) for n in names))


class Placer:
    """Round-robin placement with capacity checks (cordoned and tainted nodes skipped)."""

    def __init__(self, api: Api) -> None:
        nodes_kind = api.registry.resolve("nodes")
        pods_kind = api.registry.resolve("pods")
        self.nodes: list[NodeInfo] = []
        by_name: dict[str, NodeInfo] = {}
        for stored in api.store.select(nodes_kind):
            info = NodeInfo(stored.decode())
            by_name[info.name] = info
            if not info.unschedulable and not info.taints:
                self.nodes.append(info)
        index = api.store.table(pods_kind).field_index.get("spec.nodeName", {})
        for node, pods in index.items():
            holder = by_name.get(node)
            if holder is None:
                continue
            for stored in pods:
                cpu, mem = pod_requests(stored.decode().get("spec", {}))
                holder.used_cpu += cpu
                holder.used_mem += mem
                holder.used_pods += 1
        self.next = 0

    def place(self, cpu: int, mem: int) -> str:
        n = len(self.nodes)
        for i in range(n):
            info = self.nodes[(self.next + i) % n]
            if (
                info.used_pods < info.pods
                and info.used_cpu + cpu <= info.cpu
                and info.used_mem + mem <= info.mem
            ):
                self.next = (self.next + i + 1) % n
                info.used_pods += 1
                info.used_cpu += cpu
                info.used_mem += mem
                return info.name
        raise ValueError(
            f"the cluster has no room for another pod requesting {cpu}m CPU and {mem} bytes; "
            "add nodes (or bigger ones) before the workloads"
        )


def settled_deployment(api: Api, placer: Placer, body: JsonObj, namespace: str) -> int:
    """Write ``body`` (a Deployment) with its ReplicaSet and Ready pods; returns pod count."""
    now = api.now()
    d = copy.deepcopy(body)
    d["apiVersion"], d["kind"] = "apps/v1", "Deployment"
    meta = d.setdefault("metadata", {})
    meta["namespace"] = namespace
    meta["uid"] = api.new_uid()
    meta["generation"] = 1
    default_deployment(d)
    name = meta["name"]
    spec = d["spec"]
    replicas = int(spec["replicas"])
    h = template_hash(spec["template"])
    meta.setdefault("annotations", {})[REVISION] = "1"
    rs_name = f"{name}-{h}"
    template = copy.deepcopy(spec["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = h
    surge = spec["strategy"].get("rollingUpdate", {}).get("maxSurge", "25%")
    rs: JsonObj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name,
            "namespace": namespace,
            "uid": api.new_uid(),
            "generation": 1,
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {
                REVISION: "1",
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                "deployment.kubernetes.io/max-replicas": str(replicas + _surge(surge, replicas)),
            },
            "ownerReferences": [owner_reference(d)],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": spec.get("minReadySeconds", 0),
            "selector": selector,
            "template": template,
        },
        "status": {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "observedGeneration": 1,
        },
    }
    if not replicas:
        rs["status"] = {"replicas": 0, "observedGeneration": 1}
    status: JsonObj = {"observedGeneration": 1}
    if replicas:
        status.update(
            replicas=replicas,
            updatedReplicas=replicas,
            readyReplicas=replicas,
            availableReplicas=replicas,
        )
    status["conditions"] = [
        {
            "type": "Available",
            "status": "True",
            "lastUpdateTime": now,
            "lastTransitionTime": now,
            "reason": "MinimumReplicasAvailable",
            "message": "Deployment has minimum availability.",
        },
        {
            "type": "Progressing",
            "status": "True",
            "lastUpdateTime": now,
            "lastTransitionTime": now,
            "reason": "NewReplicaSetAvailable",
            "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
        },
    ]
    d["status"] = status
    api.bulk_create("deployments", [d])
    api.bulk_create("replicasets", [rs])
    rs_ref = owner_reference(rs)
    pod_template = template
    probe: JsonObj = {"metadata": {}, "spec": copy.deepcopy(pod_template.get("spec") or {})}
    default_pod(probe)
    admit_pod(probe)
    cpu, mem = pod_requests(probe["spec"])
    rng = api.rng
    # Pods share their read-only parts (spec, status pieces): the store encodes each
    # object at once and never keeps the dicts, so only what differs is copied.
    spec_base = probe["spec"]
    status_base = _running_status(pod_template, now)
    labels = dict(pod_template["metadata"]["labels"])
    annotations = pod_template["metadata"].get("annotations")
    generate_name = f"{rs_name}-"
    pods = []
    taken: set[str] = set()
    for i in range(replicas):
        suffix = "".join(rng.choice(_SUFFIX) for _ in range(5))
        while suffix in taken:  # 300 draws from 27**5 names collide once in ~300 sets
            suffix = "".join(rng.choice(_SUFFIX) for _ in range(5))
        taken.add(suffix)
        pod_meta: JsonObj = {
            "name": generate_name + suffix,
            "generateName": generate_name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [rs_ref],
        }
        if annotations:
            pod_meta["annotations"] = annotations
        ip = f"10.245.{(i // 250) % 250}.{i % 250 + 2}"
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": pod_meta,
                "spec": {**spec_base, "nodeName": placer.place(cpu, mem)},
                "status": {**status_base, "podIP": ip, "podIPs": [{"ip": ip}]},
            }
        )
    api.bulk_create("pods", pods)
    return replicas


def _surge(value: Any, replicas: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return -(-int(value[:-1]) * replicas // 100)
    return int(value)


def _running_status(template: JsonObj, now: str) -> JsonObj:
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        for t in (
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        )
    ]
    return {
        "phase": "Running",
        "conditions": conditions,
        "startTime": now,
        "qosClass": "BestEffort",
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
                "lastState": {},
            }
            for c in (template.get("spec") or {}).get("containers") or ()
        ],
    }
