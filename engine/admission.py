"""Resource-aware admission: steps that declare what they will need wait for room.

A step may declare ``resources`` (for example scaling up by N replicas of a known pod
size). Before the engine starts it, it asks an :class:`Admission` to *reserve* that
demand against cluster allocatable capacity and the namespace's quota. What does not
fit is queued (and retried whenever capacity is released or re-measured) or failed at
once, per the step's ``on_insufficient``; a reservation is held while the step runs
and released when it ends, so concurrent steps never over-commit the cluster.

:class:`CapacityLedger` is the bookkeeping: capacity and usage are fed to it (by
:mod:`engine.kube_capacity` from a real or simulated cluster, or by hand in tests) and
reservations are checked against what is left. Reservation is synchronous: it sits on
the dispatch path and must not wait for the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, NamedTuple, Protocol, runtime_checkable

from engine.quantity import QuantityError, format_quantity, parse_quantity


class Demand(NamedTuple):
    """What a step needs: CPU cores, memory bytes and pod slots, in one namespace."""

    namespace: str | None
    cpu: Fraction
    memory: Fraction
    pods: int

    @classmethod
    def parse(cls, request: Mapping[str, Any]) -> Demand:
        """From a step's resolved ``resources``: per-replica cpu/memory times ``replicas``.

        Raises ValueError naming the field that is not a quantity or a count.
        """
        replicas = request.get("replicas", 1)
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ValueError(f"resources.replicas must be a whole number ≥ 0, got {replicas!r}")
        amounts = {}
        for field in ("cpu", "memory"):
            value = request.get(field, 0)
            try:
                amounts[field] = parse_quantity(value) * replicas
            except (QuantityError, TypeError) as exc:
                raise ValueError(f"resources.{field}: {exc}") from None
        pods = request.get("pods", replicas)
        if isinstance(pods, bool) or not isinstance(pods, int) or pods < 0:
            raise ValueError(f"resources.pods must be a whole number ≥ 0, got {pods!r}")
        return cls(request.get("namespace"), amounts["cpu"], amounts["memory"], pods)

    def describe(self) -> str:
        """Human-readable, in the units kubectl prints."""
        where = f" in namespace {self.namespace}" if self.namespace else ""
        return (
            f"cpu={format_quantity(self.cpu)}, memory={format_quantity(self.memory, binary=True)}, "
            f"pods={self.pods}{where}"
        )


@runtime_checkable
class Admission(Protocol):
    """Reserves capacity for steps; the engine's view of the cluster's room."""

    def try_reserve(self, key: str, demand: Demand) -> str | None:
        """Reserve ``demand`` under ``key``; None if reserved, else why it does not fit."""

    def release(self, key: str) -> None:
        """Give back what ``key`` reserved (unknown keys are ignored)."""

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` whenever room may have grown; returns an unsubscribe."""


class _Room(NamedTuple):
    cpu: Fraction
    memory: Fraction
    pods: int


class CapacityLedger:
    """An :class:`Admission` over known capacity, usage and reservations.

    ``set_cluster`` records allocatable capacity and what running pods already use;
    ``set_quota`` records a namespace quota's hard limits and usage. A reservation fits
    when the cluster and the namespace quota (if the namespace has one) both have room
    left after every other reservation.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cluster: tuple[_Room, _Room] | None = None
        self._quotas: dict[str, tuple[_Room, _Room]] = {}
        self._reserved: dict[str, Demand] = {}
        self._subscribers: list[Callable[[], None]] = []

    def set_cluster(self, allocatable: Mapping[str, Any], used: Mapping[str, Any]) -> None:
        """Cluster capacity (sum of nodes' allocatable) and current usage."""
        with self._lock:
            self._cluster = (_room(allocatable), _room(used))
        self._notify()

    def set_quota(self, namespace: str, hard: Mapping[str, Any], used: Mapping[str, Any]) -> None:
        """A namespace's quota: its hard limits (requests.cpu, requests.memory, pods) and use."""
        with self._lock:
            self._quotas[namespace] = (_quota_room(hard, _UNLIMITED), _quota_room(used, ZERO))
        self._notify()

    def try_reserve(self, key: str, demand: Demand) -> str | None:
        """Reserve ``demand`` under ``key`` if it fits; else say what is short."""
        with self._lock:
            if self._cluster is not None:
                reason = _short(demand, *self._cluster, self._reserved.values(), "the cluster")
                if reason:
                    return reason
            quota = self._quotas.get(demand.namespace or "")
            if quota is not None:
                same_ns = [d for d in self._reserved.values() if d.namespace == demand.namespace]
                reason = _short(
                    demand, *quota, same_ns, f"the quota of namespace {demand.namespace}"
                )
                if reason:
                    return reason
            self._reserved[key] = demand
            return None

    def release(self, key: str) -> None:
        """Give back a reservation."""
        with self._lock:
            released = self._reserved.pop(key, None)
        if released is not None:
            self._notify()

    def reserved(self) -> dict[str, Demand]:
        """Current reservations by key."""
        with self._lock:
            return dict(self._reserved)

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when room may have grown."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _notify(self) -> None:
        for callback in tuple(self._subscribers):
            callback()


def _room(values: Mapping[str, Any]) -> _Room:
    return _Room(
        parse_quantity(values.get("cpu", 0)),
        parse_quantity(values.get("memory", 0)),
        int(parse_quantity(values.get("pods", 0))),
    )


_UNLIMITED = Fraction(10**30)


ZERO = Fraction(0)


def _quota_room(values: Mapping[str, Any], absent: Fraction) -> _Room:
    """A quota's hard limits (``absent`` = unlimited) or usage (``absent`` = 0).

    A resource the quota does not name must not constrain a step: its limit is
    unlimited and its use counts as none (a fresh quota's ``status.used`` is empty too).
    Only request quotas (``requests.cpu``/``cpu``, ``requests.memory``/``memory``,
    ``pods``) bound a demand, which is in requests: ``limits.*`` alone bounds nothing
    here (kube then requires pods to declare limits, which the API server enforces).
    """

    def amount(*names: str) -> Fraction:
        for name in names:
            if name in values:
                return parse_quantity(values[name])
        return absent

    return _Room(
        amount("requests.cpu", "cpu"),
        amount("requests.memory", "memory"),
        int(min(amount("pods", "count/pods"), Fraction(10**9))),
    )


def _short(demand: Demand, total: _Room, used: _Room, others: Any, where: str) -> str | None:
    others = list(others)
    free_cpu = total.cpu - used.cpu - sum((d.cpu for d in others), Fraction(0))
    free_mem = total.memory - used.memory - sum((d.memory for d in others), Fraction(0))
    free_pods = total.pods - used.pods - sum(d.pods for d in others)
    missing = []
    if demand.cpu > free_cpu:
        free = format_quantity(max(free_cpu, Fraction(0)))
        missing.append(f"cpu {format_quantity(demand.cpu)} > {free} free")
    if demand.memory > free_mem:
        missing.append(
            f"memory {format_quantity(demand.memory, binary=True)} > "
            f"{format_quantity(max(free_mem, Fraction(0)), binary=True)} free"
        )
    if demand.pods > free_pods:
        missing.append(f"pods {demand.pods} > {max(free_pods, 0)} free")
    if not missing:
        return None
    return f"not enough room in {where}: " + ", ".join(missing)
