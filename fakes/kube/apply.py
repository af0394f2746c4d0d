# mypy: disable-error-code="misc"
# The methods below are the Api's, annotated ``self: Api`` so that they are
# type-checked against the whole facade; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""Server-side apply: PATCH with ``application/apply-patch+yaml``.

Creates the object when it does not exist, else merges the applied configuration
into it under the field-ownership rules of ``fakes.kube.managedfields`` (conflicts,
``force``, removal of fields the manager dropped). These are methods of
:class:`fakes.kube.api.Api`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from fakes.kube import errors, fieldsets, managedfields
from fakes.kube.codec import copy_json
from fakes.kube.managedfields import APPLY
from fakes.kube.patch import strategic_merge

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind


class ApplyMixin:
    """Server-side apply."""

    def _apply(
        self: Api,
        kind: ResourceKind,
        ns: str,
        name: str,
        body: bytes,
        subresource: str | None,
        dry_run: bool,
        field_manager: str | None,
        force: bool,
        parsed: Any = None,
    ) -> tuple[int, bytes]:
        """Apply ``body`` (or ``parsed``, the same body already parsed)."""
        import yaml

        if not field_manager:
            raise managedfields.missing_field_manager()
        applied = parsed
        if applied is None:
            try:
                applied = yaml.safe_load(body) if body else None
            except yaml.YAMLError as exc:
                raise errors.bad_request(f"error decoding YAML: {exc}") from exc
        if not isinstance(applied, dict):
            raise errors.bad_request("apply patch must be a YAML or JSON object")
        meta = applied.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        if not applied.get("apiVersion") or not applied.get("kind"):
            raise errors.bad_request("apply patch must set apiVersion and kind")
        with self.store.lock:
            stored = self.store.get(kind, ns, name)
            if stored is None:
                if subresource is not None:
                    raise errors.not_found(kind, name)
                body_obj = copy_json(applied)
                body_obj.setdefault("metadata", {})["name"] = name
                fields = fieldsets.leaves(applied)
                managed = [
                    managedfields.new_entry(
                        field_manager, APPLY, kind.api_version, self.now(), set(fields)
                    )
                ]
                return 201, self._create(kind, ns, body_obj, dry_run, field_manager, managed)
            old = stored.decode()
            rv = meta.get("resourceVersion")
            if rv and str(rv) != str(stored.rv):
                raise errors.stale(kind, name)
            outcome = managedfields.apply(
                old,
                applied,
                partial(strategic_merge, apply=True),
                field_manager,
                kind.api_version,
                self.now(),
                force=force,
                subresource=subresource,
            )
            merged = outcome.obj
            merged["metadata"].pop("resourceVersion", None)
            new = self._prepare_update(kind, old, merged, subresource)
            if outcome.managed:
                new["metadata"]["managedFields"] = outcome.managed
            else:
                new["metadata"].pop("managedFields", None)
            return 200, self._commit_update(kind, stored, old, new, dry_run)
