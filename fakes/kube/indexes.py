# mypy: disable-error-code="misc"
# The methods below are the ObjectStore's, annotated ``self: ObjectStore``; mypy
# reports such a self type on a mixin as "misc", which is exactly the intent here.
"""Indexes: how reads find objects without scanning a kind.

Each kind's table is indexed by namespace (its primary map), by label
``key=value``, by the kind's ``indexed_fields`` (``spec.nodeName``,
``status.phase``, ...); the store keeps one owner-uid index across kinds for the
garbage collector. :meth:`IndexMixin.select` starts from the smallest applicable
index, so a selective read costs what it returns, not the store size. The field
values are extracted once per write (:func:`extract_fields`) and kept on the
:class:`~fakes.kube.records.Stored` record.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.records import Stored
    from fakes.kube.selectors import FieldSelector, LabelSelector
    from fakes.kube.store import ObjectStore, Table

JsonObj = dict[str, Any]

_intern = sys.intern


# What a field selector sees when a field is absent, where kube's Go types make it
# more than "": an unset bool is false and an unset count is 0 (strconv.FormatBool
# and strconv.Itoa of the zero value in the kinds' ToSelectableFields).
ABSENT_FIELD_VALUES: dict[str, str] = {
    "spec.unschedulable": "false",
    "spec.hostNetwork": "false",
    "status.replicas": "0",
    "status.successful": "0",
}
# A field read from elsewhere than its label says.
_FIELD_PATHS: dict[str, tuple[str, ...]] = {"source": ("source", "component")}
_Field = tuple[tuple[str, ...], str]
_FIELDS: dict[ResourceKind, tuple[_Field, ...]] = {}


def _field(label: str) -> _Field:
    return _FIELD_PATHS.get(label, tuple(label.split("."))), ABSENT_FIELD_VALUES.get(label, "")


def _kind_fields(kind: ResourceKind) -> tuple[_Field, ...]:
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(_field(f) for f in kind.extra_fields)
    return fields


def _lookup(obj: JsonObj, path: tuple[str, ...], absent: str) -> str:
    cur: Any = obj
    for part in path:
        if type(cur) is not dict:
            return absent
        cur = cur.get(part)
        if cur is None:
            return absent
    if cur is True or cur is False:
        return "true" if cur else "false"
    if type(cur) is dict or type(cur) is list:
        return absent
    return _intern(cur if type(cur) is str else str(cur))


def extract_fields(kind: ResourceKind, obj: JsonObj) -> tuple[str, ...]:
    """The kind's field-selector values of ``obj``, in ``kind.extra_fields`` order.

    An absent field has the value kube gives its Go zero value (``"false"`` for
    ``spec.unschedulable``, ``"0"`` for ``status.replicas``, ``""`` for strings).
    """
    return tuple(_lookup(obj, path, absent) for path, absent in _kind_fields(kind))


def field_value(obj: JsonObj, label: str) -> str:
    """The string a field selector on ``label`` compares against in ``obj``."""
    path, absent = _field(label)
    return _lookup(obj, path, absent)


class IndexMixin:
    """Index maintenance and the index-driven :meth:`select` of the object store."""

    def select(
        self: ObjectStore,
        kind: ResourceKind,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> list[Stored]:
        """Objects matching namespace and selectors, sorted by (namespace, name).

        Reads from the smallest applicable index: a name lookup, an indexed field
        value, a label ``key=value`` set, or the namespace's map; only the whole
        kind when nothing narrows it.
        """
        with self.lock:
            t = self.tables[kind]
            candidates: Iterable[Stored] | None = None
            size = t.count + 1
            if fields is not None and not fields.empty:
                for field, value in fields.equalities():
                    if field == "metadata.namespace":
                        if namespace is not None and namespace != value:
                            return []
                        namespace = value
                    elif field == "metadata.name":
                        found = self._by_name(t, namespace, value)
                        if len(found) < size:
                            candidates, size = found, len(found)
                    else:
                        index = t.field_index.get(field)
                        if index is not None:
                            hit = index.get(value, ())
                            if len(hit) < size:
                                candidates, size = hit, len(hit)
            # A candidate set that already proves a test lets the loop skip it: a
            # one-requirement label selector read from its index, or a namespace map.
            labels_proved = False
            check_namespace = namespace is not None
            if labels is not None and not labels.empty:
                for key, value in labels.equalities():
                    hit = t.label_index.get(key, {}).get(value, ())
                    if len(hit) < size:
                        candidates, size = hit, len(hit)
                        labels_proved = len(labels.requirements) == 1
            if namespace is not None:
                objs = t.by_ns.get(namespace, {})
                if len(objs) < size:
                    candidates, size = objs.values(), len(objs)
                    labels_proved = False
                    check_namespace = False
            if candidates is None:
                candidates = t.all()
            check_labels = labels is not None and not labels.empty and not labels_proved
            check_fields = fields is not None and not fields.empty
            out = []
            for s in candidates:
                if check_namespace and s.namespace != namespace:
                    continue
                if check_labels and not labels.matches(s.labels):  # type: ignore[union-attr]
                    continue
                if check_fields and not fields.matches(s.field_values()):  # type: ignore[union-attr]
                    continue
                out.append(s)
        out.sort(key=_sort_key if namespace is None else _name_key)
        return out

    @staticmethod
    def _by_name(t: Table, namespace: str | None, name: str) -> list[Stored]:
        if namespace is not None:
            s = t.by_ns.get(namespace, {}).get(name)
            return [s] if s is not None else []
        return [objs[name] for objs in t.by_ns.values() if name in objs]

    # -- writes --------------------------------------------------------------

    def _index(
        self: ObjectStore,
        t: Table,
        s: Stored,
        labels: bool = True,
        fields: bool = True,
        owners: bool = True,
    ) -> None:
        if labels:
            for k, v in s.labels.items():
                by_value = t.label_index.get(k)
                if by_value is None:
                    by_value = t.label_index[k] = {}
                bucket = by_value.get(v)
                if bucket is None:
                    by_value[v] = {s}
                else:
                    bucket.add(s)
        if fields and t.field_index:
            for f, v in zip(t.kind.extra_fields, s.fields, strict=True):
                index = t.field_index.get(f)
                if index is not None:
                    bucket = index.get(v)
                    if bucket is None:
                        index[v] = {s}
                    else:
                        bucket.add(s)
        if owners:
            for uid in s.owners:
                deps = self.owner_index.get(uid)
                if deps is None:
                    self.owner_index[uid] = {s}
                else:
                    deps.add(s)

    def _unindex(
        self: ObjectStore,
        t: Table,
        s: Stored,
        labels: bool = True,
        fields: bool = True,
        owners: bool = True,
    ) -> None:
        if labels:
            for k, v in s.labels.items():
                by_value = t.label_index.get(k)
                if by_value is None:
                    continue
                bucket = by_value.get(v)
                if bucket is not None:
                    bucket.discard(s)
                    if not bucket:
                        del by_value[v]
                        if not by_value:
                            del t.label_index[k]
        if fields and t.field_index:
            for f, v in zip(t.kind.extra_fields, s.fields, strict=True):
                index = t.field_index.get(f)
                if index is not None:
                    bucket = index.get(v)
                    if bucket is not None:
                        bucket.discard(s)
                        if not bucket:
                            del index[v]
        if owners:
            for uid in s.owners:
                deps = self.owner_index.get(uid)
                if deps is not None:
                    deps.discard(s)
                    if not deps:
                        del self.owner_index[uid]


def _sort_key(s: Stored) -> tuple[str, str]:
    return (s.namespace, s.name)


# Within one namespace, sorting on the name alone lets list.sort compare plain
# strings (its fast path) instead of tuples whose first items are all equal: ~3x.
_name_key = attrgetter("name")
