"""Lists at an exact resourceVersion: ``resourceVersionMatch=Exact``.

kube-apiserver serves ``list?resourceVersion=N&resourceVersionMatch=Exact`` from etcd
at revision N: the collection as it was then, filtered on the labels and fields the
objects had then, with ``metadata.resourceVersion`` N; a ``limit`` pages it, and the
continue tokens keep every later page at N (``fakes.kube.continuation``). A list
with a ``limit`` and a non-zero ``resourceVersion`` but no match is the same read
(the API's legacy "Exact" row; client-go's reflector relists that way).

* N older than the history still held (etcd: compacted): 410 Expired, ``The
  resourceVersion for the provided list is too old.`` Here the history is per kind
  (``Cluster(history_size=...)``), so N expires once the kind's history has moved on.
* N newer than the store: 504 Timeout ``Too large resource version`` with a
  ``ResourceVersionTooLarge`` cause, as the etcd3 store answers since kubernetes#132374.
* ``resourceVersionMatch`` without ``resourceVersion``, with ``continue``, with a
  value other than ``Exact``/``NotOlderThan``, or ``Exact`` at ``"0"``: 422 Invalid
  ``ListOptions``, with apimachinery's ``ValidateListOptions`` wording.

The rebuild is ``fakes.kube.snapshot``: the page plus the changes since N.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.kube import errors
from fakes.kube.continuation import encode_continue
from fakes.kube.errors import ApiError, FieldError
from fakes.kube.snapshot import START, page_at

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.records import Stored
    from fakes.kube.selectors import FieldSelector, LabelSelector
    from fakes.kube.store import ObjectStore

__all__ = ["EXPIRED", "check_list_options", "exact_list", "is_exact"]

EXPIRED = "The resourceVersion for the provided list is too old."

_MATCH = "resourceVersionMatch"


def check_list_options(
    resource_version: str | None, match: str | None, continue_token: str | None
) -> None:
    """422 Invalid when ``resourceVersionMatch`` is combined as kube forbids."""
    if not match:
        return
    problems: list[FieldError] = []
    if not resource_version:
        problems.append(
            FieldError.forbidden(
                _MATCH, "resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
        )
    if continue_token:
        problems.append(
            FieldError.forbidden(
                _MATCH, "resourceVersionMatch is forbidden when continue is provided"
            )
        )
    if match not in ("Exact", "NotOlderThan"):
        problems.append(FieldError.not_supported(_MATCH, match, ["Exact", "NotOlderThan", ""]))
    if match == "Exact" and resource_version == "0":
        problems.append(
            FieldError.forbidden(
                _MATCH, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
            )
        )
    if problems:
        raise errors.invalid_group_kind("ListOptions", "meta.k8s.io", "", problems)


def is_exact(
    resource_version: str | None,
    match: str | None,
    limit: int | None,
    continue_token: str | None,
) -> bool:
    """Whether a (valid) list reads at exactly ``resource_version``."""
    if match:
        return match == "Exact"
    return bool(
        limit and limit > 0 and not continue_token and resource_version not in (None, "", "0")
    )


def exact_list(
    store: ObjectStore,
    kind: ResourceKind,
    rv: int,
    namespace: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
    limit: int | None,
) -> tuple[list[Stored], int, str, int | None]:
    """The first page of the list at revision ``rv``; call under the store lock.

    Returns ``(page, rv, continue token, remainingItemCount)``.
    """
    if rv > store.rv:
        raise _too_large(rv, store.rv)
    table = store.table(kind)
    if rv < table.floor:
        raise errors.gone(EXPIRED)
    items = store.select(kind, namespace, labels, fields)
    page, more, remaining = page_at(table, items, rv, START, namespace, labels, fields, limit)
    token = encode_continue(rv, (page[-1].namespace, page[-1].name)) if more else ""
    return page, rv, token, remaining


def _too_large(rv: int, current: int) -> ApiError:
    # storage.NewTooLargeResourceVersionError(rv, current, 0): errors.NewTimeoutError
    # prefixes "Timeout: ", and retryAfterSeconds 0 is left out of the Status.
    return ApiError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {rv}, current: {current}",
        {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ]
        },
    )
