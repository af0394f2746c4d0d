"""Strategic merge patch: list order and the ``$setElementOrder``/``$retainKeys`` directives.

The cases follow kube's apimachinery strategicpatch tests (``preserve the order from
the patch in a merging list``, ``$setElementOrder contains item that is not present``,
...), written on the fields this cluster knows the merge keys of: ``containers``
(by ``name``) and ``finalizers`` (a set of scalars).
"""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.errors import ApiError
from fakes.kube.patch import PatchError, strategic_merge


def pod(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(containers)}}


def c(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


def names(doc: dict[str, Any]) -> list[str]:
    return [x["name"] for x in doc["spec"]["containers"]]


def finalizers(*values: str) -> dict[str, Any]:
    return {"metadata": {"finalizers": list(values)}}


# -- order without directives -------------------------------------------------------


def test_the_patch_order_wins_over_the_live_order() -> None:
    live = pod(c("1"), c("2", image="b"), c("3"))
    patch = pod(c("3", image="c"), c("1", image="a"), c("2", args=["x"]))
    merged = strategic_merge(live, patch)
    assert merged["spec"]["containers"] == [
        c("3", image="c"),
        c("1", image="a"),
        c("2", image="b", args=["x"]),
    ]


def test_live_only_items_keep_their_place_before_later_patch_items() -> None:
    merged = strategic_merge(pod(c("1"), c("2"), c("3")), pod(c("3"), c("1")))
    assert names(merged) == ["2", "3", "1"]


def test_a_new_item_goes_before_the_live_only_items() -> None:
    assert names(strategic_merge(pod(c("a"), c("b")), pod(c("new")))) == ["new", "a", "b"]


def test_patching_an_item_in_place_keeps_the_list_order() -> None:
    live = pod(c("a"), c("b"), c("c"))
    assert names(strategic_merge(live, pod(c("b", image="x")))) == ["a", "b", "c"]


def test_scalar_sets_follow_the_patch_order_too() -> None:
    merged = strategic_merge(finalizers("1", "2", "3"), finalizers("3", "1"))
    assert merged["metadata"]["finalizers"] == ["2", "3", "1"]


# -- $setElementOrder -------------------------------------------------------------------


def test_set_element_order_reorders_without_changing_items() -> None:
    live = pod(c("a", image="1"), c("b", image="2"), c("c", image="3"))
    patch = {"spec": {"$setElementOrder/containers": [c("c"), c("a"), c("b")]}}
    merged = strategic_merge(live, patch)
    assert merged["spec"]["containers"] == [
        c("c", image="3"),
        c("a", image="1"),
        c("b", image="2"),
    ]


def test_set_element_order_with_changes_and_an_item_the_list_lacks() -> None:
    live = pod(c("1"), c("3"))
    patch = {
        "spec": {
            "$setElementOrder/containers": [c("3"), c("2"), c("1")],
            "containers": [c("3", image="3"), c("1", image="1")],
        }
    }
    merged = strategic_merge(live, patch)
    assert merged["spec"]["containers"] == [c("3", image="3"), c("1", image="1")]


def test_set_element_order_places_new_items() -> None:
    live = pod(c("a"), c("b"))
    patch = {
        "spec": {
            "$setElementOrder/containers": [c("b"), c("new"), c("a")],
            "containers": [c("new", image="n")],
        }
    }
    assert names(strategic_merge(live, patch)) == ["b", "new", "a"]


def test_set_element_order_with_a_deleted_item() -> None:
    live = pod(c("a"), c("b"), c("c"))
    patch = {
        "spec": {
            "$setElementOrder/containers": [c("c"), c("a")],
            "containers": [{"name": "b", "$patch": "delete"}],
        }
    }
    assert names(strategic_merge(live, patch)) == ["c", "a"]


def test_set_element_order_on_a_scalar_set() -> None:
    patch = {"metadata": {"$setElementOrder/finalizers": ["3", "2", "1"]}}
    assert strategic_merge(finalizers("1", "3"), patch)["metadata"]["finalizers"] == ["3", "1"]


def test_set_element_order_must_agree_with_the_patch_list() -> None:
    live = pod(c("1"), c("3"), c("2"))
    patch = {
        "spec": {
            "$setElementOrder/containers": [c("1"), c("2"), c("3")],
            "containers": [c("3", image="3"), c("1", image="1")],
        }
    }
    with pytest.raises(PatchError, match="doesn't match"):
        strategic_merge(live, patch)


def test_set_element_order_must_be_a_list() -> None:
    with pytest.raises(ApiError) as err:
        strategic_merge(pod(c("a")), {"spec": {"$setElementOrder/containers": "a"}})
    assert (err.value.code, err.value.message) == (
        400,
        "invalid patch format of setElementOrder list",
    )


# -- $retainKeys --------------------------------------------------------------------------


def strategy(**fields: Any) -> dict[str, Any]:
    return {"spec": {"strategy": fields}}


def test_retain_keys_drops_the_keys_not_listed() -> None:
    live = strategy(type="RollingUpdate", rollingUpdate={"maxSurge": "25%"})
    patch = strategy(**{"$retainKeys": ["type"], "type": "Recreate"})
    assert strategic_merge(live, patch)["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_keeps_and_merges_the_listed_keys() -> None:
    live = strategy(type="Recreate", other="x")
    patch = strategy(
        **{
            "$retainKeys": ["rollingUpdate", "type"],
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1},
        }
    )
    merged = strategic_merge(live, patch)["spec"]["strategy"]
    assert merged == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}


def test_without_retain_keys_a_map_merges_as_usual() -> None:
    live = strategy(type="RollingUpdate", rollingUpdate={"maxSurge": "25%"})
    merged = strategic_merge(live, strategy(type="Recreate"))["spec"]["strategy"]
    assert merged == {"type": "Recreate", "rollingUpdate": {"maxSurge": "25%"}}


@pytest.mark.parametrize(
    "patch",
    [
        strategy(**{"$retainKeys": "type", "type": "Recreate"}),
        strategy(**{"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}),
    ],
    ids=["not-a-list", "patches-a-key-it-drops"],
)
def test_a_malformed_retain_keys_is_a_bad_request(patch: dict[str, Any]) -> None:
    with pytest.raises(ApiError) as err:
        strategic_merge(strategy(type="RollingUpdate"), patch)
    assert (err.value.code, err.value.message) == (400, "invalid patch format of retainKeys")


def test_retain_keys_ignores_keys_the_patch_deletes() -> None:
    live = strategy(type="RollingUpdate", rollingUpdate={"maxSurge": 1})
    patch = strategy(**{"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None})
    assert strategic_merge(live, patch)["spec"]["strategy"] == {"type": "Recreate"}
