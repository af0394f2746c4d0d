"""The garbage collector's orphan sweep: dependents whose every owner is absent go.

Cascading from a deleted owner is synchronous in the API core
(``fakes.kube.deletion``). What it cannot see is a dependent that is *written* with
ownerReferences to owners that do not exist -- created after its owner went, or
pointed at a made-up uid. Kube's garbage collector notices such references when the
dependent's add or update reaches its graph and, after verifying the owners, deletes
the dependent with background propagation. This controller does the same:

* It follows writes of every kind but only acts on those that *add or change*
  ownerReferences (an ADDED object that has them, a MODIFIED one whose references
  differ), compared on the stored bytes, so status churn costs a substring search.
* It checks after :attr:`GarbageCollector.delay` loop seconds, as kube's collector
  works asynchronously; the check counts as pending work for ``settle``.
* An owner is present when an object of the reference's apiVersion/kind and name
  exists with the reference's uid -- in the dependent's namespace for a namespaced
  owner (an owner elsewhere counts as absent). The same name with another uid is
  absent. One present owner keeps the dependent; an owner in foreground deletion is
  present (the core's foreground logic finishes it).
* A reference that cannot be resolved (unknown kind; a cluster-scoped dependent naming
  a namespaced kind) keeps the dependent, as in kube; the latter gets a Warning event
  ``OwnerRefInvalidNamespace``.

On start it checks the objects already stored once per distinct owner uid (through
the store's owner index), not once per dependent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Controller
from fakes.kube.controllers.events import WARNING
from fakes.kube.store import ADDED, DELETED

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.store import Change, Stored

JsonObj = dict[str, Any]

_REFS = b'"ownerReferences":['

PRESENT, ABSENT, UNRESOLVABLE = "present", "absent", "unresolvable"


def _refs_bytes(raw: bytes | None) -> bytes:
    """The encoded ownerReferences list of an object (``b""`` without one).

    Names, uids and apiVersions never contain ``]``, so the list ends at the first one.
    """
    if raw is None:
        return b""
    start = raw.find(_REFS)
    if start < 0:
        return b""
    return raw[start : raw.find(b"]", start)]


class GarbageCollector(Controller):
    name = "garbage-collector"
    delay = 0.5
    """Loop seconds between a reference's appearance and the check of its owners."""

    def setup(self) -> None:
        self.store = self.access.store
        self.registry = self.access.registry
        for kind in self.registry.kinds:
            self._unsubscribe.append(self.access.subscribe(kind, self._on_change))

    def _on_change(self, change: Change) -> None:
        if change.type == DELETED:
            return
        refs = _refs_bytes(change.raw)
        if not refs:
            return
        if change.type != ADDED and refs == _refs_bytes(change.prev_raw):
            return
        self.enqueue_after((change.kind, change.namespace, change.name), self.delay)

    def resync(self) -> None:
        for uid, deps in list(self.store.owner_index.items()):
            dep = next(iter(deps))
            ref = next(
                (r for r in _owner_refs(dep.decode()) if r.get("uid") == uid),
                None,
            )
            if ref is None or self._owner_state(dep, ref) != PRESENT:
                for d in deps:
                    self.enqueue((d.kind, d.namespace, d.name))

    def reconcile(self, key: Any) -> None:
        kind, namespace, name = key
        with self.store.lock:
            stored = self.store.get(kind, namespace, name)
            if stored is None or not stored.owners:
                return
            obj = stored.decode()
            if obj["metadata"].get("deletionTimestamp"):
                return
            states = [self._owner_state(stored, ref, obj) for ref in _owner_refs(obj)]
            if not states or any(s != ABSENT for s in states):
                return
            self.access.api.delete(
                kind,
                name,
                namespace if kind.namespaced else None,
                propagation_policy="Background",
                preconditions={"uid": stored.uid},
            )

    def _owner_state(self, dep: Stored, ref: JsonObj, obj: JsonObj | None = None) -> str:
        owner_kind: ResourceKind | None = self.registry.by_api_version_kind(
            ref.get("apiVersion", ""), ref.get("kind", "")
        )
        if owner_kind is None:
            return UNRESOLVABLE
        if owner_kind.namespaced and not dep.kind.namespaced:
            if obj is not None:
                self.recorder.record(
                    obj,
                    "OwnerRefInvalidNamespace",
                    f"ownerRef {ref} does not exist in namespace {dep.namespace!r}"
                    " (a cluster-scoped object cannot have a namespaced owner)",
                    WARNING,
                    component="garbage-collector-controller",
                )
            return UNRESOLVABLE
        owner = self.store.get(
            owner_kind, dep.namespace if owner_kind.namespaced else "", ref.get("name", "")
        )
        if owner is not None and owner.uid == ref.get("uid"):
            return PRESENT
        return ABSENT


def _owner_refs(obj: JsonObj) -> list[JsonObj]:
    refs: list[JsonObj] = obj["metadata"].get("ownerReferences") or []
    return refs
