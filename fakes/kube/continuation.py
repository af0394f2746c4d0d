"""Continue tokens: where the next page of a paged list starts, and at which revision.

A token is what kube-apiserver's etcd3 storage encodes: base64 (URL-safe, unpadded)
of ``{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<ns>/<name>\\u0000"}``. The
key is the last item served; the next page starts after it. Clients treat the token
as opaque, but it decodes the same way as a real server's.

Every page after the first is served from the snapshot at the token's revision, as
kube-apiserver serves it from etcd: objects created, changed or deleted since page
one do not show, and each page's ``metadata.resourceVersion`` is that revision. The
snapshot is rebuilt by rolling back the kind's change history (``fakes.kube.snapshot``);
once the history has moved past the revision the answer is 410.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from fakes.kube import errors
from fakes.kube.snapshot import page_at

if TYPE_CHECKING:
    from fakes.kube.records import Stored
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

    ``items`` are the live objects matching the list (sorted by key); the page is
    rebuilt at the token's revision by ``fakes.kube.snapshot``. Returns ``(page,
    revision, next token, remainingItemCount)``; 410 Expired, with a token to go on
    inconsistently, once the history no longer reaches back to the revision.
    """
    rv, after = decode_continue(token)
    if rv < table.floor:
        raise errors.gone(EXPIRED, encode_continue(current_rv, after))
    page, more, remaining = page_at(table, items, rv, after, namespace, labels, fields, limit)
    last = page[-1] if more else None
    return page, rv, encode_continue(rv, (last.namespace, last.name)) if last else "", remaining
