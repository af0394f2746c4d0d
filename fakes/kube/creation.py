# mypy: disable-error-code="misc"
# The methods below are the Api's, annotated ``self: Api`` so that they are
# type-checked against the whole facade; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""Create: what POST does before an object is stored.

Normalising the body (kind/apiVersion checks), namespace checks (exists, not
terminating), server-set metadata (uid, creationTimestamp, generation,
generateName), defaulting, LimitRange, validation, AlreadyExists and quota
admission, then the insert. Binding and eviction are POSTs to subresources and are
routed from here. These are methods of :class:`fakes.kube.api.Api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube import errors, managedfields, normalise
from fakes.kube.defaults import pod_qos_class, with_zero_status
from fakes.kube.errors import ApiError, FieldError, dumps
from fakes.kube.validation import validate_object

if TYPE_CHECKING:
    import builtins

    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
# Metadata only the server sets; a body's values are dropped on create and update.
SERVER_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)


class CreateMixin:
    """POST of a new object."""

    def create_raw(
        self: Api,
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
        self: Api,
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
        for key in (*SERVER_META, "resourceVersion", "selfLink", "managedFields"):
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
        normalise.on_create(kind, obj, self._ips)
        if kind is self.pods:
            self.admission.apply_limit_ranges(kind, obj)
            obj["status"] = {"phase": "Pending", "qosClass": pod_qos_class(obj.get("spec") or {})}
        if field_manager and not managed:
            owned = managedfields.created(
                obj,
                field_manager,
                kind.api_version,
                meta["creationTimestamp"],
                skip_status=kind.subresource("status") is not None,
            )
            if owned:
                meta["managedFields"] = owned
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

    def _normalise(self: Api, kind: ResourceKind, body: Any) -> JsonObj:
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

    def _check_namespace(self: Api, kind: ResourceKind, namespace: str, name: str) -> None:
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
