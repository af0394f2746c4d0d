"""Settled mode against the controllers: one profile built both ways must agree.

``mode: settled`` writes Deployments already rolled out (``fakes.kube.controllers.bulk``)
instead of letting the controllers create, schedule and start every pod. It is only
a shortcut if the result is what the controllers would have made, so this builds
``profiles/SettledParity.yaml`` -- labelled pools, a NoSchedule GPU pool, a
NoExecute infra pool, a PreferNoSchedule pool; selectors and tolerations of every
kind; a LimitRange and a quota -- both ways under virtual time and compares:

* **placement rules** -- every pod is on a node its selector and tolerations admit
  (written out by hand below, pool by pool) and no node holds more than its
  allocatable; per Deployment, the multiset of per-pod eligible node sets is the
  same both ways. *Which* admissible node a pod gets may differ: the scheduler
  scores the least allocated, the settled path goes round-robin;
* **addresses** -- no two pods share an IP, in either build, nor once the
  controllers add pods to a settled cluster;
* **shapes** -- every object of the workloads (pods, ReplicaSets, Deployments,
  services, endpoints, slices, budgets, quotas) is equal field for field, apart
  from generated names, uids, IPs, timestamps, resourceVersions, managedFields and
  node names.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fakes.kube.controllers.placement import NodeInfo, node_unfit, pod_requests
from scenarios import build_cluster, load_profile
from tests.integration.scenarios.conftest import ready

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

JsonObj = dict[str, Any]
PROFILE = Path(__file__).parent / "profiles" / "SettledParity.yaml"
MODES = ("settled", "controllers")
KINDS = (
    "deployments",
    "replicasets",
    "pods",
    "services",
    "endpoints",
    "endpointslices",
    "poddisruptionbudgets",
    "resourcequotas",
)

# Where each deployment's pods may run, read off the profile by hand.
ELIGIBLE_POOLS = {
    ("default", "web"): {"general", "soft"},  # no tolerations; PreferNoSchedule only steers
    ("default", "cache"): {"general"},  # disk=ssd
    ("ml", "trainer"): {"gpu"},  # accelerator=nvidia, tolerates the GPU taint by Exists
    ("ml", "notebook"): {"general", "soft", "gpu"},  # tolerates the GPU taint by value
    ("infra", "ingress"): {"infra"},  # pool=infra, tolerates dedicated=infra:NoExecute
    ("infra", "node-exporter"): {"general", "soft", "gpu", "infra"},  # tolerates everything
    ("infra", "log-shipper"): {"general", "soft", "infra"},  # key dedicated, any effect
    ("infra", "batch"): {"general", "soft"},  # dedicated=batch does not match =infra
}


async def snapshot(mode: str) -> dict[str, list[JsonObj]]:
    """Every node and workload object of the profile built in ``mode``, once settled."""
    sim = await build_cluster(load_profile(PROFILE), mode=mode)  # type: ignore[arg-type]
    try:
        objects = {kind: sim.api.list(kind) for kind in ("nodes", *KINDS)}
    finally:
        await sim.stop()
    return objects


def deployment_of(pod: JsonObj) -> tuple[str, str]:
    return pod["metadata"]["namespace"], pod["metadata"]["labels"]["app"]


def pool_of(node: JsonObj) -> str:
    pool: str = node["metadata"]["labels"]["pool"]
    return pool


@pytest.mark.parametrize("mode", MODES)
async def test_every_pod_runs_on_a_node_its_selector_and_tolerations_admit(mode: str) -> None:
    objects = await snapshot(mode)
    nodes = {n["metadata"]["name"]: n for n in objects["nodes"]}
    pods = objects["pods"]
    assert Counter(deployment_of(p) for p in pods) == {
        ("default", "web"): 6,
        ("default", "cache"): 3,
        ("ml", "trainer"): 4,
        ("ml", "notebook"): 2,
        ("infra", "ingress"): 2,
        ("infra", "node-exporter"): 8,
        ("infra", "log-shipper"): 3,
        ("infra", "batch"): 2,
    }
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert ready(pod)
        pool = pool_of(nodes[pod["spec"]["nodeName"]])
        assert pool in ELIGIBLE_POOLS[deployment_of(pod)], (pod["metadata"]["name"], pool)
    use: dict[str, list[int]] = {name: [0, 0, 0] for name in nodes}
    for pod in pods:
        cpu, mem = pod_requests(pod["spec"])
        counts = use[pod["spec"]["nodeName"]]
        counts[0] += cpu
        counts[1] += mem
        counts[2] += 1
    for name, (cpu, mem, count) in use.items():
        info = NodeInfo(nodes[name])
        assert cpu <= info.cpu, name
        assert mem <= info.mem, name
        assert count <= info.pods, name


async def test_each_pod_may_run_on_the_same_nodes_both_ways() -> None:
    built = {mode: await snapshot(mode) for mode in MODES}
    eligibility: dict[str, Counter[tuple[tuple[str, str], frozenset[str]]]] = {}
    for mode, objects in built.items():
        infos = [NodeInfo(n) for n in objects["nodes"]]
        pools = {n["metadata"]["name"]: pool_of(n) for n in objects["nodes"]}
        seen: Counter[tuple[tuple[str, str], frozenset[str]]] = Counter()
        for pod in objects["pods"]:
            spec = pod["spec"]
            admits = {
                pools[i.name]
                for i in infos
                if node_unfit(i, spec.get("nodeSelector") or {}, spec.get("tolerations") or [])
                is None
            }
            assert admits == ELIGIBLE_POOLS[deployment_of(pod)], (mode, pod["metadata"]["name"])
            seen[deployment_of(pod), frozenset(admits)] += 1
        eligibility[mode] = seen
    assert eligibility["settled"] == eligibility["controllers"]


@pytest.mark.parametrize("mode", MODES)
async def test_no_two_pods_share_an_ip(mode: str) -> None:
    pods = (await snapshot(mode))["pods"]
    ips = [p["status"]["podIP"] for p in pods]
    assert len(set(ips)) == len(ips) == 30
    assert all(p["status"]["podIPs"] == [{"ip": p["status"]["podIP"]}] for p in pods)


async def test_pods_the_controllers_add_to_a_settled_cluster_get_fresh_ips() -> None:
    sim = await build_cluster(load_profile(PROFILE), mode="settled")
    try:
        settled = {p["metadata"]["name"]: p["status"]["podIP"] for p in sim.api.list("pods")}
        for ns, name, replicas in (("default", "web", 8), ("ml", "notebook", 4)):
            sim.api.patch("deployments", name, {"spec": {"replicas": replicas}}, ns)
        restart = {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}
        sim.api.patch("deployments", "cache", {"spec": {"template": restart}}, "default")
        await sim.settle()
        pods = sim.api.list("pods")
        assert len(pods) == 30 + 2 + 2
        assert all(ready(p) for p in pods)
        new = [p for p in pods if p["metadata"]["name"] not in settled]
        assert len(new) == 2 + 2 + 3
        ips = [p["status"]["podIP"] for p in pods]
        assert len(set(ips)) == len(ips)
        assert not {p["status"]["podIP"] for p in new} & set(settled.values())
    finally:
        await sim.stop()


async def test_settled_objects_are_the_controllers_objects() -> None:
    built = {mode: await snapshot(mode) for mode in MODES}
    shapes = {mode: _shapes(objects) for mode, objects in built.items()}
    settled, controllers = shapes["settled"], shapes["controllers"]
    assert settled.keys() == controllers.keys()
    problems = [
        f"{key}: {line}"
        for key in sorted(settled)
        for line in _differences(settled[key], controllers[key])
    ]
    assert not problems, "settled != controllers:\n" + "\n".join(problems[:40])


# -- normalising ---------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_DROPPED_KEYS = frozenset({"resourceVersion", "managedFields"})


def _shapes(objects: dict[str, list[JsonObj]]) -> dict[str, list[str]]:
    """Per (kind, namespace, app or name): the normalised objects, as sorted JSON."""
    replace: dict[str, str] = {}
    for n in objects["nodes"]:
        replace[n["metadata"]["name"]] = "<node>"
    for kind in KINDS:
        for obj in objects[kind]:
            meta = obj["metadata"]
            replace[meta["uid"]] = "<uid>"
            replace[meta["uid"].replace("-", "")] = "<uid>"
            if meta.get("generateName"):
                replace[meta["name"]] = meta["generateName"] + "<suffix>"
    out: dict[str, list[str]] = {}
    for kind in KINDS:
        for obj in objects[kind]:
            meta = obj["metadata"]
            group = (meta.get("labels") or {}).get("app", meta["name"])
            key = f"{kind} {meta['namespace']}/{group}"
            out.setdefault(key, []).append(json.dumps(_normalised(obj, replace), sort_keys=True))
    return {k: sorted(v) for k, v in out.items()}


def _normalised(value: Any, replace: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _normalised(v, replace) for k, v in value.items() if k not in _DROPPED_KEYS}
    if isinstance(value, list):
        return [_normalised(v, replace) for v in value]
    if isinstance(value, str):
        return _string(value, replace)
    return value


def _string(value: str, replace: dict[str, str]) -> str:
    if value in replace:
        return replace[value]
    if _TIMESTAMP.match(value):
        return "<time>"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return "<ip>"
    if value.startswith("containerd://"):  # the container's id is its pod's uid and index
        head, index = value[len("containerd://") : -1], value[-1]
        return f"containerd://{replace.get(head, head)}{index}"
    return value


def _differences(a: list[str], b: list[str]) -> list[str]:
    if len(a) != len(b):
        return [f"{len(a)} settled, {len(b)} through the controllers"]
    lines: list[str] = []
    for x, y in zip(a, b, strict=True):
        if x != y:
            lines.extend(_paths(json.loads(x), json.loads(y), ""))
    return lines


def _paths(a: Any, b: Any, at: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            line
            for k in sorted(a.keys() | b.keys())
            for line in _paths(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{at}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            line
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for line in _paths(x, y, f"{at}[{i}]")
        ]
    return [] if a == b else [f"{at or '.'}: settled {a!r}, controllers {b!r}"]
