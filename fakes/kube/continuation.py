"""Continue tokens: where the next page of a paged list starts, and at which revision.

A token is what kube-apiserver's etcd3 storage encodes: base64 (URL-safe, unpadded)
of ``{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<ns>/<name>\\u0000"}``. The
key is the last item served; the next page starts after it. Clients treat the token
as opaque, but it decodes the same way as a real server's.

Every page after the first is served from the snapshot at the token's revision, as
kube-apiserver serves it from etcd: objects created, changed or deleted since page
one do not show, and each page's ``metadata.resourceVersion`` is that revision. The
snapshot is rebuilt by rolling back the kind's change history (the one watches
resume from); once the history has moved past the revision the answer is 410.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_right
from typing import TYPE_CHECKING

from fakes.kube import errors
from fakes.kube.records import ADDED, MODIFIED, Change, Stored

if TYPE_CHECKING:
    from fakes.kube.selectors import FieldSelector, LabelSelector
    from fakes.kube.store import Table


def encode_continue(rv: int, after: tuple[str, str]) -> str:
    """The token for a list at revision ``rv`` whose last served key was ``after``."""
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{after[0]}/{after[1]}\u0000"})
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    """``(rv, (namespace, name))`` of a token; 400 BadRequest when it is not one."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        ns, _, name = data["start"].rstrip("\u0000").partition("/")
        return int(data["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request(f"invalid continue token: {exc}") from exc


EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


def continue_page(
    table: Table,
    items: list[Stored],
    token: str,
    current_rv: int,
    namespace: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
    limit: int | None,
) -> tuple[list[Stored], int, str, int | None]:
    """The next page of a paged list, as it was at the first page's revision.

    ``items`` are the live objects matching the list (sorted by key). Changes newer
    than the token's revision are rolled back from the kind's history: keys added
    since are left out, keys modified or deleted since are served as they were. The
    work is the page plus the changes since, never the store. Returns ``(page,
    revision, next token, remainingItemCount)``; 410 Expired, with a token to go on
    inconsistently, once the history no longer reaches back to the revision.
    """
    rv, after = decode_continue(token)
    if rv < table.floor:
        raise errors.gone(EXPIRED, encode_continue(current_rv, after))
    since: dict[tuple[str, str], Change] = {}
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
    next_token = encode_continue(rv, _key(page[-1])) if more else ""
    remaining: int | None = None
    if more and labels.empty and fields.empty:
        live_changed = sum(1 for ns, name in since if name in table.by_ns.get(ns, _EMPTY))
        remaining = len(items) - start - live_changed + len(restored) - len(page)
    return page, rv, next_token, remaining


_EMPTY: dict[str, Stored] = {}


def _key(s: Stored) -> tuple[str, str]:
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
