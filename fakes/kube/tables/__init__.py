"""``meta.k8s.io/v1 Table`` output, so ``kubectl get`` prints the real columns.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints
whatever columns the server sends; without a Table it falls back to NAME/AGE. The
columns and cell rules here follow the real server's printers
(``pkg/printers/internalversion/printers.go``): the server always produces the wide
cells and marks the extra columns ``priority: 1``, which kubectl shows only with
``-o wide``.

Contract: :func:`to_table` takes a decoded object or list of a served kind and
returns the Table as a dict. ``include_object`` is the ``includeObject`` query
parameter: ``Metadata`` (the default: a ``PartialObjectMetadata`` per row, which
kubectl needs for ``--show-labels`` and ``-L``), ``Object`` or ``None``.

Layout: ``columns`` holds the column definitions and shared cell rules; ``pods``,
``workloads``, ``cluster`` (nodes, namespaces, events), ``config`` (services,
configmaps, secrets, PDBs, HPAs, quotas) and ``endpoints`` (endpoints, endpoint
slices) each hold their kinds' rows and a ``PRINTERS`` map, which this module merges.
To print a new kind, add its row function and columns to the module of its group.
"""

from __future__ import annotations

from fakes.kube.tables import cluster, config, endpoints, pods, workloads
from fakes.kube.tables.columns import JsonObj, Printer, human_duration, since

__all__ = ["PRINTERS", "human_duration", "since", "to_table"]

PRINTERS: dict[tuple[str, str], Printer] = {
    **pods.PRINTERS,
    **workloads.PRINTERS,
    **cluster.PRINTERS,
    **config.PRINTERS,
    **endpoints.PRINTERS,
}
"""``(group, plural)`` → the kind's columns and row function."""


def _partial(obj: JsonObj) -> JsonObj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    group: str,
    plural: str,
    obj: JsonObj,
    now: float,
    include_object: str = "Metadata",
    headers: bool = True,
) -> JsonObj:
    """The Table for one object or a ``...List`` of objects of ``group``/``plural``.

    ``headers=False`` omits the column definitions, as the real server does for every
    watch event after the first.
    """
    columns, row = PRINTERS.get((group, plural), config.DEFAULT)
    is_list = str(obj.get("kind", "")).endswith("List") and isinstance(obj.get("items"), list)
    items = obj["items"] if is_list else [obj]
    rows = []
    for item in items:
        r: JsonObj = {"cells": row(item, now)}
        if include_object == "Object":
            r["object"] = item
        elif include_object != "None":
            r["object"] = _partial(item)
        rows.append(r)
    meta: JsonObj = {}
    src_meta = obj.get("metadata") or {}
    if is_list:
        for key in ("resourceVersion", "continue", "remainingItemCount"):
            if key in src_meta:
                meta[key] = src_meta[key]
    elif "resourceVersion" in src_meta:
        meta["resourceVersion"] = src_meta["resourceVersion"]
    table: JsonObj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    table["columnDefinitions"] = columns if headers else None
    table["rows"] = rows
    return table
