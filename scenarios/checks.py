"""Cross-field checks of a resolved profile: what the schema alone cannot see.

* Every deployment's pod fits on its own: some node pool it may schedule on (node
  selector, taints) is big enough for one pod, and one pod is within its namespace's
  quota -- and, where the quota limits CPU or memory, the pod requests them (or a
  limit range defaults them), or quota admission would refuse every pod. A profile
  may still ask for *more replicas* than fit (ResourceConstrained does, on purpose):
  those stay Pending or are refused by quota, which is behaviour to test, not a typo.
* Timed events name a node the profile creates (or ``first`` / ``last``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from engine.errors import Problem
from engine.quantity import parse_quantity
from fakes.kube.controllers.scheduler import tolerates
from scenarios.documents import problem_at
from scenarios.merge import Origins
from scenarios.schema import Deployment, Namespace, NodePool, Profile

ZONE_LABEL = "topology.kubernetes.io/zone"


def pool_node_names(pool: NodePool) -> list[str]:
    return [pool.name_pattern.replace("{i}", str(i)) for i in range(1, pool.count + 1)]


def node_names(profile: Profile) -> list[str]:
    """Every node the profile creates, in pool order."""
    return [n for pool in profile.cluster.node_pools.values() for n in pool_node_names(pool)]


def pool_labels(pool: NodePool) -> dict[str, str]:
    labels = dict(pool.labels)
    if pool.zone:
        labels[ZONE_LABEL] = pool.zone
    return labels


def resolve_node(profile: Profile, node: str) -> str:
    names = node_names(profile)
    if node == "first":
        return names[0]
    if node == "last":
        return names[-1]
    return node


def pod_requests(dep: Deployment, ns: Namespace) -> tuple[Fraction | None, Fraction | None]:
    """(CPU cores, memory bytes) one pod will request after LimitRange defaulting."""
    lr = ns.limit_range

    def pick(field: str) -> Fraction | None:
        candidates = [
            getattr(dep.requests, field),
            getattr(lr.default_request, field) if lr and lr.default_request else None,
            getattr(dep.limits, field),
            getattr(lr.default, field) if lr and lr.default else None,
        ]
        value = next((c for c in candidates if c is not None), None)
        return parse_quantity(value) if value is not None else None

    return pick("cpu"), pick("memory")


def tolerations_of(dep: Deployment) -> list[dict[str, Any]]:
    return [
        {"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect}
        for t in dep.tolerations
    ]


def _fmt(cpu: Fraction | None, mem: Fraction | None) -> str:
    c = "no CPU" if cpu is None else f"{float(cpu):g} CPU"
    m = "no memory" if mem is None else f"{float(mem) / 2**20:g}Mi"
    return f"{c} / {m}"


def check_profile(profile: Profile, origins: Origins) -> list[Problem]:
    problems: list[Problem] = []
    names = set(node_names(profile))
    for i, event in enumerate(profile.cluster.events):
        if event.node in ("first", "last"):
            if not names:
                problems.append(
                    problem_at(origins, "the profile creates no nodes", ("cluster", "events", i))
                )
        elif event.node not in names:
            problems.append(
                problem_at(
                    origins,
                    f"no node named {event.node!r} in the profile's node pools "
                    "(use a node name, 'first' or 'last')",
                    ("cluster", "events", i, "node"),
                )
            )
    pools = [p for p in profile.cluster.node_pools.values() if p.count > 0]
    for ns_name, ns in profile.cluster.namespaces.items():
        for dep_name, dep in ns.deployments.items():
            if dep.replicas == 0:
                continue
            path = ("cluster", "namespaces", ns_name, "deployments", dep_name)
            where = f"deployment '{dep_name}' in namespace '{ns_name}'"
            cpu, mem = pod_requests(dep, ns)
            for why in _fit(dep, cpu, mem, pools, ns):
                problems.append(problem_at(origins, f"{where}: {why}", path))
    return problems


def _fit(
    dep: Deployment,
    cpu: Fraction | None,
    mem: Fraction | None,
    pools: list[NodePool],
    ns: Namespace,
) -> list[str]:
    out = []
    tolerations = tolerations_of(dep)
    eligible = [
        p
        for p in pools
        if all(pool_labels(p).get(k) == v for k, v in dep.node_selector.items())
        and all(
            t.effect == "PreferNoSchedule"
            or tolerates(tolerations, {"key": t.key, "value": t.value, "effect": t.effect})
            for t in p.taints
        )
    ]
    if not eligible:
        out.append(
            "no node pool matches its node_selector and tolerations, so its pods could "
            "never be scheduled"
        )
    elif not any(
        (cpu is None or cpu <= parse_quantity(p.cpu))
        and (mem is None or mem <= parse_quantity(p.memory))
        for p in eligible
    ):
        biggest = ", ".join(
            f"{p.name_pattern.replace('{i}', 'N')} "
            f"{_fmt(parse_quantity(p.cpu), parse_quantity(p.memory))}"
            for p in eligible
        )
        out.append(
            f"one pod requests {_fmt(cpu, mem)}, more than any node it may run on "
            f"offers ({biggest}); it could never be scheduled"
        )
    quota = ns.quota
    if quota is not None:
        for label, amount, limit in (("CPU", cpu, quota.cpu), ("memory", mem, quota.memory)):
            if limit is None:
                continue
            if amount is None:
                out.append(
                    f"the namespace quota limits {label} requests but its pods request no "
                    f"{label}; set requests or a limit_range default_request, or quota "
                    "admission refuses every pod"
                )
            elif amount > parse_quantity(limit):
                out.append(
                    f"one pod requests {_fmt(cpu, mem)}, more {label} than the namespace "
                    f"quota allows ({limit}); no pod could ever be admitted"
                )
        if quota.pods == 0:
            out.append("the namespace quota allows 0 pods")
    return out


def check_settled_quotas(profile: Profile) -> list[Problem]:
    """In ``mode: settled`` no admission runs: every namespace's whole workload must
    fit its quota up front (in ``controllers`` mode the excess is refused, as in a
    real cluster)."""
    problems = []
    for ns_name, ns in profile.cluster.namespaces.items():
        quota = ns.quota
        if quota is None:
            continue
        cpu = mem = Fraction(0)
        pods = 0
        for dep in ns.deployments.values():
            c, m = pod_requests(dep, ns)
            cpu += (c or 0) * dep.replicas
            mem += (m or 0) * dep.replicas
            pods += dep.replicas
        over = []
        if quota.cpu is not None and cpu > parse_quantity(quota.cpu):
            over.append(f"{float(cpu):g} CPU of {quota.cpu}")
        if quota.memory is not None and mem > parse_quantity(quota.memory):
            over.append(f"{float(mem) / 2**20:g}Mi of {quota.memory}")
        if quota.pods is not None and pods > quota.pods:
            over.append(f"{pods} pods of {quota.pods}")
        if over:
            problems.append(
                Problem(
                    f"namespace '{ns_name}': mode 'settled' writes every pod without "
                    f"admission, but its workloads need more than its quota "
                    f"({'; '.join(over)}); use mode 'controllers' or raise the quota",
                    field=f"cluster.namespaces.{ns_name}.quota",
                )
            )
    return problems
