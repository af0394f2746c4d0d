"""The four patch types: JSON patch, JSON merge patch, strategic merge patch, apply.

* JSON patch (RFC 6902) is delegated to the ``jsonpatch`` library; a failure is told
  in kube's words (``fakes.kube.json_patch_errors``).
* JSON merge patch (RFC 7386): maps merge, ``null`` deletes, lists replace.
* Strategic merge patch uses the merge keys of the Kubernetes Go types: containers,
  env, volumes, volumeMounts, ports (``containerPort`` inside containers, ``port`` in
  services), conditions, imagePullSecrets, ownerReferences, ...; lists without a
  merge key (``tolerations``, ``args``, node ``taints``) are replaced, as in k8s.
  Directives: ``$patch: replace|delete|merge`` on maps and list items,
  ``$deleteFromPrimitiveList/<field>``, ``$retainKeys`` (keep only the listed keys
  of the map: how ``kubectl apply`` drops ``rollingUpdate`` when a Deployment
  switches to ``Recreate``) and ``$setElementOrder/<list>``. A merged list is
  ordered as kube's apimachinery orders it: the patch's items (or those named in
  ``$setElementOrder``) in that order, the live-only items in their live order, the
  two interleaved by the live order, so a new item comes before the live-only ones.
  A malformed directive is a 400 BadRequest with kube's message.
* Server-side apply merges with :func:`strategic_merge` too (``apply=True``), but keys
  a few lists by several fields, as the OpenAPI schema's ``listMapKeys`` do: container
  ports by ``containerPort`` and ``protocol``, service ports by ``port`` and
  ``protocol``, topology spread constraints by ``topologyKey`` and
  ``whenUnsatisfiable``. So an apply keeps 53/TCP and 53/UDP apart, where a strategic
  merge patch folds them into one item (kube's long-standing SMP behaviour). Field
  ownership is ``fakes.kube.managedfields``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jsonpatch

from fakes.kube import errors
from fakes.kube.gojson import go_format
from fakes.kube.json_patch_errors import kube_message

JsonObj = dict[str, Any]

# Field name -> merge key, for lists that merge by key.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "addresses": "type",
    "secrets": "name",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "ports": "port",
}
# Lists of scalars that merge as sets.
PRIMITIVE_MERGE = {"finalizers"}
_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
# Server-side apply's keys where they are more than the strategic merge key.
_APPLY_KEYS: dict[str, tuple[str, ...]] = {
    "containerPort": ("containerPort", "protocol"),
    "port": ("port", "protocol"),
    "topologyKey": ("topologyKey", "whenUnsatisfiable"),
}
# A key field the server defaults counts with its default when an item omits it, so
# an applied port without a protocol is the stored port with ``protocol: TCP``.
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP", "whenUnsatisfiable": "DoNotSchedule"}


_ORDER = "$setElementOrder/"
# kube's mergepatch errors for malformed directives (answered 400 BadRequest).
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_ORDER = "invalid patch format of setElementOrder list"


class PatchError(ValueError):
    """A patch that cannot be applied; the message says which operation and why."""


def merge_key(field: str, path: tuple[str, ...]) -> str | None:
    """The strategic merge key of list ``field`` under ``path`` (``None``: replaced whole)."""
    if field == "ports" and path and path[-1] in _CONTAINER_LISTS:
        return "containerPort"
    return MERGE_KEYS.get(field)


def list_keys(field: str, path: tuple[str, ...], *, apply: bool = False) -> tuple[str, ...]:
    """The fields that identify an item of list ``field``; empty when it has none.

    The strategic merge key alone, or with ``apply`` server-side apply's list-map keys.
    """
    key = merge_key(field, path)
    if key is None:
        return ()
    return _APPLY_KEYS.get(key, (key,)) if apply else (key,)


def item_identity(item: JsonObj, keys: tuple[str, ...]) -> tuple[Any, ...]:
    """The values of ``keys`` in ``item``, a defaulted key field counting as its default."""
    return tuple(item.get(k, KEY_DEFAULTS.get(k)) for k in keys)


def json_patch(doc: JsonObj, ops: Any) -> JsonObj:
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    try:
        result = jsonpatch.apply_patch(doc, ops, in_place=False)
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        TypeError,
        KeyError,
        ValueError,
    ) as exc:
        raise PatchError(kube_message(doc, ops, exc)) from exc
    if not isinstance(result, dict):
        raise PatchError("json patch must leave an object")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(original: JsonObj, patch: JsonObj, *, apply: bool = False) -> JsonObj:
    """``patch`` merged into ``original``; ``apply`` keys lists as server-side apply does."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    merged = _merge_map(original, patch, (), apply)
    return merged if merged is not None else {}


