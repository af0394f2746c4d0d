"""Admission: LimitRange defaulting and ResourceQuota enforcement with live usage.

* **LimitRanger** -- on pod create, containers without requests/limits get the
  ``defaultRequest``/``default`` of every ``Container``-type LimitRange in the
  namespace; ``max``/``min`` violations are 403 Forbidden with the real wording.
* **ResourceQuota** -- object counts (``pods``, ``services``, ``configmaps``,
  ``secrets``, ``count/<resource>.<group>``, ...) and compute resources
  (``requests.cpu``, ``requests.memory``, ``limits.cpu``, ``limits.memory``, and the
  bare ``cpu``/``memory`` aliases). A create that would exceed a quota is refused
  with ``exceeded quota: q, requested: ..., used: ..., limited: ...``; a pod that
  lacks a tracked compute resource is refused with ``failed quota: q: must specify``.
  Like the real admission plugin, a successful create/delete updates each matching
  quota's ``status.used`` synchronously, so ``kubectl describe quota`` is current.
  Terminal pods (Succeeded/Failed) stop counting.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from engine.quantity import QuantityError, format_quantity, parse_quantity
from fakes.kube.errors import forbidden

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

_LEGACY_COUNTS = {
    "pods": "pods",
    "services": "services",
    "configmaps": "configmaps",
    "secrets": "secrets",
    "resourcequotas": "resourcequotas",
    "persistentvolumeclaims": "persistentvolumeclaims",
    "replicationcontrollers": "replicationcontrollers",
}
_COMPUTE = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory")
_BINARY = {"requests.memory", "limits.memory", "memory"}


def usage_of(kind: ResourceKind, obj: JsonObj | None) -> dict[str, Fraction]:
    """What ``obj`` charges against quotas (empty for ``None`` and terminal pods)."""
    if obj is None:
        return {}
    out: dict[str, Fraction] = {f"count/{kind.group_resource}": Fraction(1)}
    legacy = _LEGACY_COUNTS.get(kind.plural) if not kind.group else None
    if legacy:
        out[legacy] = Fraction(1)
    if kind.plural == "pods":
        if obj.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return {}
        for name, amount in pod_compute(obj).items():
            out[name] = amount
    return out


def pod_compute(pod: JsonObj) -> dict[str, Fraction]:
    totals: dict[str, Fraction] = {}
    for c in pod.get("spec", {}).get("containers") or []:
        res = (c or {}).get("resources") or {}
        for section in ("requests", "limits"):
            for name, value in (res.get(section) or {}).items():
                if name not in ("cpu", "memory"):
                    continue
                try:
                    amount = parse_quantity(value)
                except QuantityError:
                    continue
                key = f"{section}.{name}"
                totals[key] = totals.get(key, Fraction(0)) + amount
                if section == "requests":
                    totals[name] = totals.get(name, Fraction(0)) + amount
    return totals


def _fmt(name: str, amount: Fraction) -> str:
    return format_quantity(amount, binary=name in _BINARY or name.endswith(".memory"))


class Admission:
    """The admission chain of one cluster (see module docstring)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    # -- LimitRanger ---------------------------------------------------------

    def limit_ranges(self, namespace: str) -> list[JsonObj]:
        kind = self.api.registry.resolve("limitranges")
        return [s.decode() for s in self.api.store.select(kind, namespace)]

    def apply_limit_ranges(self, kind: ResourceKind, obj: JsonObj) -> None:
        if kind.plural != "pods":
            return
        namespace = obj["metadata"].get("namespace", "")
        ranges = self.limit_ranges(namespace)
        if not ranges:
            return
        name = obj["metadata"].get("name") or obj["metadata"].get("generateName", "")
        for lr in ranges:
            for item in lr.get("spec", {}).get("limits") or []:
                if item.get("type") != "Container":
                    continue
                for c in obj.get("spec", {}).get("containers") or []:
                    res = c.setdefault("resources", {})
                    for src, dst in (("default", "limits"), ("defaultRequest", "requests")):
                        for rname, value in (item.get(src) or {}).items():
                            res.setdefault(dst, {}).setdefault(rname, value)
                    limits = res.get("limits") or {}
                    requests = (
                        res.setdefault("requests", {}) if limits else res.get("requests") or {}
                    )
                    for rname, value in limits.items():
                        requests.setdefault(rname, value)
                    self._check_bounds(kind, name, item, res)

    def _check_bounds(self, kind: ResourceKind, name: str, item: JsonObj, res: JsonObj) -> None:
        for rname, bound in (item.get("max") or {}).items():
            limit = (res.get("limits") or {}).get(rname)
            if limit is not None and parse_quantity(limit) > parse_quantity(bound):
                raise forbidden(
                    kind,
                    name,
                    f"maximum {rname} usage per Container is {bound}, but limit is {limit}",
                )
        for rname, bound in (item.get("min") or {}).items():
            request = (res.get("requests") or {}).get(rname)
            if request is not None and parse_quantity(request) < parse_quantity(bound):
                raise forbidden(
                    kind,
                    name,
                    f"minimum {rname} usage per Container is {bound}, but request is {request}",
                )

    # -- ResourceQuota -------------------------------------------------------

    def quotas(self, namespace: str) -> list[Any]:
        kind = self.api.registry.resolve("resourcequotas")
        return self.api.store.select(kind, namespace)

    def check_quota(self, kind: ResourceKind, obj: JsonObj) -> None:
        """Refuse a create that would exceed a quota of its namespace (403)."""
        if not kind.namespaced:
            return
        namespace = obj["metadata"].get("namespace", "")
        stored_quotas = self.quotas(namespace)
        if not stored_quotas:
            return
        wanted = usage_of(kind, obj)
        name = obj["metadata"].get("name", "")
        for sq in stored_quotas:
            quota = sq.decode()
            hard = quota.get("spec", {}).get("hard") or {}
            used = quota.get("status", {}).get("used") or {}
            if kind.plural == "pods":
                missing = [r for r in hard if r in _COMPUTE and r not in wanted]
                if missing:
                    raise forbidden(
                        kind,
                        name,
                        f"failed quota: {quota['metadata']['name']}: "
                        f"must specify {','.join(sorted(missing))}",
                    )
            over = []
            for rname, limit in hard.items():
                if rname not in wanted:
                    continue
                current = parse_quantity(used.get(rname, "0"))
                if current + wanted[rname] > parse_quantity(limit):
                    over.append(rname)
            if over:
                over.sort()
                requested = ",".join(f"{r}={_fmt(r, wanted[r])}" for r in over)
                used_s = ",".join(f"{r}={_fmt(r, parse_quantity(used.get(r, '0')))}" for r in over)
                limited = ",".join(f"{r}={hard[r]}" for r in over)
                raise forbidden(
                    kind,
                    name,
                    f"exceeded quota: {quota['metadata']['name']}, requested: {requested}, "
                    f"used: {used_s}, limited: {limited}",
                )

    def charge(self, kind: ResourceKind, before: JsonObj | None, after: JsonObj | None) -> None:
        """Move the namespace's quota ``status.used`` by the difference before → after."""
        if not kind.namespaced:
            return
        ref = after if after is not None else before
        if ref is None:
            return
        namespace = ref["metadata"].get("namespace", "")
        stored_quotas = self.quotas(namespace)
        if not stored_quotas:
            return
        old, new = usage_of(kind, before), usage_of(kind, after)
        delta = {r: new.get(r, Fraction(0)) - old.get(r, Fraction(0)) for r in set(old) | set(new)}
        delta = {r: d for r, d in delta.items() if d}
        if not delta:
            return
        for sq in stored_quotas:
            quota = sq.decode()
            hard = quota.get("spec", {}).get("hard") or {}
            touched = [r for r in delta if r in hard]
            if not touched:
                continue
            used = quota.setdefault("status", {}).setdefault("used", {})
            for r in touched:
                total = parse_quantity(used.get(r, "0")) + delta[r]
                used[r] = _fmt(r, max(total, Fraction(0)))
            self.api.store.replace(sq, quota)

    def initial_quota_status(self, quota: JsonObj) -> None:
        """Fill ``status.hard``/``status.used`` of a new quota from what already exists."""
        hard = quota.get("spec", {}).get("hard") or {}
        namespace = quota["metadata"].get("namespace", "")
        totals: dict[str, Fraction] = {r: Fraction(0) for r in hard}
        for k in self.api.registry.kinds:
            if not k.namespaced:
                continue
            count_key = f"count/{k.group_resource}"
            legacy = _LEGACY_COUNTS.get(k.plural) if not k.group else None
            if (
                count_key not in hard
                and legacy not in hard
                and not (k.plural == "pods" and set(hard) & set(_COMPUTE))
            ):
                continue
            for s in self.api.store.select(k, namespace):
                for r, amount in usage_of(k, s.decode()).items():
                    if r in totals:
                        totals[r] += amount
        if "resourcequotas" in hard or "count/resourcequotas" in hard:
            for r in ("resourcequotas", "count/resourcequotas"):
                if r in totals:
                    totals[r] += 1
        quota["status"] = {"hard": dict(hard), "used": {r: _fmt(r, v) for r, v in totals.items()}}
