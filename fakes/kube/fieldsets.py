"""Field sets: the ``FieldsV1`` paths of an object, as server-side apply names them.

A field set is a Python ``set`` of paths, each a tuple of ``FieldsV1`` elements:
``f:<field>`` for a map key, ``k:{"name":"app"}`` for an item of a list merged by key
(containers by name, ports by number and protocol, ...), ``v:<json>`` for a member
of a list of scalars that merges as a set (finalizers). ``to_fields_v1`` writes a set
as the trie kube stores in ``managedFields``, with ``"."`` for a node that is owned
itself as well as through its children; ``path_string`` prints a path as kube's
conflict messages do; ``remove_path`` takes what a path names out of an object.

Without the Go schema, a list is associative when ``fakes.kube.patch.list_keys``
names its keys (server-side apply's) and every item carries them, a defaulted key
field counting with its default; other lists and all scalars are leaves (owned
whole), as atomic fields are in kube. Who owns which set is ``fakes.kube.managedfields``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fakes.kube.patch import KEY_DEFAULTS, PRIMITIVE_MERGE, item_identity, list_keys

JsonObj = dict[str, Any]
Path = tuple[str, ...]

# Metadata the server owns; never part of a manager's set.
_SKIP_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "generation",
        "generateName",
        "selfLink",
    }
)
# A list item is owned as a member; its value is compared through its fields.
MEMBER = object()


def leaves(obj: Any, *, skip_status: bool = False) -> dict[Path, Any]:
    """Every owned path of ``obj`` with the value a conflict check compares.

    Leaves are scalars, atomic lists, empty maps and set members; a keyed list item
    is a member too (value :data:`MEMBER`) besides its own fields.
    """
    out: dict[Path, Any] = {}
    if isinstance(obj, dict):
        _walk_map(obj, (), (), out, skip_status)
    return out


def _walk_map(
    obj: JsonObj, path: Path, names: tuple[str, ...], out: dict[Path, Any], skip_status: bool
) -> None:
    for key, value in obj.items():
        if not names and (key in ("apiVersion", "kind") or (skip_status and key == "status")):
            continue
        if names == ("metadata",) and key in _SKIP_META:
            continue
        here = (*path, "f:" + key)
        if isinstance(value, dict):
            if value:
                _walk_map(value, here, (*names, key), out, skip_status)
            elif names != () or key != "metadata":
                out[here] = value
        elif isinstance(value, list):
            _walk_list(key, value, here, names, out, skip_status)
        else:
            out[here] = value


def _walk_list(
    key: str,
    value: list[Any],
    here: Path,
    names: tuple[str, ...],
    out: dict[Path, Any],
    skip_status: bool,
) -> None:
    keys = list_keys(key, names, apply=True)
    if value and keys and all(_keyed(v, keys) for v in value):
        for item in value:
            member = (*here, item_key(keys, item))
            out[member] = MEMBER
            _walk_map(item, member, (*names, key), out, skip_status)
    elif value and key in PRIMITIVE_MERGE and all(not isinstance(v, dict | list) for v in value):
        for item in value:
            out[(*here, "v:" + _compact(item))] = item
    else:
        out[here] = value


def _keyed(item: Any, keys: tuple[str, ...]) -> bool:
    return isinstance(item, dict) and all(k in item or k in KEY_DEFAULTS for k in keys)


def item_key(keys: tuple[str, ...], item: JsonObj) -> str:
    """``k:{...}`` naming ``item`` by its key fields, sorted by name as kube writes them."""
    named = dict(zip(keys, item_identity(item, keys), strict=True))
    return "k:" + _compact({k: named[k] for k in sorted(named)})


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- FieldsV1 <-> path sets --------------------------------------------------------


def to_fields_v1(paths: Iterable[Path]) -> JsonObj:
    """The ``FieldsV1`` trie of a path set, keys sorted as kube writes them."""
    members = set(paths)
    root: JsonObj = {}
    for path in members:
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in members:
        node = root
        for element in path:
            node = node[element]
        if node:
            node["."] = {}
    return _sorted(root)


def _sorted(node: JsonObj) -> JsonObj:
    return {k: _sorted(node[k]) for k in sorted(node, key=lambda k: (k != ".", k))}


def from_fields_v1(trie: Any) -> set[Path]:
    """The path set of a ``FieldsV1`` trie (malformed parts are ignored)."""
    out: set[Path] = set()
    if isinstance(trie, dict):
        _collect(trie, (), out)
    return out


def _collect(node: JsonObj, path: Path, out: set[Path]) -> None:
    for key, child in node.items():
        if key == ".":
            out.add(path)
        elif isinstance(child, dict) and child:
            _collect(child, (*path, key), out)
        else:
            out.add((*path, key))


def fields_v1(obj: Any) -> JsonObj:
    """The ``FieldsV1`` set of the fields present in an applied configuration."""
    return to_fields_v1(leaves(obj))


# -- paths in objects --------------------------------------------------------------


def path_string(path: Path) -> str:
    """A path as kube prints it: ``.spec.template.spec.containers[name="app"].image``."""
    out = []
    for element in path:
        prefix, _, rest = element.partition(":")
        if prefix == "f":
            out.append("." + rest)
        elif prefix == "k":
            try:
                keys = json.loads(rest)
            except ValueError:
                keys = {}
            out.append("[" + ",".join(f"{k}={_compact(v)}" for k, v in keys.items()) + "]")
        elif prefix == "v":
            out.append(f"[={rest}]")
        else:
            out.append(f"[{rest}]")
    return "".join(out)


def remove_path(obj: Any, path: Path) -> None:
    """Remove what ``path`` names from ``obj`` (in place), pruning maps it leaves empty."""
    if not path:
        return
    parents: list[tuple[Any, Any]] = []
    cur = obj
    for element in path[:-1]:
        found, child, handle = _step(cur, element)
        if not found:
            return
        parents.append((cur, handle))
        cur = child
    found, _, handle = _step(cur, path[-1])
    if not found:
        return
    del cur[handle]
    # A map or list emptied by the removal goes too, but never a top-level section.
    while parents and len(parents) > 1 and not cur:
        parent, handle = parents.pop()
        del parent[handle]
        cur = parent


def _step(cur: Any, element: str) -> tuple[bool, Any, Any]:
    prefix, _, rest = element.partition(":")
    if prefix == "f":
        if isinstance(cur, dict) and rest in cur:
            return True, cur[rest], rest
        return False, None, None
    if not isinstance(cur, list):
        return False, None, None
    if prefix == "k":
        try:
            keys = json.loads(rest)
        except ValueError:
            return False, None, None
        for i, item in enumerate(cur):
            if isinstance(item, dict) and all(
                item.get(k, KEY_DEFAULTS.get(k)) == v for k, v in keys.items()
            ):
                return True, item, i
        return False, None, None
    if prefix == "v":
        try:
            wanted = json.loads(rest)
        except ValueError:
            return False, None, None
        for i, item in enumerate(cur):
            if item == wanted:
                return True, item, i
    return False, None, None


def is_item_key(path: Path) -> bool:
    """Whether ``path`` is a key field of a keyed item (it lives and goes with the item)."""
    if len(path) < 2 or not path[-2].startswith("k:") or not path[-1].startswith("f:"):
        return False
    try:
        keys = json.loads(path[-2][2:])
    except ValueError:
        return False
    return isinstance(keys, dict) and path[-1][2:] in keys
