"""The ``pods/eviction`` subresource, honouring PodDisruptionBudgets.

``kubectl drain`` and remediation workflows evict rather than delete so that budgets
hold. The decision follows the real eviction REST handler, with the budget's
numbers computed on the spot instead of read from a disruption controller:

* expected pods = pods matching the budget's selector (not being deleted);
* healthy pods = those of them with ``Ready=True``;
* desired healthy = ``minAvailable`` (an int, or a percentage of expected rounded
  up), or expected − ``maxUnavailable`` (percentage rounded up);
* a healthy pod may go when healthy − desired > 0; an unhealthy pod may go when
  healthy ≥ desired (or the budget's ``unhealthyPodEvictionPolicy`` is
  ``AlwaysAllow``); pods that are not Running (Pending, Succeeded, Failed) always may.

Refusals are 429 TooManyRequests with the ``DisruptionBudget`` cause; more than one
matching budget is a 500, as in the real server. On success the pod is deleted
(gracefully, when it is bound to a node) and the answer is a 201 ``Status``. The
budget's ``status`` is refreshed with the numbers used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from fakes.kube import errors
from fakes.kube.errors import dumps
from fakes.kube.selectors import LabelSelector

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.store import Stored

JsonObj = dict[str, Any]


def _is_ready(pod: JsonObj) -> bool:
    for c in pod.get("status", {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _scaled(value: Any, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def budget_numbers(pdb: JsonObj, pods: list[JsonObj]) -> tuple[int, int, int]:
    """``(expected, healthy, desired_healthy)`` for ``pdb`` over its matching ``pods``."""
    spec = pdb.get("spec") or {}
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    expected = len(live)
    healthy = sum(1 for p in live if _is_ready(p))
    if spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _scaled(spec["maxUnavailable"], expected))
    elif spec.get("minAvailable") is not None:
        desired = _scaled(spec["minAvailable"], expected)
    else:
        desired = expected
    return expected, healthy, desired


def _selects(pdb: JsonObj, labels: dict[str, str]) -> bool:
    """policy/v1: a null selector selects nothing, an empty one selects every pod."""
    selector = (pdb.get("spec") or {}).get("selector")
    return selector is not None and LabelSelector.from_spec(selector).matches(labels)


def evict(api: Api, namespace: str, name: str, body: Any, dry_run: bool) -> bytes:
    if not isinstance(body, dict):
        raise errors.bad_request("the body of an eviction must be a policy/v1 Eviction")
    pods_kind = api.pods
    pdb_kind = api.registry.resolve("poddisruptionbudgets")
    with api.store.lock:
        stored = api.store.get(pods_kind, namespace, name)
        if stored is None:
            raise errors.not_found(pods_kind, name)
        pod = stored.decode()
        options = dict(body.get("deleteOptions") or {})
        if dry_run:
            options["dryRun"] = ["All"]
        phase = pod.get("status", {}).get("phase")
        if pod["metadata"].get("deletionTimestamp") or phase in ("Pending", "Succeeded", "Failed"):
            api._delete(stored, options, dry_run)
            return dumps(errors.success_status(201))
        budgets = [
            s for s in api.store.select(pdb_kind, namespace) if _selects(s.decode(), stored.labels)
        ]
        if len(budgets) > 1:
            raise errors.ApiError(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction subresource "
                "does not support.",
            )
        if budgets:
            _check_budget(api, budgets[0], pod, namespace, dry_run)
        api._delete(stored, options, dry_run)
    return dumps(errors.success_status(201))


def _check_budget(
    api: Api, stored_pdb: Stored, pod: JsonObj, namespace: str, dry_run: bool
) -> None:
    pdb = stored_pdb.decode()
    selector = LabelSelector.from_spec(pdb.get("spec", {}).get("selector"))
    pods = [s.decode() for s in api.store.select(api.pods, namespace, selector)]
    expected, healthy, desired = budget_numbers(pdb, pods)
    allowed = max(0, healthy - desired)
    target_healthy = _is_ready(pod)
    always = pdb.get("spec", {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow"
    ok = allowed > 0 if target_healthy else (always or healthy >= desired)
    if not ok:
        pdb_name = pdb["metadata"]["name"]
        raise errors.too_many_requests(
            "Cannot evict pod as it would violate the pod's disruption budget.",
            [
                {
                    "reason": "DisruptionBudget",
                    "message": f"The disruption budget {pdb_name} needs {desired} healthy pods "
                    f"and has {healthy} currently",
                }
            ],
        )
    if dry_run:
        return
    pdb["status"] = {
        **(pdb.get("status") or {}),
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "disruptionsAllowed": max(0, allowed - 1) if target_healthy else allowed,
        "currentHealthy": healthy - 1 if target_healthy else healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
    }
    api.store.replace(stored_pdb, pdb)
