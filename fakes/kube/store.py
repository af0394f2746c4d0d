"""The object store: encoded objects, indexes, one resourceVersion, change fan-out.

Contract
--------
* Every stored object is kept as its **compact JSON bytes** (:attr:`Stored.raw`) plus
  the few fields reads need without decoding: namespace, name, uid, labels, the
  kind's field-selector values and owner uids. A GET answers with ``raw`` as is; a
  list is the concatenation of ``raw`` values; a watch event wraps ``raw``. Objects
  are decoded only when something must change them.
* One global, strictly increasing integer resourceVersion (:attr:`ObjectStore.rv`).
  Every write gets the next value; it is written into ``metadata.resourceVersion``.
* Indexes: by namespace (the primary map), by label ``key=value``, by the kind's
  ``indexed_fields`` (``spec.nodeName``, ``status.phase``, ...) and by owner uid.
  :meth:`ObjectStore.select` intersects from the smallest applicable index, so a
  selective read costs what it returns, not the store size.
* Changes: each write produces a :class:`Change`, appended to the kind's bounded
  history (used to resume watches) and offered synchronously to the kind's
  listeners (watchers and :meth:`ObjectStore.subscribe` callbacks). Listeners run
  under the store lock: they must only enqueue/schedule, never block or write.
* The store applies **no API semantics** (validation, admission, conflicts, GC); the
  API layer (``fakes.kube.api``) does, then calls :meth:`insert`/:meth:`replace`/
  :meth:`remove`. :meth:`bulk_insert` is the fast path for building big clusters.
* Thread safety: all public methods take :attr:`lock` (an ``RLock``), so the sync
  official client may run in worker threads next to the event loop.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from fakes.kube.errors import dumps

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.selectors import FieldSelector, LabelSelector

JsonObj = dict[str, Any]

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"

_NO_LABELS: dict[str, str] = {}
_intern = sys.intern


class Stored:
    """One stored object: its encoded bytes and the fields reads need without decoding."""

    __slots__ = ("fields", "kind", "labels", "name", "namespace", "owners", "raw", "rv", "uid")

    def __init__(
        self,
        kind: ResourceKind,
        namespace: str,
        name: str,
        uid: str,
        rv: int,
        raw: bytes,
        labels: dict[str, str],
        fields: tuple[str, ...],
        owners: tuple[str, ...],
    ) -> None:
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.rv = rv
        self.raw = raw
        self.labels = labels
        self.fields = fields
        self.owners = owners

    def field_values(self) -> dict[str, str]:
        """Every field-selector value of this object, by field label."""
        out = {"metadata.name": self.name, "metadata.namespace": self.namespace}
        out.update(zip(self.kind.extra_fields, self.fields, strict=True))
        return out

    def decode(self) -> JsonObj:
        import json

        obj: JsonObj = json.loads(self.raw)
        return obj

    def __repr__(self) -> str:
        return f"<Stored {self.kind.plural} {self.namespace}/{self.name} rv={self.rv}>"


class Change:
    """One write as watchers see it: the event type and the object after the write.

    ``prev_labels``/``prev_fields`` describe the object before a MODIFIED write, so a
    filtered watch can turn "now matches" into ADDED and "no longer matches" into
    DELETED, as the real watch cache does.
    """

    __slots__ = (
        "fields",
        "kind",
        "labels",
        "name",
        "namespace",
        "prev_fields",
        "prev_labels",
        "raw",
        "rv",
        "type",
    )

    def __init__(
        self,
        type: str,
        kind: ResourceKind,
        rv: int,
        raw: bytes,
        namespace: str,
        name: str,
        labels: dict[str, str],
        fields: tuple[str, ...],
        prev_labels: dict[str, str] | None = None,
        prev_fields: tuple[str, ...] | None = None,
    ) -> None:
        self.type = type
        self.kind = kind
        self.rv = rv
        self.raw = raw
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.fields = fields
        self.prev_labels = prev_labels
        self.prev_fields = prev_fields

    def field_values(self, previous: bool = False) -> dict[str, str]:
        fields = self.prev_fields if previous and self.prev_fields is not None else self.fields
        out = {"metadata.name": self.name, "metadata.namespace": self.namespace}
        out.update(zip(self.kind.extra_fields, fields, strict=True))
        return out

    def line(self, type: str | None = None) -> bytes:
        """The watch-stream line for this change (newline-terminated JSON)."""
        return b'{"type":"' + (type or self.type).encode() + b'","object":' + self.raw + b"}\n"


Listener = Callable[[Change], None]


class Table:
    """Objects of one kind with their indexes, history and listeners."""

    __slots__ = (
        "by_ns",
        "count",
        "field_index",
        "floor",
        "history",
        "kind",
        "label_index",
        "listeners",
    )

    def __init__(self, kind: ResourceKind, history_size: int) -> None:
        self.kind = kind
        self.by_ns: dict[str, dict[str, Stored]] = {}
        self.label_index: dict[str, dict[str, set[Stored]]] = {}
        self.field_index: dict[str, dict[str, set[Stored]]] = {f: {} for f in kind.indexed_fields}
        self.history: deque[Change] = deque(maxlen=history_size)
        # Every change with rv > floor is still in history.
        self.floor = 0
        self.count = 0
        self.listeners: list[Listener] = []

    def all(self) -> Iterator[Stored]:
        for objs in self.by_ns.values():
            yield from objs.values()


_PATHS: dict[ResourceKind, tuple[tuple[str, ...], ...]] = {}


def _field_paths(kind: ResourceKind) -> tuple[tuple[str, ...], ...]:
    paths = _PATHS.get(kind)
    if paths is None:
        paths = _PATHS[kind] = tuple(
            tuple(("source.component" if f == "source" else f).split("."))
            for f in kind.extra_fields
        )
    return paths


def extract_fields(kind: ResourceKind, obj: JsonObj) -> tuple[str, ...]:
    """The kind's field-selector values of ``obj``, in ``kind.extra_fields`` order."""
    out: list[str] = []
    for path in _field_paths(kind):
        cur: Any = obj
        for part in path:
            if type(cur) is not dict:
                cur = None
                break
            cur = cur.get(part)
            if cur is None:
                break
        if cur is None or type(cur) is dict or type(cur) is list:
            out.append("")
        elif cur is True or cur is False:
            out.append("true" if cur else "false")
        else:
            out.append(_intern(cur if type(cur) is str else str(cur)))
    return tuple(out)


