"""A minimal OpenAPI v3 document, just enough for ``kubectl apply`` to validate.

kubectl (1.27+) validates with ``--validate=strict`` by default. It first asks the
server's OpenAPI v3 whether the PATCH operation of the object's group-version-kind
accepts the ``fieldValidation`` query parameter; when it does, kubectl sends
``fieldValidation=Strict`` and leaves validation to the server instead of
downloading full schemas. So each group-version document lists, per kind, the
collection and item paths with ``x-kubernetes-group-version-kind`` and that
parameter, and no schemas.

The PATCH request bodies deliberately do not list
``application/strategic-merge-patch+json``: that would make client-side ``kubectl
apply`` compute its patch from these (empty) schemas. Without it kubectl computes the
strategic merge patch from its built-in Go types, which is what it does against a
real server for built-in kinds anyway.

Paths are served at ``/openapi/v3`` (the index) and ``/openapi/v3/<api|apis/group>/<version>``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from fakes.kube.errors import dumps

if TYPE_CHECKING:
    from fakes.kube.kinds import KindRegistry, ResourceKind

JsonObj = dict[str, Any]

_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _gvk(kind: ResourceKind) -> JsonObj:
    return {"group": kind.group, "version": kind.version, "kind": kind.kind}


def _op(kind: ResourceKind, action: str, body_types: tuple[str, ...] = ()) -> JsonObj:
    op: JsonObj = {
        "operationId": f"{action}{kind.kind}",
        "parameters": [
            {"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for p in _PARAMS
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(kind),
    }
    if body_types:
        op["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in body_types},
            "required": True,
        }
    return op


def group_version_document(registry: KindRegistry, group: str, version: str) -> JsonObj | None:
    """The OpenAPI v3 document of one group-version, or ``None`` if it is not served."""
    kinds = registry.in_group_version(group, version)
    if not kinds:
        return None
    prefix = "/" + _gv_path(group, version)
    paths: JsonObj = {}
    for k in kinds:
        base = (
            f"{prefix}/namespaces/{{namespace}}/{k.plural}"
            if k.namespaced
            else f"{prefix}/{k.plural}"
        )
        paths[base] = {"post": _op(k, "post", ("*/*",))}
        paths[base + "/{name}"] = {
            "get": _op(k, "get"),
            "put": _op(k, "put", ("*/*",)),
            "patch": _op(
                k,
                "patch",
                (
                    "application/apply-patch+yaml",
                    "application/json-patch+json",
                    "application/merge-patch+json",
                ),
            ),
            "delete": _op(k, "delete"),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def index(registry: KindRegistry) -> JsonObj:
    """``/openapi/v3``: where each group-version's document lives, with a content hash."""
    paths: JsonObj = {}
    for group, versions in registry.groups().items():
        for version in versions:
            doc = group_version_document(registry, group, version)
            digest = hashlib.sha512(dumps(doc)).hexdigest()[:64].upper()
            path = _gv_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
