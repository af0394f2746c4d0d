"""Measuring cluster room for resource-aware admission, from the Kubernetes API.

:class:`CapacityTracker` keeps an :class:`engine.admission.CapacityLedger` in step with a
cluster: allocatable capacity of the schedulable Ready nodes, the requests of the pods
bound to them, and every namespace's ResourceQuota. It measures once when started, then
again whenever the pod watch reports a change (coalesced: one measurement per burst of
events), and every ``interval`` seconds for node and quota changes. A measurement is a
few list calls, so it stays off the dispatch path: the engine only reads the ledger.

Several quotas in one namespace are combined into the tightest: for each resource the
smallest hard limit and the largest usage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from engine.admission import CapacityLedger
from engine.kube_actions.errors import KubeTransientError
from engine.kube_actions.rest import Kube
from engine.quantity import format_quantity, parse_quantity

_DONE_PHASES = frozenset({"Succeeded", "Failed"})


def _requests(pod: Mapping[str, Any]) -> tuple[Fraction, Fraction]:
    cpu = memory = Fraction(0)
    for container in (pod.get("spec") or {}).get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        cpu += parse_quantity(requests.get("cpu", 0))
        memory += parse_quantity(requests.get("memory", 0))
    return cpu, memory


def _schedulable(node: Mapping[str, Any]) -> bool:
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def measure(kube: Kube, ledger: CapacityLedger) -> None:
    """One measurement of nodes, pods and quotas into ``ledger``."""
    nodes = (await kube.get("/api/v1/nodes")).get("items") or []
    pods = (await kube.get("/api/v1/pods")).get("items") or []
    quotas = (await kube.get("/api/v1/resourcequotas")).get("items") or []
    usable = {n["metadata"]["name"] for n in nodes if _schedulable(n)}
    cpu_total = memory_total = Fraction(0)
    pods_total = 0
    for node in nodes:
        if node["metadata"]["name"] in usable:
            allocatable = (node.get("status") or {}).get("allocatable") or {}
            cpu_total += parse_quantity(allocatable.get("cpu", 0))
            memory_total += parse_quantity(allocatable.get("memory", 0))
            pods_total += int(parse_quantity(allocatable.get("pods", 0)))
    cpu_used = memory_used = Fraction(0)
    pods_used = 0
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name not in usable or (pod.get("status") or {}).get("phase") in _DONE_PHASES:
            continue
        cpu, memory = _requests(pod)
        cpu_used += cpu
        memory_used += memory
        pods_used += 1
    ledger.set_cluster(
        _quantities(cpu_total, memory_total, pods_total),
        _quantities(cpu_used, memory_used, pods_used),
    )
    combined: dict[str, tuple[dict[str, Fraction], dict[str, Fraction]]] = {}
    for quota in quotas:
        namespace = quota["metadata"].get("namespace", "")
        status = quota.get("status") or {}
        hard_now = status.get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used_now = status.get("used") or {}
        hard, use = combined.setdefault(namespace, ({}, {}))
        for key, value in hard_now.items():
            amount = parse_quantity(value)
            hard[key] = min(hard.get(key, amount), amount)
        for key, value in used_now.items():
            amount = parse_quantity(value)
            use[key] = max(use.get(key, amount), amount)
    for namespace, (hard, use) in combined.items():
        ledger.set_quota(
            namespace,
            {k: format_quantity(v) for k, v in hard.items()},
            {k: format_quantity(v) for k, v in use.items()},
        )


def _quantities(cpu: Fraction, memory: Fraction, pods: int) -> dict[str, Any]:
    return {"cpu": format_quantity(cpu), "memory": format_quantity(memory), "pods": pods}


class CapacityTracker:
    """Keeps a ledger measured from a cluster while started (see the module docstring)."""

    def __init__(self, api_client: Any, ledger: CapacityLedger, *, interval: float = 30.0) -> None:
        self.kube = Kube(api_client)
        self.ledger = ledger
        self.interval = interval
        self.measurements = 0
        self._task: asyncio.Task[None] | None = None
        self._dirty = asyncio.Event()

    async def start(self) -> None:
        """Measure once (so the ledger is right before any step is admitted), then track."""
        await self._measure()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop tracking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _measure(self) -> None:
        await measure(self.kube, self.ledger)
        self.measurements += 1

    async def _run(self) -> None:
        watcher = asyncio.get_running_loop().create_task(self._watch_pods())
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self._dirty.wait()
                self._dirty.clear()
                with contextlib.suppress(KubeTransientError):
                    await self._measure()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _watch_pods(self) -> None:
        while True:
            try:
                listed = await self.kube.get("/api/v1/pods", limit=1)
                version = str((listed.get("metadata") or {}).get("resourceVersion", ""))
                async for _ in self.kube.watch(
                    "/api/v1/pods", resource_version=version, timeout=self.interval
                ):
                    self._dirty.set()
            except Exception:  # 410 Gone, a dropped stream, an outage: list and watch again
                self._dirty.set()
                await asyncio.sleep(1.0)
