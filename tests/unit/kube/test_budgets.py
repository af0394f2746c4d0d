"""Budget arithmetic (fakes.kube.budgets) against kube's disruption controller rules."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.budgets import DELETION_TIMEOUT, NoController, compute
from fakes.kube.clock import format_micro

NOW = 1_700_000_000.0
JsonObj = dict[str, Any]

DEPLOYMENT = {
    "kind": "Deployment",
    "metadata": {"name": "web", "uid": "d1"},
    "spec": {"replicas": 4},
}
REPLICASET = {
    "kind": "ReplicaSet",
    "metadata": {
        "name": "web-1",
        "uid": "r1",
        "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "d1", "controller": True}],
    },
    "spec": {"replicas": 4},
}
OBJECTS = {("deployments", "web"): DEPLOYMENT, ("replicasets", "web-1"): REPLICASET}


def lookup(plural: str, namespace: str, name: str) -> JsonObj | None:
    return OBJECTS.get((plural, name))


def pod(
    name: str, ready: bool = True, deleting: bool = False, owner: str | None = "web-1"
) -> JsonObj:
    meta: JsonObj = {"name": name, "namespace": "default"}
    if owner:
        meta["ownerReferences"] = [
            {"kind": "ReplicaSet", "name": owner, "uid": "r1", "controller": True}
        ]
    if deleting:
        meta["deletionTimestamp"] = "2023-11-14T22:13:20Z"
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}
    return {"metadata": meta, "status": status}


def pdb(status: JsonObj | None = None, **spec: Any) -> JsonObj:
    return {"metadata": {"name": "b"}, "spec": spec, "status": status or {}}


def test_max_unavailable_counts_the_deployments_replicas_and_not_terminating_pods() -> None:
    pods = [pod("a", deleting=True), pod("b"), pod("c"), pod("d", ready=False)]
    budget = compute(pdb(maxUnavailable=1), pods, NOW, lookup)
    assert (budget.expected, budget.desired, budget.healthy, budget.allowed) == (4, 3, 2, 0)


def test_percentages_round_up_over_the_controllers_scale() -> None:
    pods = [pod(n) for n in "abcd"]
    budget = compute(pdb(minAvailable="30%"), pods, NOW, lookup)
    assert (budget.expected, budget.desired, budget.allowed) == (4, 2, 2)
    budget = compute(pdb(maxUnavailable="30%"), pods, NOW, lookup)
    assert (budget.desired, budget.allowed) == (2, 2)


def test_integer_min_available_expects_every_selected_pod() -> None:
    pods = [pod("a", deleting=True), pod("b"), pod("c", owner=None)]
    budget = compute(pdb(minAvailable=1), pods, NOW, lookup)
    assert (budget.expected, budget.desired, budget.healthy, budget.allowed) == (3, 1, 2, 1)


def test_unmanaged_pods_are_not_expected_for_max_unavailable() -> None:
    budget = compute(pdb(maxUnavailable=1), [pod("a", owner=None)], NOW, lookup)
    assert budget.unmanaged == ("a",)
    assert (budget.expected, budget.allowed) == (0, 0)


def test_a_missing_controller_cannot_be_computed() -> None:
    with pytest.raises(NoController, match='found no controllers for pod "a"'):
        compute(pdb(maxUnavailable=1), [pod("a", owner="gone")], NOW, lookup)


def test_recently_evicted_pods_are_not_healthy_until_the_entry_expires() -> None:
    evicted = {"disruptedPods": {"b": format_micro(NOW - 30), "a": format_micro(NOW - 30)}}
    pods = [pod("a", deleting=True), pod("b"), pod("c"), pod("d")]
    budget = compute(pdb(evicted, minAvailable=1), pods, NOW, lookup)
    assert budget.disrupted == {"b": format_micro(NOW - 30)}  # "a" is seen deleting: dropped
    assert budget.healthy == 2
    assert budget.recheck_at == pytest.approx(NOW - 30 + DELETION_TIMEOUT)
    later = compute(pdb(evicted, minAvailable=1), pods, NOW + DELETION_TIMEOUT, lookup)
    assert (later.disrupted, later.healthy) == ({}, 3)