def _strip(value: Any) -> Any:
    """A patch value with directives removed, for inserting where nothing exists."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [
            _strip(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")
        ]
    return value


def _merge_map(orig: JsonObj, patch: JsonObj, path: tuple[str, ...], apply: bool) -> JsonObj | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        replaced: JsonObj = _strip({k: v for k, v in patch.items() if k != "$patch"})
        return replaced
    result = dict(orig)
    if "$retainKeys" in patch:
        result = _retain_keys(result, patch)
    ordered = _set_element_orders(result, patch, path, apply)
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith(_ORDER) or key in ordered:
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            current = result.get(field)
            if isinstance(current, list) and isinstance(value, list):
                result[field] = [x for x in current if x not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged = _merge_map(current, value, (*path, key), apply)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(current, list):
            result[key] = _merge_list(current, value, key, path, apply)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            result.pop(key, None)
        else:
            result[key] = _strip(value)
    return result


def _retain_keys(result: JsonObj, patch: JsonObj) -> JsonObj:
    """``$retainKeys``: drop every key of the map not listed (kube's union fields)."""
    retain = patch["$retainKeys"]
    if not isinstance(retain, list):
        raise errors.bad_request(_BAD_RETAIN_KEYS)
    for key, value in patch.items():
        if value is None or key.startswith(("$", _ORDER)):
            continue
        if key not in retain:
            raise errors.bad_request(_BAD_RETAIN_KEYS)
    return {k: v for k, v in result.items() if k in retain}


def _set_element_orders(
    result: JsonObj, patch: JsonObj, path: tuple[str, ...], apply: bool
) -> set[str]:
    """Merge each list that has a ``$setElementOrder/<list>`` into ``result``, ordered.

    Returns the lists merged here, which the caller then leaves alone.
    """
    done: set[str] = set()
    for key, order in patch.items():
        if not key.startswith(_ORDER):
            continue
        field = key[len(_ORDER) :]
        if not isinstance(order, list) or not field:
            raise errors.bad_request(_BAD_ORDER)
        current, wanted = result.get(field), patch.get(field)
        if wanted is None and field in patch:
            continue
        identity = _identity(field, path)
        if isinstance(wanted, list):
            _check_order(wanted, order, identity)
        if isinstance(current, list) and isinstance(wanted, list):
            merged = _merge_list(current, wanted, field, path, apply)
        elif isinstance(current, list):
            merged = current
        elif isinstance(wanted, list):
            merged = _strip(wanted)
        else:
            continue
        result[field] = _normalize_order(
            merged, order, current if isinstance(current, list) else [], identity
        )
        done.add(field)
    return done


def _merge_list(
    orig: list[Any], patch: list[Any], field: str, path: tuple[str, ...], apply: bool
) -> list[Any]:
    if field in PRIMITIVE_MERGE:
        out = list(orig)
        for item in patch:
            if item not in out:
                out.append(item)
        return out if apply else _normalize_order(out, patch, orig, _same)
    keys = list_keys(field, path, apply=apply)
    if not keys:
        return [_strip(v) for v in patch]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = list(orig)
    for item in patch:
        if isinstance(item, dict) and item.get("$patch") == "delete":
            wanted = item_identity(item, keys)
            result = [
                cur
                for cur in result
                if not (isinstance(cur, dict) and item_identity(cur, keys) == wanted)
            ]
    server_order = list(result)
    items = [i for i in patch if isinstance(i, dict) and "$patch" not in i]
    for item in items:
        wanted = item_identity(item, keys)
        index = next(
            (
                i
                for i, cur in enumerate(result)
                if isinstance(cur, dict) and item_identity(cur, keys) == wanted
            ),
            None,
        )
        if index is None:
            result.append(_strip(item))
        else:
            merged = _merge_map(result[index], item, (*path, field), apply)
            if merged is None:
                del result[index]
            else:
                result[index] = merged
    if apply:
        return result
    return _normalize_order(result, items, server_order, _keyed(keys))


# -- element order, as kube's strategicpatch orders merged lists ----------------------

_Identity = Callable[[Any], Any]


def _same(item: Any) -> Any:
    return item


def _keyed(keys: tuple[str, ...]) -> _Identity:
    def identity(item: Any) -> Any:
        return item_identity(item, keys) if isinstance(item, dict) else None

    return identity


def _identity(field: str, path: tuple[str, ...]) -> _Identity:
    keys = list_keys(field, path)
    return _keyed(keys) if keys else _same


def _index(items: list[Any], item: Any, identity: _Identity) -> int:
    wanted = identity(item)
    return next((i for i, x in enumerate(items) if identity(x) == wanted), -1)


def _normalize_order(
    merged: list[Any], order: list[Any], server_order: list[Any], identity: _Identity
) -> list[Any]:
    """``merged`` reordered as kube's normalizeElementOrder does.

    The items named in ``order`` (the patch list, or ``$setElementOrder``) take that
    order; the others keep their order in ``server_order`` (the live list); the two
    runs are then interleaved, a server-only item going before an ordered one when the
    live list has it first.
    """
    named = {_freeze(identity(x)) for x in order}
    ordered = [x for x in merged if _freeze(identity(x)) in named]
    server_only = [x for x in merged if _freeze(identity(x)) not in named]
    ordered.sort(key=lambda x: _index(order, x, identity))
    server_only.sort(key=lambda x: _position(server_order, x, identity))
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(ordered):
        if j >= len(ordered):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(ordered[j])
            j += 1
        else:
            left = _index(server_order, server_only[i], identity)
            right = _index(server_order, ordered[j], identity)
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(ordered[j])
                j += 1
    return out


def _position(items: list[Any], item: Any, identity: _Identity) -> int:
    found = _index(items, item, identity)
    return found if found >= 0 else len(items)


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a JSON value."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _check_order(patch_list: list[Any], order: list[Any], identity: _Identity) -> None:
    """The patch list's items must appear in ``$setElementOrder`` in the same order."""
    items = [i for i in patch_list if not (isinstance(i, dict) and "$patch" in i)]
    at = 0
    for item in items:
        while at < len(order) and identity(order[at]) != identity(item):
            at += 1
        if at == len(order):
            raise PatchError(
                f"The order in patch list:\n{go_format(patch_list)}\n doesn't match "
                f"$setElementOrder list:\n{go_format(order)}\n"
            )
        at += 1
