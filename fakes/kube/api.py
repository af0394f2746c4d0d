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

Semantics implemented (module by concept): uid, creationTimestamp, generateName,
AlreadyExists, namespace existence/termination, defaulting and 422 Invalid with
causes (``creation``); one global resourceVersion, Conflict on a stale
resourceVersion, generation bumped on spec change, the patch types (``updates``);
server-side apply and managedFields (``apply``); status and scale subresources and
pods/binding (``subresources``); dryRun; finalizers and deletionTimestamp, graceful
pod deletion, owner references with Foreground/Background/Orphan propagation and
synchronous garbage collection (``deletion``); paged lists (``continuation``); lists
at an exact resourceVersion (``exact``), both rebuilt from history (``snapshot``);
pods/eviction (``eviction``); LimitRange and ResourceQuota admission (``admission``).
Reads (get, list, list pages) are here, in this module.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

from fakes.kube import errors
from fakes.kube.admission import Admission
from fakes.kube.apply import ApplyMixin
from fakes.kube.clock import Clock, TimestampFormatter, WallClock
from fakes.kube.codec import copy_json, load_json
from fakes.kube.continuation import continue_page, encode_continue
from fakes.kube.creation import CreateMixin
from fakes.kube.defaults import ServiceIPs
from fakes.kube.deletion import DeletionMixin
from fakes.kube.errors import ApiError, dumps
from fakes.kube.exact import check_list_options, exact_list, is_exact
from fakes.kube.kinds import DEFAULT_REGISTRY, KindRegistry, ResourceKind
from fakes.kube.selectors import FieldSelector, LabelSelector
from fakes.kube.store import Change, ObjectStore, Stored
from fakes.kube.subresources import SubresourceMixin
from fakes.kube.updates import PATCH_TYPES, UpdateMixin
from fakes.kube.watch import Watcher, open_watch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

JsonObj = dict[str, Any]

__all__ = ["PATCH_TYPES", "SYSTEM_NAMESPACES", "Api", "ListPage", "encode_list"]

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


class Api(CreateMixin, UpdateMixin, ApplyMixin, SubresourceMixin, DeletionMixin):
    """API-server semantics over an :class:`ObjectStore` (see the module docstring).

    The verbs' internals live in mixins named for their concept (``creation``,
    ``updates``, ``apply``, ``subresources``, ``deletion``); this class holds the
    state, the Python-level API and the read path.
    """

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

    def exists(self, kind: ResourceKind, namespace: str | None, name: str) -> bool:
        """Whether the object is stored (a 400 when a namespaced kind has no namespace)."""
        return self.store.get(kind, self._ns(kind, namespace), name) is not None

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
        return load_json(
            self.create_raw(kind, ns, copy_json(body), dry_run=dry_run, field_manager=field_manager)
        )

    def get(self, resource: str | ResourceKind, name: str, namespace: str | None = None) -> JsonObj:
        return load_json(self.get_raw(self.kind(resource), namespace, name))

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
        field_manager: str | None = None,
    ) -> JsonObj:
        kind = self.kind(resource)
        meta = body.get("metadata") or {}
        ns = namespace if namespace is not None else meta.get("namespace")
        return load_json(
            self.update_raw(
                kind,
                ns,
                meta.get("name", ""),
                copy_json(body),
                subresource=subresource,
                dry_run=dry_run,
                field_manager=field_manager,
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
        return load_json(raw)

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
        return load_json(raw)

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
        check_list_options(resource_version, resource_version_match, continue_token)
        with self.store.lock:
            if is_exact(resource_version, resource_version_match, limit, continue_token):
                rv = _parse_rv(resource_version or "")
                return ListPage(*exact_list(self.store, kind, rv, namespace, labels, fields, limit))
            self._check_read_rv(resource_version)
            current = self.store.rv
            items = self.store.select(kind, namespace, labels, fields)
            if continue_token:
                return ListPage(
                    *continue_page(
                        self.store.table(kind),
                        items,
                        continue_token,
                        current,
                        namespace,
                        labels,
                        fields,
                        limit,
                    )
                )
        rv = current
        token = ""
        remaining: int | None = None
        if limit and limit > 0 and len(items) > limit:
            page = items[:limit]
            last = page[-1]
            token = encode_continue(rv, (last.namespace, last.name))
            if labels.empty and fields.empty:
                remaining = len(items) - limit
        else:
            page = items
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


def encode_list(kind: ResourceKind, page: ListPage, raws: list[bytes] | None = None) -> bytes:
    """A ``<Kind>List`` built by concatenating stored bytes (no decode).

    One ``join`` over head, items, commas and tail: the list is copied once. Chained
    ``+`` on a large body copies it per operator, and each copy is a fresh
    multi-page allocation -- at 100 pods that was 20x the cost of the join.
    """
    meta = b'"resourceVersion":"%d"' % page.resource_version
    if page.continue_token:
        meta += b',"continue":"' + page.continue_token.encode() + b'"'
    if page.remaining is not None:
        meta += b',"remainingItemCount":%d' % page.remaining
    items = raws if raws is not None else [s.raw for s in page.items]
    head = (
        b'{"kind":"'
        + kind.list_kind.encode()
        + b'","apiVersion":"'
        + kind.api_version.encode()
        + b'","metadata":{'
        + meta
        + b'},"items":['
    )
    if not items:
        return head + b"]}"
    parts = [b","] * (2 * len(items) + 1)
    parts[0] = head
    parts[1::2] = items
    parts[-1] = b"]}"
    return b"".join(parts)


def _parse_rv(value: str) -> int:
    try:
        rv = int(value)
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f'invalid resource version "{value}": must be an integer') from exc
    if rv < 0:
        raise errors.bad_request(f'invalid resource version "{value}": must be non-negative')
    return rv
