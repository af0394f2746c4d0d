"""The ``pods/eviction`` subresource, honouring PodDisruptionBudgets.

``kubectl drain`` and remediation workflows evict rather than delete so that budgets
hold. The decision follows the real eviction REST handler
(``pkg/registry/core/pod/storage/eviction.go``), with the budget's numbers computed
on the spot by ``fakes.kube.budgets`` -- what the disruption controller would have
written into its status -- so a plain ``Cluster`` without controllers evicts
correctly and a stale status never lets an eviction through:

* pods that are Pending, Succeeded, Failed or already being deleted ignore budgets;
* an unready pod may go without using up a disruption when the budget's
  ``unhealthyPodEvictionPolicy`` is ``AlwaysAllow``, or when healthy ≥ desired > 0
  (``IfHealthyBudget``, the default);
* every other eviction needs ``disruptionsAllowed`` > 0, else 429 TooManyRequests
  with the ``DisruptionBudget`` cause. Pods of the budget that are terminating (or
  were just evicted) are not healthy, and for ``maxUnavailable`` or a percentage they
  still count as expected (their controller's replicas), so back-to-back evictions
  cannot take more pods than the budget allows;
* a budget whose pods' controller cannot be found fails safe: 429.

More than one matching budget is a 500, as in the real server. On success the pod is
deleted (gracefully, when it is bound to a node) and the answer is a 201 ``Status``;
a disruption that was used is written to the budget's status as the real handler
writes it: one fewer ``disruptionsAllowed`` and the pod in ``disruptedPods``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube import budgets, errors
from fakes.kube.errors import dumps

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.store import Stored

JsonObj = dict[str, Any]


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
        matching = [
            s
            for s in api.store.select(pdb_kind, namespace)
            if budgets.selects(s.decode(), stored.labels)
        ]
        if len(matching) > 1:
            raise errors.ApiError(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction subresource "
                "does not support.",
            )
        if matching:
            _check_budget(api, matching[0], pod, namespace, dry_run)
        api._delete(stored, options, dry_run)
    return dumps(errors.success_status(201))


def _refuse(pdb_name: str, message: str) -> errors.ApiError:
    return errors.too_many_requests(
        "Cannot evict pod as it would violate the pod's disruption budget.",
        [{"reason": "DisruptionBudget", "message": f"The disruption budget {pdb_name} {message}"}],
    )


def _check_budget(
    api: Api, stored_pdb: Stored, pod: JsonObj, namespace: str, dry_run: bool
) -> None:
    pdb = stored_pdb.decode()
    pdb_name = pdb["metadata"]["name"]
    selector = budgets.selector(pdb)
    pods = (
        []
        if selector is None
        else [s.decode() for s in api.store.select(api.pods, namespace, selector)]
    )
    now = api.clock.now()
    try:
        budget = budgets.compute(pdb, pods, now, budgets.store_lookup(api.store, api.registry))
    except budgets.NoController as exc:
        raise _refuse(pdb_name, f"cannot be computed: {exc}") from exc
    if not budgets.is_ready(pod):
        always = pdb.get("spec", {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow"
        if always or budget.healthy >= budget.desired > 0:
            return  # an unready pod does not use up a disruption
    if budget.allowed == 0:
        raise _refuse(
            pdb_name, f"needs {budget.desired} healthy pods and has {budget.healthy} currently"
        )
    if dry_run:
        return
    generation = pdb["metadata"].get("generation", 1)
    status: JsonObj = {
        **(pdb.get("status") or {}),
        "observedGeneration": generation,
        "disruptionsAllowed": budget.allowed - 1,
        "currentHealthy": budget.healthy,
        "desiredHealthy": budget.desired,
        "expectedPods": budget.expected,
        "disruptedPods": {**budget.disrupted, pod["metadata"]["name"]: api.now()},
    }
    status["conditions"] = [dict(c) for c in status.get("conditions") or ()]
    budgets.set_allowed_condition(status, api.now())
    pdb["status"] = status
    api.store.replace(stored_pdb, pdb)
