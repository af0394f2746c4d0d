"""The four patch types: JSON patch, JSON merge patch, strategic merge patch, apply.

* JSON patch (RFC 6902) is delegated to the ``jsonpatch`` library.
* JSON merge patch (RFC 7386): maps merge, ``null`` deletes, lists replace.
* Strategic merge patch uses the merge keys of the Kubernetes Go types: containers,
  env, volumes, volumeMounts, ports (``containerPort`` inside containers, ``port`` in
  services), conditions, imagePullSecrets, ownerReferences, ...; lists without a
  merge key (``tolerations``, ``args``, node ``taints``) are replaced, as in k8s.
  Directives: ``$patch: replace|delete|merge`` on maps and list items,
  ``$deleteFromPrimitiveList/<field>``; ``$setElementOrder`` and ``$retainKeys``
  are accepted and ignored.
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
from typing import Any

import jsonpatch

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
    ) as exc:
        raise PatchError(str(exc)) from exc
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
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
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


def _merge_list(
    orig: list[Any], patch: list[Any], field: str, path: tuple[str, ...], apply: bool
) -> list[Any]:
    if field in PRIMITIVE_MERGE:
        out = list(orig)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    keys = list_keys(field, path, apply=apply)
    if not keys:
        return [_strip(v) for v in patch]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            continue
        wanted = item_identity(item, keys)
        index = next(
            (
                i
                for i, cur in enumerate(result)
                if isinstance(cur, dict) and item_identity(cur, keys) == wanted
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip(item))
        else:
            merged = _merge_map(result[index], item, (*path, field), apply)
            if merged is None:
                del result[index]
            else:
                result[index] = merged
    return result
