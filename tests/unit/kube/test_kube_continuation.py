"""Continue pages cost the page plus the changes since the first page, not the store.

Workflows page through 150,000 pods; if each page rebuilt the snapshot from every
object, paging would be quadratic in the cluster size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from fakes.kube.continuation import continue_page, encode_continue
from fakes.kube.kinds import DEFAULT_REGISTRY
from fakes.kube.records import Stored
from fakes.kube.selectors import FieldSelector, LabelSelector
from fakes.kube.store import ObjectStore

PODS = DEFAULT_REGISTRY.resolve("pods")


class Counting(Sequence[Stored]):
    """A list that counts the items read from it."""

    def __init__(self, items: list[Stored]) -> None:
        self.items = items
        self.reads = 0

    @overload
    def __getitem__(self, i: int) -> Stored: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Stored]: ...
    def __getitem__(self, i: Any) -> Any:
        self.reads += 1
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)


def test_a_continue_page_reads_the_page_and_the_changes_not_the_store() -> None:
    store = ObjectStore([PODS], history_size=100_000)
    n = 20_000
    store.bulk_insert(
        PODS,
        (
            {"metadata": {"name": f"p{i:05d}", "namespace": "default", "uid": str(i)}}
            for i in range(n)
        ),
    )
    snapshot = store.rv
    changed = store.get(PODS, "default", "p10001")
    assert changed is not None
    store.replace(changed, {"metadata": {"name": "p10001", "namespace": "default", "x": 1}})
    items = Counting(store.select(PODS, "default"))
    token = encode_continue(snapshot, ("default", "p09999"))
    page, rv, next_token, remaining = continue_page(
        store.table(PODS),
        items,  # type: ignore[arg-type]
        token,
        store.rv,
        "default",
        LabelSelector.parse(""),
        FieldSelector.parse("", PODS.all_field_selectors),
        3,
    )
    assert [s.name for s in page] == ["p10000", "p10001", "p10002"]
    assert b'"x"' not in page[1].raw  # served as it was at the snapshot
    assert rv == snapshot
    assert next_token
    assert remaining == n - 10_003
    assert items.reads < 50  # a binary search and the page, not 20,000 items
