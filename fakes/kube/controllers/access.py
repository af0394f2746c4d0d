"""How controllers read and write the cluster: a small, synchronous object API.

Controllers run on the event loop and act on decoded objects (``dict``). They need
API-server semantics on their writes (uid, generation bumps, optimistic concurrency,
graceful pod deletion, finalizers, garbage collection, quota admission) but none of
the HTTP costs, so :class:`Access` reads the store directly and writes through the
core's Python API (``fakes.kube.api.Api``).

Contract: every write raises :class:`fakes.kube.errors.ApiError` the way the real
server would (404, 409 AlreadyExists, 409 Conflict on a stale resourceVersion, 403
exceeded quota), and controllers react to it like the real ones (re-queue, event).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.clock import TimestampFormatter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from fakes.kube.api import Api
    from fakes.kube.clock import Clock
    from fakes.kube.kinds import KindRegistry, ResourceKind
    from fakes.kube.records import Stored
    from fakes.kube.selectors import FieldSelector, LabelSelector
    from fakes.kube.store import Change, ObjectStore

JsonObj = dict[str, Any]


class Access:
    """The object API controllers use, on the core's :class:`fakes.kube.api.Api`.

    Reads go straight to the store (decoding only what is read); writes go through
    the API semantics so that controllers' writes look exactly like any client's.
    Status is written through the ``status`` subresource and binding through
    ``pods/binding``, as the real controllers and scheduler do.
    """

    def __init__(self, api: Api) -> None:
        self.api = api
        self.store: ObjectStore = api.store
        self.registry: KindRegistry = api.registry
        self.clock: Clock = api.clock
        self._fmt = TimestampFormatter()
        # owner uid -> id(stored dependent) -> (that record, its rv, its decoded form)
        self._views: dict[str, dict[int, tuple[Stored, int, JsonObj]]] = {}

    def now(self) -> float:
        return self.clock.now()

    def timestamp(self, when: float | None = None) -> str:
        return self._fmt.format(self.now() if when is None else when)

    # -- reads -----------------------------------------------------------------

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObj | None:
        stored = self.store.get(kind, namespace if kind.namespaced else "", name)
        return stored.decode() if stored is not None else None

    def select(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> list[JsonObj]:
        return [s.decode() for s in self.store.select(kind, namespace, labels, fields)]

    def owned(self, kind: ResourceKind, uid: str) -> list[JsonObj]:
        """Objects of ``kind`` whose ownerReferences name ``uid``, sorted by name."""
        deps = [s for s in self.store.dependents(uid) if s.kind is kind]
        deps.sort(key=lambda s: (s.namespace, s.name))
        return [s.decode() for s in deps]

    def owned_view(self, kind: ResourceKind, uid: str) -> list[JsonObj]:
        """:meth:`owned`, but the dicts are shared: read them, never change them.

        A ReplicaSet is reconciled on every change of any of its N pods; decoding all
        N each time made a scale-up O(N²) in JSON decoding (400 replicas: ~30 s of
        CPU). Each dependent's decoded form is kept while its stored record (one per
        revision) is current -- a record is rewritten in place, so the revision is
        what tells -- and a reconcile decodes only the pods that changed.
        """
        deps = [s for s in self.store.dependents(uid) if s.kind is kind]
        deps.sort(key=lambda s: (s.namespace, s.name))
        cached = self._views.get(uid, {})
        fresh: dict[int, tuple[Stored, int, JsonObj]] = {}
        out = []
        for stored in deps:
            hit = cached.get(id(stored))
            if hit is not None and hit[0] is stored and hit[1] == stored.rv:
                obj = hit[2]
            else:
                obj = stored.decode()
            fresh[id(stored)] = (stored, stored.rv, obj)
            out.append(obj)
        if fresh:
            self._views[uid] = fresh
        else:
            self._views.pop(uid, None)
        return out

    # -- writes ----------------------------------------------------------------

    def create(self, kind: ResourceKind, obj: JsonObj) -> JsonObj:
        return self.api.create(kind, obj, _namespace(kind, obj))

    def update(self, kind: ResourceKind, obj: JsonObj) -> JsonObj:
        """Replace spec/metadata; 409 when ``metadata.resourceVersion`` is stale."""
        return self.api.update(kind, obj, _namespace(kind, obj))

    def update_status(self, kind: ResourceKind, obj: JsonObj) -> JsonObj:
        """Replace status through the ``status`` subresource."""
        return self.api.update(kind, obj, _namespace(kind, obj), subresource="status")

    def bind(self, pod: JsonObj, node: str) -> None:
        meta = pod["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        self.api.create_raw(
            self.api.pods, meta["namespace"], body, subresource="binding", name=meta["name"]
        )

    def delete(
        self, kind: ResourceKind, namespace: str, name: str, grace: int | None = None
    ) -> None:
        self.api.delete(
            kind, name, namespace if kind.namespaced else None, grace_period_seconds=grace
        )

    def subscribe(
        self, kind: ResourceKind, listener: Callable[[Change], None]
    ) -> Callable[[], None]:
        return self.store.subscribe(kind, listener)


def _namespace(kind: ResourceKind, obj: JsonObj) -> str | None:
    if not kind.namespaced:
        return None
    ns: str = (obj.get("metadata") or {}).get("namespace") or "default"
    return ns


def owner_reference(owner: JsonObj, controller: bool = True) -> JsonObj:
    """The ownerReference a controller writes into what it creates."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: JsonObj) -> JsonObj | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            ref_obj: JsonObj = ref
            return ref_obj
    return None


def each_kind(registry: KindRegistry, names: Iterable[str]) -> list[ResourceKind]:
    return [registry.resolve(n) for n in names]
