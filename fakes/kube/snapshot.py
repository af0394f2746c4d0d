"""A kind's collection as it was at a past revision, one page at a time.

kube-apiserver serves continue pages and ``resourceVersionMatch=Exact`` lists from
etcd at a revision: what the collection held then, not now. This store keeps only
the present plus each kind's change history (the one watches resume from), so the
past is rebuilt by rolling back the changes newer than the revision: keys added
since are left out, keys modified or deleted since are served as they were
(``Change.prev_raw``), and selectors are evaluated on the labels and fields they had.

The work is the page plus the changes since the revision, never the whole store.
Callers check first that the history still reaches back (``rv >= table.floor``).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from fakes.kube.records import ADDED, MODIFIED, Change, Stored

if TYPE_CHECKING:
    from fakes.kube.selectors import FieldSelector, LabelSelector
    from fakes.kube.store import Table

__all__ = ["START", "page_at"]

Key = tuple[str, str]

START: Key = ("", "")
"""The key before every object: a page "after" it starts at the beginning."""


def page_at(
    table: Table,
    items: list[Stored],
    rv: int,
    after: Key,
    namespace: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
    limit: int | None,
) -> tuple[list[Stored], bool, int | None]:
    """The objects after key ``after`` as they were at revision ``rv``, up to ``limit``.

    ``items`` are the live objects matching the list, sorted by ``(namespace,
    name)``. Returns ``(page, more, remainingItemCount)``: ``more`` says objects
    follow the page at ``rv``; the count is given, as kube gives it, only when there
    are more and no selector is set.
    """
    since: dict[Key, Change] = {}
    for change in reversed(table.history):
        if change.rv <= rv:
            break
        key = (change.namespace, change.name)
        if key > after and (namespace is None or change.namespace == namespace):
            since[key] = change  # ends as the first change after ``rv``
    restored = sorted(
        (s for s in (_as_of(change, labels, fields) for change in since.values()) if s),
        key=_key,
    )
    start = bisect_right(items, after, key=_key)
    want = limit + 1 if limit and limit > 0 else None
    page: list[Stored] = []
    i, j = start, 0
    while want is None or len(page) < want:
        while i < len(items) and _key(items[i]) in since:
            i += 1
        if i < len(items) and (j >= len(restored) or _key(items[i]) < _key(restored[j])):
            page.append(items[i])
            i += 1
        elif j < len(restored):
            page.append(restored[j])
            j += 1
        else:
            break
    more = want is not None and len(page) == want
    if more:
        page.pop()
    remaining: int | None = None
    if more and labels.empty and fields.empty:
        live_changed = sum(1 for ns, name in since if name in table.by_ns.get(ns, _EMPTY))
        remaining = len(items) - start - live_changed + len(restored) - len(page)
    return page, more, remaining


_EMPTY: dict[str, Stored] = {}


def _key(s: Stored) -> Key:
    return (s.namespace, s.name)


def _as_of(change: Change, labels: LabelSelector, fields: FieldSelector) -> Stored | None:
    """The object as it was just before ``change`` (None: absent or not matching)."""
    if change.type == ADDED or change.prev_raw is None:
        return None
    if change.type == MODIFIED:
        was_labels = change.prev_labels if change.prev_labels is not None else change.labels
        was_fields = change.prev_fields if change.prev_fields is not None else change.fields
    else:
        was_labels, was_fields = change.labels, change.fields
    if not labels.empty and not labels.matches(was_labels):
        return None
    if not fields.empty and not fields.matches(change.field_values(previous=True)):
        return None
    return Stored(
        change.kind,
        change.namespace,
        change.name,
        "",
        0,
        change.prev_raw,
        was_labels,
        was_fields,
        (),
    )
