"""The API semantics: what kube-apiserver does on each verb, on top of the store.

This is the Python-level API of the simulated cluster. The HTTP-shaped router
(``fakes.kube.router``), the in-process official-client front ends and the simulated
controllers all call it; controllers call it directly to skip HTTP round trips.

Python API (``resource`` is a plural, short name, kind or ``plural.group`` --
``"pods"``, ``"deploy"``, ``"Deployment"``, ``"deployments.apps"``)::

    api.create(resource, body, namespace=None, dry_run=False) -> dict
    api.get(resource, name, namespace=None) -> dict
    api.list(resource, namespace=None, label_selector="", field_selector="") -> list[dict]
    api.update(resource, body, namespace=None, subresource=None) -> dict
    api.patch(resource, name, patch, namespace=None, patch_type="strategic",
              subresource=None, field_manager=None) -> dict
    api.delete(resource, name, namespace=None, propagation_policy=None,
               grace_period_seconds=None) -> dict            # object or Status
    api.watch(resource, namespace=None, ..., resource_version=None) -> Watcher
    api.subscribe(resource, callback) -> unsubscribe
    api.bulk_create(resource, objects) -> int                 # fast cluster building

Each has a ``*_raw`` twin returning encoded bytes (what the front ends send), and
every failure raises :class:`fakes.kube.errors.ApiError` carrying the Status the
real server would answer with. Dict arguments are never mutated or retained.

Semantics implemented here: uid, creationTimestamp, generation bumped on spec
change, one global resourceVersion, generateName, AlreadyExists, Conflict on a stale
resourceVersion, NotFound, 422 Invalid with causes, namespace existence/termination,
dryRun, finalizers and deletionTimestamp, graceful pod deletion, owner references
with Foreground/Background/Orphan propagation and synchronous garbage collection,
status and scale subresources, pods/binding, pods/eviction (``fakes.kube.eviction``),
LimitRange and ResourceQuota admission (``fakes.kube.admission``).
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from fakes.kube import errors
from fakes.kube.admission import Admission
from fakes.kube.clock import Clock, TimestampFormatter, WallClock
from fakes.kube.defaults import (
    DEFAULTERS,
    ServiceIPs,
    default_service,
    pod_qos_class,
    with_zero_status,
)
from fakes.kube.errors import ApiError, FieldError, dumps
from fakes.kube.kinds import DEFAULT_REGISTRY, KindRegistry, ResourceKind
from fakes.kube.patch import (
    PatchError,
    json_patch,
    managed_fields_for,
    merge_patch,
    strategic_merge,
)
from fakes.kube.selectors import FieldSelector, LabelSelector
from fakes.kube.store import Change, ObjectStore, Stored
from fakes.kube.validation import validate_object
from fakes.kube.watch import Watcher, open_watch

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterable

JsonObj = dict[str, Any]

PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class ListPage:
    """One page of a list: the matching objects and the list metadata."""

    __slots__ = ("continue_token", "items", "remaining", "resource_version")

    def __init__(
        self, items: list[Stored], resource_version: int, continue_token: str, remaining: int | None
    ) -> None:
        self.items = items
        self.resource_version = resource_version
        self.continue_token = continue_token
        self.remaining = remaining


class Api:
    """API-server semantics over an :class:`ObjectStore` (see the module docstring)."""

    def __init__(
        self,
        store: ObjectStore | None = None,
        registry: KindRegistry = DEFAULT_REGISTRY,
        clock: Clock | None = None,
        *,
        seed: int = 0,
        graceful_pod_deletion: bool = True,
        create_system_namespaces: bool = True,
    ) -> None:
        self.registry = registry
        self.store = store if store is not None else ObjectStore(registry.kinds)
        self.clock: Clock = clock or WallClock()
        self.rng = random.Random(seed)
        self.graceful_pod_deletion = graceful_pod_deletion
        self._ts = TimestampFormatter()
        self._ips = ServiceIPs()
        self.admission = Admission(self)
        self.namespaces = registry.resolve("namespaces")
        self.pods = registry.resolve("pods")
        if create_system_namespaces:
            for name in SYSTEM_NAMESPACES:
                self.create_raw(self.namespaces, None, {"metadata": {"name": name}})

    # -- helpers ---------------------------------------------------------------

    def kind(self, resource: str | ResourceKind) -> ResourceKind:
        return resource if isinstance(resource, ResourceKind) else self.registry.resolve(resource)

    def now(self) -> str:
        return self._ts.format(self.clock.now())

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _ns(self, kind: ResourceKind, namespace: str | None) -> str:
        if not kind.namespaced:
            return ""
        if not namespace:
            raise errors.bad_request(f"a namespace is required to address {kind.group_resource}")
        return namespace

    def _stored(self, kind: ResourceKind, namespace: str, name: str) -> Stored:
        stored = self.store.get(kind, namespace, name)
        if stored is None:
            raise errors.not_found(kind, name)
        return stored

    # -- Python-level API ------------------------------------------------------

    def create(
        self,
        resource: str | ResourceKind,
        body: JsonObj,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> JsonObj:
        kind = self.kind(resource)
        ns = namespace if namespace is not None else (body.get("metadata") or {}).get("namespace")
        return _load(
            self.create_raw(kind, ns, _copy(body), dry_run=dry_run, field_manager=field_manager)
        )

    def get(self, resource: str | ResourceKind, name: str, namespace: str | None = None) -> JsonObj:
        return _load(self.get_raw(self.kind(resource), namespace, name))

    def list(
        self,
        resource: str | ResourceKind,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> list[JsonObj]:
        kind = self.kind(resource)
        page = self.list_page(kind, namespace, label_selector, field_selector)
        return [s.decode() for s in page.items]

    def update(
        self,
        resource: str | ResourceKind,
        body: JsonObj,
        namespace: str | None = None,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> JsonObj:
        kind = self.kind(resource)
        meta = body.get("metadata") or {}
        ns = namespace if namespace is not None else meta.get("namespace")
        return _load(
            self.update_raw(
                kind,
                ns,
                meta.get("name", ""),
                _copy(body),
                subresource=subresource,
                dry_run=dry_run,
            )
        )

    def patch(
        self,
        resource: str | ResourceKind,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "strategic",
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        force: bool = False,
    ) -> JsonObj:
        kind = self.kind(resource)
        content_type = PATCH_TYPES.get(patch_type, patch_type)
        body = patch if isinstance(patch, bytes) else dumps(patch)
        _, raw = self.patch_raw(
            kind,
            namespace,
            name,
            body,
            content_type,
            subresource=subresource,
            dry_run=dry_run,
            field_manager=field_manager,
            force=force,
        )
        return _load(raw)

    def delete(
        self,
        resource: str | ResourceKind,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: JsonObj | None = None,
        dry_run: bool = False,
    ) -> JsonObj:
        options: JsonObj = {}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = preconditions
        _, raw = self.delete_raw(self.kind(resource), namespace, name, options, dry_run=dry_run)
        return _load(raw)

    def watch(
        self,
        resource: str | ResourceKind,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str | None = None,
        allow_bookmarks: bool = False,
        timeout_seconds: float | None = None,
        send_initial_events: bool | None = None,
    ) -> Watcher:
        kind = self.kind(resource)
        labels = LabelSelector.parse(label_selector)
        fields = FieldSelector.parse(field_selector, kind.all_field_selectors)
        if resource_version not in (None, "", "0"):
            _parse_rv(resource_version)
        return open_watch(
            self.store,
            kind,
            namespace or None,
            labels,
            fields,
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
            timeout=timeout_seconds,
            send_initial_events=send_initial_events,
            clock=self.clock,
        )

    def subscribe(
        self, resource: str | ResourceKind, callback: Callable[[Change], None]
    ) -> Callable[[], None]:
        """Synchronous change callback for in-process controllers (``ObjectStore.subscribe``)."""
        return self.store.subscribe(self.kind(resource), callback)

    def bulk_create(self, resource: str | ResourceKind, objects: Iterable[JsonObj]) -> int:
        """Store many well-formed objects fast: no validation, defaulting or admission.

        Fills ``kind``/``apiVersion``, ``uid`` and ``creationTimestamp`` when missing and
        takes ownership of the dicts (they are mutated). Namespaces are not checked.
        Meant for scenario builders creating e.g. 150,000 pods.
        """
        kind = self.kind(resource)
        ts = self.now()
        getbits = self.rng.getrandbits
        header = {"kind": kind.kind, "apiVersion": kind.api_version}

        def prepared() -> Iterable[JsonObj]:
            for obj in objects:
                meta = obj["metadata"]
                if "uid" not in meta:
                    meta["uid"] = str(uuid.UUID(int=getbits(128), version=4))
                meta.setdefault("creationTimestamp", ts)
                if kind.tracks_generation:
                    meta.setdefault("generation", 1)
                if obj.get("kind") != kind.kind:
                    obj = {**header, **obj}
                yield obj

        return self.store.bulk_insert(kind, prepared())

    # -- reads -----------------------------------------------------------------

    def get_raw(
        self,
        kind: ResourceKind,
        namespace: str | None,
        name: str,
        subresource: str | None = None,
        resource_version: str | None = None,
    ) -> bytes:
        ns = self._ns(kind, namespace)
        self._check_read_rv(resource_version)
        stored = self._stored(kind, ns, name)
        if subresource == "scale":
            return dumps(self._scale_of(kind, stored.decode()))
        return stored.raw

    def list_page(
        self,
        kind: ResourceKind,
        namespace: str | None,
        label_selector: str | None = "",
        field_selector: str | None = "",
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
    ) -> ListPage:
        labels = LabelSelector.parse(label_selector)
        fields = FieldSelector.parse(field_selector, kind.all_field_selectors)
        namespace = namespace or None
        with self.store.lock:
            self._check_read_rv(resource_version)
            current = self.store.rv
            if (
                resource_version_match == "Exact"
                and resource_version not in (None, "", "0")
                and _parse_rv(resource_version) != current
            ):
                raise errors.gone(
                    f"too old resource version: {resource_version} ({current}): this simulated "
                    "server keeps no snapshots; list without resourceVersionMatch=Exact"
                )
            items = self.store.select(kind, namespace, labels, fields)
        rv = current
        start = 0
        if continue_token:
            rv, after = _decode_continue(continue_token)
            start = bisect_right([(s.namespace, s.name) for s in items], after)
        token = ""
        remaining: int | None = None
        if limit and limit > 0 and len(items) - start > limit:
            page = items[start : start + limit]
            last = page[-1]
            token = _encode_continue(rv, (last.namespace, last.name))
            if labels.empty and fields.empty:
                remaining = len(items) - start - limit
        else:
            page = items[start:] if start else items
        return ListPage(page, rv, token, remaining)

    def list_raw(self, kind: ResourceKind, namespace: str | None, **kwargs: Any) -> bytes:
        page = self.list_page(kind, namespace, **kwargs)
        return encode_list(kind, page)

    def _check_read_rv(self, resource_version: str | None) -> None:
        if resource_version in (None, "", "0"):
            return
        rv = _parse_rv(resource_version)
        if rv > self.store.rv:
            raise ApiError(
                504,
                "Timeout",
                f"Too large resource version: {rv}, current: {self.store.rv}",
                {
                    "causes": [
                        {
                            "reason": "ResourceVersionTooLarge",
                            "message": "Too large resource version",
                        }
                    ],
                    "retryAfterSeconds": 1,
                },
            )

    # -- create ----------------------------------------------------------------

    def create_raw(
        self,
        kind: ResourceKind,
        namespace: str | None,
        body: Any,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        subresource: str | None = None,
        name: str | None = None,
    ) -> bytes:
        """POST: returns the stored object (or, for binding/eviction, a Status)."""
        if subresource == "binding":
            return self._bind(kind, self._ns(kind, namespace), name or "", body, dry_run)
        if subresource == "eviction":
            from fakes.kube.eviction import evict

            return evict(self, self._ns(kind, namespace), name or "", body, dry_run)
        if subresource is not None:
            raise errors.method_not_allowed()
        with self.store.lock:
            return self._create(kind, namespace, body, dry_run, field_manager)

    def _create(
        self,
        kind: ResourceKind,
        namespace: str | None,
        body: Any,
        dry_run: bool,
        field_manager: str | None,
        managed: builtins.list[JsonObj] | None = None,
    ) -> bytes:
        obj = self._normalise(kind, body)
        meta = obj["metadata"]
        ns = self._ns(kind, namespace if namespace else meta.get("namespace"))
        if kind.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for key in (*_SERVER_META, "resourceVersion", "selfLink", "managedFields"):
            meta.pop(key, None)
        generated = not meta.get("name") and isinstance(meta.get("generateName"), str)
        if generated:
            meta["name"] = meta["generateName"] + "".join(
                self.rng.choice(_NAME_CHARS) for _ in range(5)
            )
        name = meta.get("name") or ""
        meta["uid"] = self.new_uid()
        meta["creationTimestamp"] = self.now()
        if kind.tracks_generation:
            meta["generation"] = 1
        if managed:
            meta["managedFields"] = managed
        if kind.status_on_create and kind.plural != "pods":
            obj["status"] = with_zero_status(kind.plural, None)
        defaulter = (
            DEFAULTERS.get(kind.plural)
            if not kind.group or kind.group in ("apps", "batch")
            else None
        )
        if defaulter is not None and isinstance(obj.get("spec", {}), dict):
            defaulter(obj)
        if kind.plural == "services" and not kind.group:
            default_service(obj, self._ips)
        if kind is self.pods:
            self.admission.apply_limit_ranges(kind, obj)
            obj["status"] = {"phase": "Pending", "qosClass": pod_qos_class(obj.get("spec") or {})}
        problems = validate_object(kind, obj)
        if problems:
            raise errors.invalid(kind, name or meta.get("generateName", ""), problems)
        if kind.namespaced:
            self._check_namespace(kind, ns, name)
        if self.store.get(kind, ns, name) is not None:
            raise errors.already_exists(kind, name)
        if kind.plural == "resourcequotas" and not kind.group:
            self.admission.initial_quota_status(obj)
        self.admission.check_quota(kind, obj)
        if dry_run:
            return dumps(obj)
        stored = self.store.insert(kind, obj)
        self.admission.charge(kind, None, obj)
        return stored.raw

    def _normalise(self, kind: ResourceKind, body: Any) -> JsonObj:
        if not isinstance(body, dict):
            raise errors.bad_request(
                f"the body of the request must be a JSON object describing a {kind.kind}"
            )
        api_version = body.get("apiVersion")
        if api_version and api_version != kind.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({kind.api_version})"
            )
        body_kind = body.get("kind")
        if body_kind and body_kind != kind.kind:
            raise errors.bad_request(
                f"the kind in the data ({body_kind}) does not match the expected kind ({kind.kind})"
            )
        meta = body.get("metadata")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise errors.invalid(
                kind, "", [FieldError.invalid("metadata", meta, "must be an object")]
            )
        obj: JsonObj = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}
        for key, value in body.items():
            if key not in obj:
                obj[key] = value
        return obj

    def _check_namespace(self, kind: ResourceKind, namespace: str, name: str) -> None:
        stored = self.store.get(self.namespaces, "", namespace)
        if stored is None:
            raise errors.namespace_not_found(namespace)
        if b'"deletionTimestamp"' in stored.raw:
            raise ApiError(
                403,
                "Forbidden",
                f'{kind.group_resource} "{name}" is forbidden: unable to create new content '
                f"in namespace {namespace} because it is being terminated",
                {
                    "name": name,
                    **({"group": kind.group} if kind.group else {}),
                    "kind": kind.plural,
                },
            )

    # -- update / patch ----------------------------------------------------------

    def update_raw(
        self,
        kind: ResourceKind,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> bytes:
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
                return self._write_scale(kind, stored, old, body, dry_run)
            if subresource not in (None, "status"):
                raise errors.method_not_allowed()
            new = self._prepare_update(kind, old, body, subresource)
            return self._commit_update(kind, stored, old, new, dry_run)

    def _prepare_update(
        self, kind: ResourceKind, old: JsonObj, body: JsonObj, subresource: str | None
    ) -> JsonObj:
        if subresource == "status":
            new = dict(old)
            new["metadata"] = dict(old["metadata"])
            new["status"] = with_zero_status(kind.plural, body.get("status"))
            return new
        new = self._normalise(kind, body)
        meta = new["metadata"]
        old_meta = old["metadata"]
        for key in ("name", "namespace", *_SERVER_META):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if "managedFields" not in meta and "managedFields" in old_meta:
            meta["managedFields"] = old_meta["managedFields"]
        if kind.subresource("status") is not None:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        problems = validate_object(kind, new)
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
        self, kind: ResourceKind, stored: Stored, old: JsonObj, new: JsonObj, dry_run: bool
    ) -> bytes:
        meta = new["metadata"]
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
        self,
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
    ) -> tuple[int, bytes]:
        """PATCH with one of the four patch types; ``(201, obj)`` when apply creates."""
        ns = self._ns(kind, namespace)
        ctype = content_type.split(";", 1)[0].strip().lower()
        if ctype not in PATCH_TYPES.values():
            raise errors.unsupported_media_type(", ".join(PATCH_TYPES.values()))
        if ctype == PATCH_TYPES["apply"]:
            return self._apply(kind, ns, name, body, subresource, dry_run, field_manager, force)
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
                return 200, self._write_scale(kind, stored, old, patched, dry_run)
            if subresource not in (None, "status"):
                raise errors.method_not_allowed()
            new = self._prepare_update(kind, old, patched, subresource)
            return 200, self._commit_update(kind, stored, old, new, dry_run)

    def _apply(
        self,
        kind: ResourceKind,
        ns: str,
        name: str,
        body: bytes,
        subresource: str | None,
        dry_run: bool,
        field_manager: str | None,
        force: bool,
    ) -> tuple[int, bytes]:
        import yaml

        if not field_manager:
            raise errors.invalid(
                kind, name, [FieldError.required("fieldManager", "is required for apply patch")]
            )
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
                body_obj = _copy(applied)
                body_obj.setdefault("metadata", {})["name"] = name
                managed = managed_fields_for(
                    None, field_manager, kind.api_version, applied, self.now()
                )
                return 201, self._create(kind, ns, body_obj, dry_run, field_manager, managed)
            old = stored.decode()
            merged = strategic_merge(
                old, {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
            )
            merged["metadata"]["managedFields"] = managed_fields_for(
                old["metadata"].get("managedFields"),
                field_manager,
                kind.api_version,
                applied,
                self.now(),
            )
            merged["metadata"].pop("resourceVersion", None)
            new = self._prepare_update(kind, old, merged, subresource)
            new["metadata"]["managedFields"] = merged["metadata"]["managedFields"]
            return 200, self._commit_update(kind, stored, old, new, dry_run)

    # -- scale / binding -------------------------------------------------------------

    def _scale_of(self, kind: ResourceKind, obj: JsonObj) -> JsonObj:
        if kind.subresource("scale") is None:
            raise errors.resource_not_found()
        meta = obj["metadata"]
        selector = LabelSelector.from_spec(obj.get("spec", {}).get("selector"))
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
                "creationTimestamp": meta["creationTimestamp"],
            },
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
            "status": {
                "replicas": obj.get("status", {}).get("replicas", 0),
                "selector": str(selector),
            },
        }

    def _write_scale(
        self, kind: ResourceKind, stored: Stored, old: JsonObj, scale: JsonObj, dry_run: bool
    ) -> bytes:
        if kind.subresource("scale") is None:
            raise errors.resource_not_found()
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                kind,
                old["metadata"]["name"],
                [
                    FieldError.invalid(
                        "spec.replicas", replicas, "must be greater than or equal to 0"
                    )
                ],
            )
        new = _copy(old)
        new["spec"]["replicas"] = replicas
        raw = self._commit_update(kind, stored, old, new, dry_run)
        return dumps(self._scale_of(kind, _load(raw)))

    def _bind(self, kind: ResourceKind, ns: str, name: str, body: Any, dry_run: bool) -> bytes:
        if kind is not self.pods:
            raise errors.resource_not_found()
        target = (body or {}).get("target") or {}
        node = target.get("name")
        if not node:
            raise errors.invalid(kind, name, [FieldError.required("target.name", "")])
        with self.store.lock:
            stored = self._stored(kind, ns, name)
            old = stored.decode()
            current = old.get("spec", {}).get("nodeName")
            if current:
                raise errors.conflict(
                    kind, name, f'pod {name} is already assigned to node "{current}"'
                )
            new = _copy(old)
            new["spec"]["nodeName"] = node
            conditions = new.setdefault("status", {}).setdefault("conditions", [])
            conditions[:] = [c for c in conditions if c.get("type") != "PodScheduled"]
            conditions.append(
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": self.now(),
                }
            )
            if not dry_run:
                self.store.replace(stored, new)
        return dumps(errors.success_status(201))

    # -- delete ----------------------------------------------------------------------

    def delete_raw(
        self,
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

    def _delete(self, stored: Stored, options: JsonObj, dry_run: bool) -> bytes:
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

    def _deleted_body(self, kind: ResourceKind, stored: Stored, raw: bytes) -> bytes:
        if kind.returns_deleted_object:
            return raw
        details: JsonObj = {"name": stored.name}
        if kind.group:
            details["group"] = kind.group
        details["kind"] = kind.plural
        details["uid"] = stored.uid
        return dumps(errors.success_status(200, details))

    def _graceful_applies(self, kind: ResourceKind, obj: JsonObj, grace: Any) -> bool:
        if kind is not self.pods or not self.graceful_pod_deletion or grace == 0:
            return False
        if not obj.get("spec", {}).get("nodeName"):
            return False
        return obj.get("status", {}).get("phase") not in ("Succeeded", "Failed")

    def _graceful_pending(self, kind: ResourceKind, obj: JsonObj) -> bool:
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

    def _run_finalizers(self, stored: Stored) -> None:
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

    def _finish_delete(self, stored: Stored, new: JsonObj) -> bytes:
        return self._remove(stored, new)

    def _remove(self, stored: Stored, obj: JsonObj) -> bytes:
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

    def _has_live_owner(self, dep: Stored, exclude: str) -> bool:
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

    def _delete_namespace(self, stored: Stored, obj: JsonObj, dry_run: bool) -> bytes:
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

    def _maybe_finish_namespace(self, ns: Stored) -> None:
        for kind in self.registry.kinds:
            if kind.namespaced and self.store.table(kind).by_ns.get(ns.name):
                return
        if self.store.get(self.namespaces, "", ns.name) is ns:
            obj = ns.decode()
            obj.get("spec", {}).pop("finalizers", None)
            self.store.replace(ns, obj)
            self.store.remove(ns)

    def delete_collection_raw(
        self,
        kind: ResourceKind,
        namespace: str | None,
        options: JsonObj | None = None,
        *,
        label_selector: str | None = "",
        field_selector: str | None = "",
        dry_run: bool = False,
    ) -> bytes:
        """DELETECOLLECTION: deletes every match and answers with their list, as the real server."""
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


def encode_list(kind: ResourceKind, page: ListPage, raws: list[bytes] | None = None) -> bytes:
    """A ``<Kind>List`` built by concatenating stored bytes (no decode)."""
    meta = b'"resourceVersion":"%d"' % page.resource_version
    if page.continue_token:
        meta += b',"continue":"' + page.continue_token.encode() + b'"'
    if page.remaining is not None:
        meta += b',"remainingItemCount":%d' % page.remaining
    items = raws if raws is not None else [s.raw for s in page.items]
    return (
        b'{"kind":"'
        + kind.list_kind.encode()
        + b'","apiVersion":"'
        + kind.api_version.encode()
        + b'","metadata":{'
        + meta
        + b'},"items":['
        + b",".join(items)
        + b"]}"
    )


def _encode_continue(rv: int, after: tuple[str, str]) -> str:
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{after[0]}/{after[1]}\u0000"})
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        ns, _, name = data["start"].rstrip("\u0000").partition("/")
        return int(data["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request(f"invalid continue token: {exc}") from exc


def _parse_rv(value: str) -> int:
    try:
        rv = int(value)
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f'invalid resource version "{value}": must be an integer') from exc
    if rv < 0:
        raise errors.bad_request(f'invalid resource version "{value}": must be non-negative')
    return rv


def _copy(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def _load(raw: bytes) -> JsonObj:
    out: JsonObj = json.loads(raw)
    return out
