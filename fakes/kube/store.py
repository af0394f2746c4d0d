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
* Indexes (``fakes.kube.indexes``): by namespace (the primary map), by label
  ``key=value``, by the kind's ``indexed_fields`` and by owner uid;
  :meth:`ObjectStore.select` reads from the smallest applicable one. The records
  themselves (:class:`Stored`, :class:`Change`) are ``fakes.kube.records``.
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
from fakes.kube.indexes import IndexMixin, extract_fields, field_value
from fakes.kube.records import ADDED, DELETED, MODIFIED, Change, Listener, Stored

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

__all__ = [
    "ADDED",
    "DELETED",
    "MODIFIED",
    "Change",
    "Listener",
    "ObjectStore",
    "Stored",
    "Table",
    "extract_fields",
    "field_value",
]

JsonObj = dict[str, Any]

_NO_LABELS: dict[str, str] = {}
_intern = sys.intern


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


class ObjectStore(IndexMixin):
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
            prev_labels, prev_fields, prev_raw = stored.labels, stored.fields, stored.raw
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
                    prev_raw,
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
                    prev_raw=stored.raw,
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
