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
* Server-side apply merges with :func:`strategic_merge` too; field ownership is
  ``fakes.kube.managedfields``.
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


class PatchError(ValueError):
    """A patch that cannot be applied; the message says which operation and why."""


def merge_key(field: str, path: tuple[str, ...]) -> str | None:
    if field == "ports" and path and path[-1] in _CONTAINER_LISTS:
        return "containerPort"
    return MERGE_KEYS.get(field)


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


def strategic_merge(original: JsonObj, patch: JsonObj) -> JsonObj:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    merged = _merge_map(original, patch, ())
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


def _merge_map(orig: JsonObj, patch: JsonObj, path: tuple[str, ...]) -> JsonObj | None:
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
            merged = _merge_map(current, value, (*path, key))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(current, list):
            result[key] = _merge_list(current, value, key, path)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            result.pop(key, None)
        else:
            result[key] = _strip(value)
    return result


def _merge_list(orig: list[Any], patch: list[Any], field: str, path: tuple[str, ...]) -> list[Any]:
    if field in PRIMITIVE_MERGE:
        out = list(orig)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    key = merge_key(field, path)
    if key is None:
        return [_strip(v) for v in patch]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            continue
        wanted = item.get(key)
        index = next(
            (i for i, cur in enumerate(result) if isinstance(cur, dict) and cur.get(key) == wanted),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip(item))
        else:
            merged = _merge_map(result[index], item, (*path, field))
            if merged is None:
                del result[index]
            else:
                result[index] = merged
    return result
