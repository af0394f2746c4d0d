"""Fast paths for building big, already-settled clusters.

Running every pod through the controllers costs a few milliseconds of Python per
pod (four writes, each encoded). Scenario builders that need thousands of nodes and
tens of thousands of pods write the *settled* state directly instead -- nodes Ready,
Deployments with their ReplicaSet and Running/Ready pods bound to nodes, statuses
caught up -- through the core's ``bulk_create``. The objects are what the controllers
would have produced, so when the controllers start (or are running) they find
nothing to do, and later changes (scale, rollout, node failure) proceed from there
as usual. What "what the controllers would have produced" means, exactly:

* **placement** -- a pod lands only on a node the scheduler would accept for it
  (``placement.py``'s filters: cordon, NoSchedule/NoExecute taints against the pod's
  tolerations, nodeSelector, pod slots, CPU and memory), spread round-robin over
  those nodes; the scheduler instead scores the least allocated, so *which* of the
  acceptable nodes may differ, never whether it is acceptable;
* **admission** -- the pod spec gets the API server's defaults, the admission
  tolerations and the namespace's LimitRange defaults, as a pod the ReplicaSet
  controller creates does (quota is not checked: builders count it up front);
* **addresses** -- pod IPs come from the cluster's one allocator (``pod_ips.py``),
  unique across Deployments and apart from the addresses the kubelet hands out;
* **shapes** -- the pod's status is the kubelet's after its start and ready stages
  (conditions in the order they are set, container statuses, host IP, QoS class), the
  ReplicaSet's and Deployment's as their controllers leave them.

``tests/integration/scenarios/test_settled_parity.py`` builds one profile both ways
and holds this to account.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.access import owner_reference
from fakes.kube.controllers.deployment import resolve_int_or_percent
from fakes.kube.controllers.kubelet import NODE_INFO, node_addresses
from fakes.kube.controllers.placement import (
    NodeInfo,
    node_unfit,
    pod_requests,
    short_of,
    unavailable_message,
    unfit,
)
from fakes.kube.controllers.pod_ips import pod_ips
from fakes.kube.controllers.revisions import (
    DESIRED,
    HASH_LABEL,
    MAX_REPLICAS,
    NOT_COPIED,
    REVISION,
    template_hash,
)
from fakes.kube.defaults import admit_pod, default_deployment, default_pod, pod_qos_class
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.controllers.config import NodeShape

JsonObj = dict[str, Any]
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
_IMAGE_DIGEST = "@sha256:" + "0" * 64


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
    """Where the settled path puts pods: on nodes the scheduler would accept, in turn.

    Usage starts from the pods already bound in the store (terminal ones do not
    count, as for the scheduler) and grows with every placement. Nodes are read
    again whenever one was added, removed or changed since the last placement, so a
    node cordoned or tainted after the placer was made is seen.
    """

    def __init__(self, api: Api) -> None:
        self._store = api.store
        self._nodes_kind = api.registry.resolve("nodes")
        pods_kind = api.registry.resolve("pods")
        self.nodes: dict[str, NodeInfo] = {}
        self._rvs: dict[str, int] = {}
        self._order: list[NodeInfo] = []
        # eligibility key -> (nodes passing the fixed filters, round-robin cursor)
        self._eligible: dict[str, tuple[list[NodeInfo], list[int]]] = {}
        self._sync()
        phase = pods_kind.extra_fields.index("status.phase")
        index = self._store.table(pods_kind).field_index.get("spec.nodeName", {})
        for node, pods in index.items():
            holder = self.nodes.get(node)
            if holder is None:
                continue
            for stored in pods:
                if stored.fields[phase] not in ("Succeeded", "Failed"):
                    holder.take(*pod_requests(stored.decode().get("spec", {})))

    def _sync(self) -> None:
        rvs = {s.name: s.rv for s in self._store.select(self._nodes_kind)}
        if rvs == self._rvs:
            return
        for name, rv in rvs.items():
            if self._rvs.get(name) == rv:
                continue
            stored = self._store.get(self._nodes_kind, "", name)
            assert stored is not None
            info = self.nodes.get(name)
            if info is None:
                self.nodes[name] = NodeInfo(stored.decode())
            else:
                info.refresh(stored.decode())
        for gone in self._rvs.keys() - rvs.keys():
            del self.nodes[gone]
        self._rvs = rvs
        self._order = [self.nodes[n] for n in sorted(self.nodes)]
        self._eligible.clear()

    def place(self, spec: JsonObj, count: int) -> list[str]:
        """Nodes for ``count`` pods of ``spec`` (admitted: defaults and tolerations in).

        All or nothing: if one fits nowhere, none is counted and the ``ValueError``
        says what every node lacks for it (the others of ``spec`` counted), in the
        scheduler's words.
        """
        self._sync()
        selector: dict[str, str] = spec.get("nodeSelector") or {}
        tolerations: list[JsonObj] = spec.get("tolerations") or []
        key = json.dumps([selector, tolerations], sort_keys=True)
        entry = self._eligible.get(key)
        if entry is None:
            fitting = [i for i in self._order if node_unfit(i, selector, tolerations) is None]
            entry = self._eligible[key] = (fitting, [0])
        nodes, cursor = entry
        cpu, mem = pod_requests(spec)
        n = len(nodes)
        start = cursor[0]
        placed: list[NodeInfo] = []
        for _ in range(count):
            for i in range(n):
                info = nodes[(start + i) % n]
                if not short_of(info, cpu, mem):
                    info.take(cpu, mem)
                    placed.append(info)
                    start = (start + i + 1) % n
                    break
            else:
                why = self._no_room(cpu, mem, selector, tolerations)
                for info in placed:
                    info.give_back(cpu, mem)
                raise ValueError(why)
        cursor[0] = start
        return [info.name for info in placed]

    def _no_room(
        self, cpu: int, mem: int, selector: dict[str, str], tolerations: list[JsonObj]
    ) -> str:
        reasons: dict[str, int] = {}
        for info in self._order:
            for reason in unfit(info, cpu, mem, selector, tolerations):
                reasons[reason] = reasons.get(reason, 0) + 1
        return (
            f"the cluster has no room for another pod requesting {cpu}m CPU and {mem} bytes "
            f"({unavailable_message(len(self._order), reasons)}); add nodes (or bigger "
            "ones, or ones its node selector and tolerations admit) before the workloads"
        )


def settled_deployment(api: Api, placer: Placer, body: JsonObj, namespace: str) -> int:
    """Write ``body`` (a Deployment) with its ReplicaSet and Ready pods; returns pod count.

    Raises ``ValueError`` (nothing written) when the pods fit on no node the
    scheduler would accept or the namespace's LimitRange refuses them.
    """
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
    rs_annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_COPIED
    }
    meta.setdefault("annotations", {})[REVISION] = "1"
    rs_name = f"{name}-{h}"
    template = copy.deepcopy(spec["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = h
    surge = resolve_int_or_percent(
        (spec["strategy"].get("rollingUpdate") or {}).get("maxSurge", "25%"), replicas, True
    )
    rs_annotations.update(
        {REVISION: "1", DESIRED: str(replicas), MAX_REPLICAS: str(replicas + surge)}
    )
    rs: JsonObj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name,
            "namespace": namespace,
            "uid": api.new_uid(),
            "generation": 1,
            "labels": dict(template["metadata"]["labels"]),
            "annotations": rs_annotations,
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
    generate_name = f"{rs_name}-"
    probe = _admitted(api, template, namespace, generate_name)
    nodes = placer.place(probe["spec"], replicas)
    api.bulk_create("deployments", [d])
    api.bulk_create("replicasets", [rs])
    rs_ref = owner_reference(rs)
    rng = api.rng
    ips = pod_ips(api.store)
    # Pods share their read-only parts (spec, status pieces): the store encodes each
    # object at once and never keeps the dicts, so only what differs is copied.
    spec_base = probe["spec"]
    status_base = _running_status(spec_base, now)
    containers = status_base.pop("containerStatuses")
    labels = dict(template["metadata"]["labels"])
    annotations = template["metadata"].get("annotations")
    host_ips: dict[str, str] = {}
    pods = []
    taken: set[str] = set()
    for node in nodes:
        suffix = "".join(rng.choice(_SUFFIX) for _ in range(5))
        while suffix in taken:  # 300 draws from 27**5 names collide once in ~300 sets
            suffix = "".join(rng.choice(_SUFFIX) for _ in range(5))
        taken.add(suffix)
        uid = api.new_uid()
        pod_meta: JsonObj = {
            "name": generate_name + suffix,
            "generateName": generate_name,
            "namespace": namespace,
            "uid": uid,
            "labels": labels,
            "ownerReferences": [rs_ref],
        }
        if annotations:
            pod_meta["annotations"] = annotations
        host = host_ips.get(node)
        if host is None:
            host = host_ips[node] = node_addresses(node)[0]["address"]
        ip = ips.allocate()
        runtime_id = "containerd://" + uid.replace("-", "")
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": pod_meta,
                "spec": {**spec_base, "nodeName": node},
                "status": {
                    **status_base,
                    "hostIP": host,
                    "hostIPs": [{"ip": host}],
                    "podIP": ip,
                    "podIPs": [{"ip": ip}],
                    "containerStatuses": [
                        {**c, "containerID": f"{runtime_id}{i}"} for i, c in enumerate(containers)
                    ],
                },
            }
        )
    api.bulk_create("pods", pods)
    return replicas


def _admitted(api: Api, template: JsonObj, namespace: str, generate_name: str) -> JsonObj:
    """A pod of ``template`` as the API server stores it when the ReplicaSet creates it."""
    probe: JsonObj = {
        "metadata": {"namespace": namespace, "generateName": generate_name},
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    default_pod(probe)
    admit_pod(probe)
    try:
        api.admission.apply_limit_ranges(api.registry.resolve("pods"), probe)
    except ApiError as exc:
        raise ValueError(f"its pods are refused by the namespace's LimitRange: {exc}") from None
    return probe


def _running_status(spec: JsonObj, now: str) -> JsonObj:
    """A pod's status once the kubelet has started it and its containers are ready.

    Conditions stand in the order they are first set: PodScheduled by the binding,
    the rest by the kubelet's start stage, and Ready/ContainersReady turned True by its
    ready stage.
    """
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        for t in (
            "PodScheduled",
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
        )
    ]
    return {
        "phase": "Running",
        "conditions": conditions,
        "startTime": now,
        "qosClass": pod_qos_class(spec),
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "imageID": f"docker.io/library/{c.get('image', '')}{_IMAGE_DIGEST}",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
                "lastState": {},
            }
            for c in spec.get("containers") or ()
        ],
    }