def field_value(obj: JsonObj, path: str) -> str:
    """The string a field selector compares against (``""`` when absent)."""
    if path == "source":
        path = "source.component"
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, dict | list):
        return ""
    return _intern(str(cur))


class ObjectStore:
    """All tables, the global resourceVersion, and the change fan-out (see module doc)."""

    def __init__(self, kinds: Iterable[ResourceKind], history_size: int = 10_000) -> None:
        self.lock = threading.RLock()
        self.rv = 1
        self.tables: dict[ResourceKind, Table] = {k: Table(k, history_size) for k in kinds}
        self.owner_index: dict[str, set[Stored]] = {}

    # -- reads ---------------------------------------------------------------

    def table(self, kind: ResourceKind) -> Table:
        return self.tables[kind]

    def get(self, kind: ResourceKind, namespace: str, name: str) -> Stored | None:
        objs = self.tables[kind].by_ns.get(namespace)
        return objs.get(name) if objs else None

    def count(self, kind: ResourceKind) -> int:
        return self.tables[kind].count

    def dependents(self, uid: str) -> list[Stored]:
        """Objects whose ownerReferences name ``uid`` (any kind)."""
        return list(self.owner_index.get(uid, ()))

    def select(
        self,
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
            if labels is not None and not labels.empty:
                for key, value in labels.equalities():
                    hit = t.label_index.get(key, {}).get(value, ())
                    if len(hit) < size:
                        candidates, size = hit, len(hit)
            if namespace is not None:
                objs = t.by_ns.get(namespace, {})
                if len(objs) < size:
                    candidates, size = objs.values(), len(objs)
            if candidates is None:
                candidates = t.all()
            check_labels = labels is not None and not labels.empty
            check_fields = fields is not None and not fields.empty
            out = []
            for s in candidates:
                if namespace is not None and s.namespace != namespace:
                    continue
                if check_labels and not labels.matches(s.labels):  # type: ignore[union-attr]
                    continue
                if check_fields and not fields.matches(s.field_values()):  # type: ignore[union-attr]
                    continue
                out.append(s)
        out.sort(key=_sort_key)
        return out

    @staticmethod
    def _by_name(t: Table, namespace: str | None, name: str) -> list[Stored]:
        if namespace is not None:
            s = t.by_ns.get(namespace, {}).get(name)
            return [s] if s is not None else []
        return [objs[name] for objs in t.by_ns.values() if name in objs]

    # -- writes --------------------------------------------------------------

    def next_rv(self) -> int:
        with self.lock:
            self.rv += 1
            return self.rv

    def insert(self, kind: ResourceKind, obj: JsonObj) -> Stored:
        """Store a new object (metadata.name/uid already set) and announce ADDED."""
        with self.lock:
            rv = self.next_rv()
            meta = obj["metadata"]
            meta["resourceVersion"] = str(rv)
            stored = self._make(kind, obj, rv)
            t = self.tables[kind]
            objs = t.by_ns.get(stored.namespace)
            if objs is None:
                objs = t.by_ns[stored.namespace] = {}
            objs[stored.name] = stored
            t.count += 1
            self._index(t, stored)
            self._announce(
                t,
                Change(
                    ADDED,
                    kind,
                    rv,
                    stored.raw,
                    stored.namespace,
                    stored.name,
                    stored.labels,
                    stored.fields,
                ),
            )
            return stored

    def replace(self, stored: Stored, obj: JsonObj) -> Stored:
        """Write a new version of ``stored`` in place and announce MODIFIED."""
        with self.lock:
            kind = stored.kind
            t = self.tables[kind]
            rv = self.next_rv()
            obj["metadata"]["resourceVersion"] = str(rv)
            fresh = self._make(kind, obj, rv)
            prev_labels, prev_fields = stored.labels, stored.fields
            relabel = fresh.labels != stored.labels
            refield = fresh.fields != stored.fields
            reown = fresh.owners != stored.owners
            if relabel or refield or reown:
                self._unindex(t, stored, relabel, refield, reown)
            stored.rv, stored.raw = rv, fresh.raw
            if relabel:
                stored.labels = fresh.labels
            if refield:
                stored.fields = fresh.fields
            if reown:
                stored.owners = fresh.owners
            if relabel or refield or reown:
                self._index(t, stored, relabel, refield, reown)
            self._announce(
                t,
                Change(
                    MODIFIED,
                    kind,
                    rv,
                    stored.raw,
                    stored.namespace,
                    stored.name,
                    stored.labels,
                    stored.fields,
                    prev_labels,
                    prev_fields,
                ),
            )
            return stored

    def remove(self, stored: Stored) -> bytes:
        """Delete ``stored`` and announce DELETED; returns the object as deleted.

        The DELETED event carries a new resourceVersion, like the real watch cache.
        """
        with self.lock:
            t = self.tables[stored.kind]
            objs = t.by_ns.get(stored.namespace)
            if objs is None or objs.get(stored.name) is not stored:
                return stored.raw
            del objs[stored.name]
            if not objs:
                del t.by_ns[stored.namespace]
            t.count -= 1
            self._unindex(t, stored)
            rv = self.next_rv()
            old = b'"resourceVersion":"%d"' % stored.rv
            raw = stored.raw.replace(old, b'"resourceVersion":"%d"' % rv, 1)
            self._announce(
                t,
                Change(
                    DELETED,
                    stored.kind,
                    rv,
                    raw,
                    stored.namespace,
                    stored.name,
                    stored.labels,
                    stored.fields,
                ),
            )
            return raw

    def bulk_insert(self, kind: ResourceKind, objs: Iterable[JsonObj]) -> int:
        """Fast path for building large clusters: store fully formed objects.

        Each object needs ``metadata.name`` (and ``namespace`` for namespaced kinds);
        ``uid``/``creationTimestamp`` must already be set by the caller (see
        ``Api.bulk_create``, which fills them). No validation or admission runs;
        history and listeners still see ADDED, so watchers started earlier stay right.
        """
        # Stored objects hold no reference cycles; pausing the cyclic GC keeps the
        # cost per object flat instead of growing with the heap being built.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._bulk_insert(kind, objs)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _bulk_insert(self, kind: ResourceKind, objs: Iterable[JsonObj]) -> int:
        n = 0
        with self.lock:
            t = self.tables[kind]
            by_ns = t.by_ns
            listeners = t.listeners
            history = t.history
            for obj in objs:
                self.rv += 1
                rv = self.rv
                obj["metadata"]["resourceVersion"] = str(rv)
                stored = self._make(kind, obj, rv)
                bucket = by_ns.get(stored.namespace)
                if bucket is None:
                    bucket = by_ns[stored.namespace] = {}
                bucket[stored.name] = stored
                self._index(t, stored)
                change = Change(
                    ADDED,
                    kind,
                    rv,
                    stored.raw,
                    stored.namespace,
                    stored.name,
                    stored.labels,
                    stored.fields,
                )
                if len(history) == history.maxlen:
                    t.floor = history[0].rv
                history.append(change)
                if listeners:
                    for listener in listeners:
                        listener(change)
                n += 1
            t.count += n
        return n

    # -- listeners -----------------------------------------------------------

    def subscribe(self, kind: ResourceKind, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` synchronously on every write of ``kind``.

        Returns a function that unsubscribes. The listener runs under the store lock
        and must not block or write back; schedule work instead.
        """
        with self.lock:
            self.tables[kind].listeners.append(listener)

        def unsubscribe() -> None:
            with self.lock:
                listeners = self.tables[kind].listeners
                if listener in listeners:
                    listeners.remove(listener)

        return unsubscribe

    # -- internals -----------------------------------------------------------

    def _announce(self, t: Table, change: Change) -> None:
        history = t.history
        if len(history) == history.maxlen:
            t.floor = history[0].rv
        history.append(change)
        for listener in t.listeners:
            listener(change)

    def _make(self, kind: ResourceKind, obj: JsonObj, rv: int) -> Stored:
        meta = obj["metadata"]
        raw_labels = meta.get("labels")
        if raw_labels:
            labels = {_intern(k): _intern(v) for k, v in raw_labels.items()}
        else:
            labels = _NO_LABELS
        fields = extract_fields(kind, obj) if kind.extra_fields else ()
        refs = meta.get("ownerReferences")
        owners = tuple(_intern(r["uid"]) for r in refs if r.get("uid")) if refs else ()
        return Stored(
            kind,
            _intern(meta.get("namespace") or "") if kind.namespaced else "",
            meta["name"],
            meta.get("uid", ""),
            rv,
            dumps(obj),
            labels,
            fields,
            owners,
        )

    def _index(
        self, t: Table, s: Stored, labels: bool = True, fields: bool = True, owners: bool = True
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
        self, t: Table, s: Stored, labels: bool = True, fields: bool = True, owners: bool = True
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
