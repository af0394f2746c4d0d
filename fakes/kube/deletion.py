# mypy: disable-error-code="misc"
# The methods below are the Api's, annotated ``self: Api`` so that they are
# type-checked against the whole facade; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""Deletion: graceful deletion, finalizers, garbage collection, namespaces.

* DELETE honours preconditions (uid, resourceVersion) and ``propagationPolicy``
  (``orphanDependents`` as the legacy spelling).
* A pod bound to a node and not terminal is deleted gracefully: it gets
  ``deletionTimestamp``/``deletionGracePeriodSeconds`` and stays until the kubelet
  (``fakes.kube.controllers.kubelet``) finishes it with a grace-0 delete.
* An object with finalizers gets a ``deletionTimestamp`` and stays until an update
  clears them (``_commit_update`` calls :meth:`DeletionMixin._finish_delete`).
* The garbage collector is synchronous: ``Foreground`` adds the
  ``foregroundDeletion`` finalizer and deletes dependents first, ``Orphan`` strips
  the owner reference from dependents, ``Background`` deletes dependents whose owners
  are all gone right after the owner.
* A namespace is ``Terminating`` while it has content; its content is deleted and
  the namespace goes when the last object does.
* DELETECOLLECTION deletes every match and answers with their list.

These are methods of :class:`fakes.kube.api.Api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube import errors
from fakes.kube.errors import FieldError, dumps

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.store import Stored

JsonObj = dict[str, Any]


class DeletionMixin:
    """DELETE, finalizers, garbage collection and DELETECOLLECTION."""

    def delete_raw(
        self: Api,
        kind: ResourceKind,
        namespace: str | None,
        name: str,
        options: JsonObj | None = None,
        *,
        dry_run: bool = False,
    ) -> tuple[int, bytes]:
        """DELETE: ``(200, object)`` for pods-like kinds or pending deletions, else a Status."""
        ns = self._ns(kind, namespace)
        options = options or {}
        with self.store.lock:
            stored = self._stored(kind, ns, name)
            return 200, self._delete(stored, options, dry_run)

    def _delete(self: Api, stored: Stored, options: JsonObj, dry_run: bool) -> bytes:
        kind = stored.kind
        obj = stored.decode()
        meta = obj["metadata"]
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise errors.conflict(
                kind,
                stored.name,
                f"Precondition failed: UID in precondition: {pre['uid']}, "
                f"UID in object meta: {meta.get('uid')}",
            )
        if pre.get("resourceVersion") and str(pre["resourceVersion"]) != str(stored.rv):
            raise errors.conflict(
                kind,
                stored.name,
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {stored.rv}",
            )
        policy = options.get("propagationPolicy")
        if not policy:
            orphan = options.get("orphanDependents")
            policy = "Orphan" if orphan else "Background"
        if policy not in ("Foreground", "Background", "Orphan"):
            raise errors.invalid(
                kind,
                stored.name,
                [
                    FieldError.not_supported(
                        "propagationPolicy", policy, ["Foreground", "Background", "Orphan"]
                    )
                ],
            )
        if kind is self.namespaces:
            return self._delete_namespace(stored, obj, dry_run)
        grace = options.get("gracePeriodSeconds")
        if self._graceful_applies(kind, obj, grace):
            seconds = int(
                grace if grace is not None else obj["spec"].get("terminationGracePeriodSeconds", 30)
            )
            if (
                meta.get("deletionTimestamp")
                and int(meta.get("deletionGracePeriodSeconds", 0)) <= seconds
            ):
                return stored.raw
            meta["deletionTimestamp"] = self._ts.format(self.clock.now() + seconds)
            meta["deletionGracePeriodSeconds"] = seconds
            if policy != "Background":
                self._add_finalizer(
                    meta, "foregroundDeletion" if policy == "Foreground" else "orphan"
                )
            if dry_run:
                return dumps(obj)
            self.store.replace(stored, obj)
            return stored.raw
        finalizers = list(meta.get("finalizers") or ())
        if policy == "Foreground" and self.store.dependents(stored.uid):
            self._add_finalizer(meta, "foregroundDeletion")
        elif policy == "Orphan" and self.store.dependents(stored.uid):
            self._add_finalizer(meta, "orphan")
        finalizers = list(meta.get("finalizers") or ())
        if finalizers:
            if dry_run:
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = self.now()
                    meta["deletionGracePeriodSeconds"] = 0
                return dumps(obj)
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = self.now()
                meta["deletionGracePeriodSeconds"] = 0
                self.store.replace(stored, obj)
            self._run_finalizers(stored)
            live = self.store.get(kind, stored.namespace, stored.name)
            if live is not None and live is stored:
                return stored.raw
            return self._deleted_body(kind, stored, stored.raw)
        if dry_run:
            return self._deleted_body(kind, stored, stored.raw)
        raw = self._remove(stored, obj)
        return self._deleted_body(kind, stored, raw)

    def _deleted_body(self: Api, kind: ResourceKind, stored: Stored, raw: bytes) -> bytes:
        if kind.returns_deleted_object:
            return raw
        details: JsonObj = {"name": stored.name}
        if kind.group:
            details["group"] = kind.group
        details["kind"] = kind.plural
        details["uid"] = stored.uid
        return dumps(errors.success_status(200, details))

    def _graceful_applies(self: Api, kind: ResourceKind, obj: JsonObj, grace: Any) -> bool:
        if kind is not self.pods or not self.graceful_pod_deletion or grace == 0:
            return False
        if not obj.get("spec", {}).get("nodeName"):
            return False
        return obj.get("status", {}).get("phase") not in ("Succeeded", "Failed")

    def _graceful_pending(self: Api, kind: ResourceKind, obj: JsonObj) -> bool:
        """A pod whose graceful deletion still waits for the kubelet (grace > 0)."""
        meta = obj["metadata"]
        return (
            kind is self.pods
            and self.graceful_pod_deletion
            and int(meta.get("deletionGracePeriodSeconds") or 0) > 0
            and bool(obj.get("spec", {}).get("nodeName"))
            and obj.get("status", {}).get("phase") not in ("Succeeded", "Failed")
        )

    @staticmethod
    def _add_finalizer(meta: JsonObj, name: str) -> None:
        finalizers = meta.setdefault("finalizers", [])
        if name not in finalizers:
            finalizers.append(name)

    def _run_finalizers(self: Api, stored: Stored) -> None:
        """Act for the garbage collector on ``foregroundDeletion`` and ``orphan``."""
        obj = stored.decode()
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or ())
        changed = False
        if "orphan" in finalizers:
            for dep in self.store.dependents(stored.uid):
                dep_obj = dep.decode()
                refs = [
                    r
                    for r in dep_obj["metadata"].get("ownerReferences", [])
                    if r.get("uid") != stored.uid
                ]
                if refs:
                    dep_obj["metadata"]["ownerReferences"] = refs
                else:
                    dep_obj["metadata"].pop("ownerReferences", None)
                self.store.replace(dep, dep_obj)
            finalizers.remove("orphan")
            changed = True
        if "foregroundDeletion" in finalizers:
            for dep in self.store.dependents(stored.uid):
                if self.store.get(dep.kind, dep.namespace, dep.name) is dep:
                    self._delete(dep, {"propagationPolicy": "Foreground"}, False)
            if not self.store.dependents(stored.uid):
                finalizers.remove("foregroundDeletion")
                changed = True
        if not changed:
            return
        if finalizers:
            meta["finalizers"] = finalizers
        else:
            meta.pop("finalizers", None)
        if finalizers or self._graceful_pending(stored.kind, obj):
            self.store.replace(stored, obj)
        else:
            self._remove(stored, obj)

    def _finish_delete(self: Api, stored: Stored, new: JsonObj) -> bytes:
        return self._remove(stored, new)

    def _remove(self: Api, stored: Stored, obj: JsonObj) -> bytes:
        """Remove for good, charge quota back, then collect garbage around it."""
        kind = stored.kind
        meta = obj["metadata"]
        if meta.get("resourceVersion") != str(stored.rv) or dumps(obj) != stored.raw:
            self.store.replace(stored, obj)
        raw = self.store.remove(stored)
        self.admission.charge(kind, obj, None)
        # Background propagation: dependents whose owners are all gone go too.
        for dep in self.store.dependents(stored.uid):
            if self.store.get(dep.kind, dep.namespace, dep.name) is not dep:
                continue
            if self._has_live_owner(dep, exclude=stored.uid):
                continue
            self._delete(dep, {"propagationPolicy": "Background"}, False)
        # Owners waiting in foreground deletion may now be free to go.
        for ref in meta.get("ownerReferences") or ():
            owner_kind = self.registry.by_api_version_kind(
                ref.get("apiVersion", ""), ref.get("kind", "")
            )
            if owner_kind is None:
                continue
            owner = self.store.get(
                owner_kind, stored.namespace if owner_kind.namespaced else "", ref.get("name", "")
            )
            if (
                owner is not None
                and owner.uid == ref.get("uid")
                and b'"foregroundDeletion"' in owner.raw
            ):
                self._run_finalizers(owner)
        if kind.namespaced:
            ns = self.store.get(self.namespaces, "", stored.namespace)
            if ns is not None and b'"deletionTimestamp"' in ns.raw:
                self._maybe_finish_namespace(ns)
        return raw

    def _has_live_owner(self: Api, dep: Stored, exclude: str) -> bool:
        for ref in dep.decode()["metadata"].get("ownerReferences") or ():
            if ref.get("uid") == exclude:
                continue
            owner_kind = self.registry.by_api_version_kind(
                ref.get("apiVersion", ""), ref.get("kind", "")
            )
            if owner_kind is None:
                continue
            owner = self.store.get(
                owner_kind, dep.namespace if owner_kind.namespaced else "", ref.get("name", "")
            )
            if owner is not None and owner.uid == ref.get("uid"):
                return True
        return False

    def _delete_namespace(self: Api, stored: Stored, obj: JsonObj, dry_run: bool) -> bytes:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = self.now()
            meta["deletionGracePeriodSeconds"] = 0
            obj.setdefault("status", {})["phase"] = "Terminating"
            if dry_run:
                return dumps(obj)
            self.store.replace(stored, obj)
        elif dry_run:
            return stored.raw
        for kind in self.registry.kinds:
            if not kind.namespaced:
                continue
            for s in self.store.select(kind, stored.name):
                if (
                    self.store.get(kind, s.namespace, s.name) is s
                    and b'"deletionTimestamp"' not in s.raw
                ):
                    self._delete(s, {"propagationPolicy": "Background"}, False)
        raw = stored.raw
        self._maybe_finish_namespace(stored)
        return raw

    def _maybe_finish_namespace(self: Api, ns: Stored) -> None:
        for kind in self.registry.kinds:
            if kind.namespaced and self.store.table(kind).by_ns.get(ns.name):
                return
        if self.store.get(self.namespaces, "", ns.name) is ns:
            obj = ns.decode()
            obj.get("spec", {}).pop("finalizers", None)
            self.store.replace(ns, obj)
            self.store.remove(ns)

    def delete_collection_raw(
        self: Api,
        kind: ResourceKind,
        namespace: str | None,
        options: JsonObj | None = None,
        *,
        label_selector: str | None = "",
        field_selector: str | None = "",
        dry_run: bool = False,
    ) -> bytes:
        """DELETECOLLECTION: deletes every match and answers with their list, as the real server."""
        from fakes.kube.api import ListPage, encode_list  # the facade imports this module

        options = options or {}
        if "deletecollection" not in kind.verbs:
            raise errors.method_not_allowed()
        with self.store.lock:
            page = self.list_page(kind, namespace, label_selector, field_selector)
            deleted: list[bytes] = []
            for stored in page.items:
                if self.store.get(kind, stored.namespace, stored.name) is not stored:
                    continue
                before = stored.raw
                self._delete(stored, options, dry_run)
                deleted.append(before if dry_run else stored.raw)
            return encode_list(kind, ListPage([], self.store.rv, "", None), deleted)
