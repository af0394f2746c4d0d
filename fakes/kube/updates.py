# mypy: disable-error-code="misc"
# The methods below are the Api's, annotated ``self: Api`` so that they are
# type-checked against the whole facade; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""Update and patch: PUT and the JSON, merge and strategic-merge PATCH types.

A patch is applied to the stored object (or its Scale view) and then goes through the
same path as an update: optimistic concurrency on ``metadata.resourceVersion``,
server-owned metadata kept, status kept unless the status subresource is written,
what decoding does (defaults, Secret ``stringData``, empty maps:
``fakes.kube.normalise``), validation, generation bumped on a spec change, and a
no-op write answered without a new resourceVersion. Server-side apply is
``fakes.kube.apply``. These are methods of :class:`fakes.kube.api.Api`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fakes.kube import errors, managedfields, normalise
from fakes.kube.creation import SERVER_META
from fakes.kube.defaults import with_zero_status
from fakes.kube.errors import ApiError, FieldError, dumps
from fakes.kube.immutability import update_problems
from fakes.kube.patch import PatchError, json_patch, merge_patch, strategic_merge
from fakes.kube.validation import validate_object

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.store import Stored

JsonObj = dict[str, Any]

PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


class UpdateMixin:
    """PUT and PATCH of an existing object."""

    def update_raw(
        self: Api,
        kind: ResourceKind,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> bytes:
        """PUT; ``field_manager`` (when known) becomes the owner of what it changed."""
        ns = self._ns(kind, namespace)
        if not isinstance(body, dict):
            raise errors.bad_request(
                f"the body of the request must be a JSON object describing a {kind.kind}"
            )
        with self.store.lock:
            stored = self._stored(kind, ns, name)
            meta = body.get("metadata") or {}
            if meta.get("name") and meta["name"] != name:
                raise errors.bad_request(
                    f"the name of the object ({meta['name']}) does not match the name on the URL "
                    f"({name})"
                )
            rv = meta.get("resourceVersion")
            if rv and str(rv) != str(stored.rv):
                raise errors.stale(kind, name)
            old = stored.decode()
            if subresource == "scale":
                return self._write_scale(kind, stored, old, body, dry_run, field_manager)
            if subresource not in (None, "status"):
                raise errors.method_not_allowed()
            new = self._prepare_update(kind, old, body, subresource)
            return self._commit_update(kind, stored, old, new, dry_run, field_manager, subresource)

    def _prepare_update(
        self: Api, kind: ResourceKind, old: JsonObj, body: JsonObj, subresource: str | None
    ) -> JsonObj:
        if subresource == "status":
            new = dict(old)
            new["metadata"] = dict(old["metadata"])
            new["status"] = with_zero_status(kind.plural, body.get("status"))
            return new
        new = self._normalise(kind, body)
        meta = new["metadata"]
        old_meta = old["metadata"]
        for key in ("name", "namespace", *SERVER_META):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if "managedFields" not in meta:
            if "managedFields" in old_meta:
                meta["managedFields"] = old_meta["managedFields"]
        elif not meta["managedFields"]:
            del meta["managedFields"]  # an empty list resets ownership, as in kube
        else:
            meta["managedFields"] = managedfields.as_sent(
                meta["managedFields"], old_meta.get("managedFields")
            )
        if kind.subresource("status") is not None:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        normalise.on_update(kind, old, new, self._ips)
        problems = validate_object(kind, new)
        problems += update_problems(kind, old, new)
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ())
            if added:
                problems.append(
                    FieldError.forbidden(
                        "metadata.finalizers",
                        "no new finalizers can be added if the object is being deleted, "
                        "found new finalizers "
                        f"[]string{{{', '.join(json.dumps(f) for f in sorted(added))}}}",
                    )
                )
        if problems:
            raise errors.invalid(kind, old_meta["name"], problems)
        return new

    def _commit_update(
        self: Api,
        kind: ResourceKind,
        stored: Stored,
        old: JsonObj,
        new: JsonObj,
        dry_run: bool,
        manager: str | None = None,
        subresource: str | None = None,
    ) -> bytes:
        meta = new["metadata"]
        if manager:
            managed = managedfields.updated(
                old, new, manager, kind.api_version, self.now(), subresource
            )
            if managed:
                meta["managedFields"] = managed
            elif managed is not None:
                meta.pop("managedFields", None)
        if kind.tracks_generation and old.get("spec") != new.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        meta["resourceVersion"] = str(stored.rv)
        if new == old:
            return stored.raw
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not self._graceful_pending(kind, new)
        ):
            if dry_run:
                return dumps(new)
            return self._finish_delete(stored, new)
        if dry_run:
            return dumps(new)
        self.store.replace(stored, new)
        if kind is self.pods:
            self.admission.charge(kind, old, new)
        return stored.raw

    def patch_raw(
        self: Api,
        kind: ResourceKind,
        namespace: str | None,
        name: str,
        body: bytes,
        content_type: str,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        force: bool = False,
        parsed: Any = None,
    ) -> tuple[int, bytes]:
        """PATCH with one of the four patch types; ``(201, obj)`` when apply creates.

        ``parsed``: the body already parsed by the router's field validation (so it is
        not parsed twice); ``None`` to parse ``body`` here.
        """
        ns = self._ns(kind, namespace)
        ctype = content_type.split(";", 1)[0].strip().lower()
        if ctype not in PATCH_TYPES.values():
            raise errors.unsupported_media_type(", ".join(PATCH_TYPES.values()))
        if ctype == PATCH_TYPES["apply"]:
            return self._apply(
                kind, ns, name, body, subresource, dry_run, field_manager, force, parsed
            )
        if force:
            raise managedfields.force_without_apply()
        patch = parsed
        if patch is None:
            try:
                patch = json.loads(body) if body else None
            except ValueError as exc:
                raise errors.bad_request(f"error decoding patch: {exc}") from exc
        with self.store.lock:
            stored = self._stored(kind, ns, name)
            old = stored.decode()
            target = self._scale_of(kind, old) if subresource == "scale" else old
            try:
                if ctype == PATCH_TYPES["json"]:
                    patched = json_patch(target, patch)
                elif ctype == PATCH_TYPES["merge"]:
                    if not isinstance(patch, dict):
                        raise PatchError("merge patch must be a JSON object")
                    patched = merge_patch(target, patch)
                else:
                    if kind.subresource("scale") is None and subresource == "scale":
                        raise errors.method_not_allowed()
                    if not isinstance(patch, dict):
                        raise PatchError("strategic merge patch must be a JSON object")
                    patched = strategic_merge(target, patch)
            except PatchError as exc:
                raise ApiError(
                    422,
                    "Invalid",
                    f"the server rejected our request due to an error in our request: {exc}",
                    {},
                ) from exc
            rv = (patched.get("metadata") or {}).get("resourceVersion")
            if rv and str(rv) != str(stored.rv):
                raise errors.stale(kind, name)
            if subresource == "scale":
                return 200, self._write_scale(kind, stored, old, patched, dry_run, field_manager)
            if subresource not in (None, "status"):
                raise errors.method_not_allowed()
            new = self._prepare_update(kind, old, patched, subresource)
            return 200, self._commit_update(
                kind, stored, old, new, dry_run, field_manager, subresource
            )
