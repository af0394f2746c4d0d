"""``Access.owned_view``: a controller's cached reads of an owner's dependents.

The ReplicaSet controller reconciles on every change of any of its pods; the view
spares it decoding the unchanged ones. It must never serve a revision that is gone:
the store rewrites a record in place on update, so a stale view would let a
controller act on a pod as it was (delete it twice, count it ready when it is not).
"""

from __future__ import annotations

from fakes.kube import Cluster
from fakes.kube.controllers.access import Access

OWNER_UID = "00000000-0000-4000-8000-000000000001"


def _pod(name: str) -> dict[str, object]:
    return {
        "metadata": {
            "name": name,
            "labels": {"app": "web"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web",
                    "uid": OWNER_UID,
                    "controller": True,
                }
            ],
        },
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
    }


def test_views_follow_every_revision_and_reuse_the_unchanged_ones() -> None:
    cluster = Cluster(seed=1)
    access = Access(cluster.api)
    pods = cluster.api.registry.resolve("pods")
    for name in ("a", "b"):
        cluster.api.create("pods", _pod(name), "default")
    first = access.owned_view(pods, OWNER_UID)
    assert [p["metadata"]["name"] for p in first] == ["a", "b"]

    # Rewrite "a" (a new revision of the same stored record); "b" is untouched.
    changed = cluster.api.get("pods", "a", "default")
    changed["metadata"]["labels"]["tier"] = "front"
    cluster.api.update("pods", changed, "default")
    second = access.owned_view(pods, OWNER_UID)
    assert second[0]["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert second[0] is not first[0]
    assert second[1] is first[1]  # not decoded again

    cluster.api.delete("pods", "b", "default")
    assert [p["metadata"]["name"] for p in access.owned_view(pods, OWNER_UID)] == ["a"]
    cluster.api.delete("pods", "a", "default")
    assert access.owned_view(pods, OWNER_UID) == []
