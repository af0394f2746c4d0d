"""Field ownership: ``metadata.managedFields``, as server-side apply keeps it.

Every write by a known field manager records which fields that manager owns, one
``managedFields`` entry per (manager, operation, subresource):

* an **Update** entry (create, update, the JSON/merge/strategic patches, writes to a
  subresource) gains every field the write set or changed, and those fields leave the
  other managers' sets -- an update always wins, as in kube-apiserver;
* an **Apply** entry is exactly the set of fields in the manager's last applied
  configuration. Applying a field another manager owns with a different value is a
  conflict (409, one ``FieldManagerConflict`` cause per field) unless ``force`` takes
  it over; the same value is shared ownership. Fields the applier owned alone and
  dropped from its configuration are removed from the object.

Sets are kept in the ``FieldsV1`` trie format: ``f:<field>`` for a map key,
``k:{"name":"app"}`` for an item of a list merged by key (containers by name, ...),
``v:<json>`` for a member of a list of scalars that merges as a set (finalizers), and
``"."`` for a node that is owned itself as well as through its children. Internally a
set is a Python ``set`` of paths, each a tuple of those elements.

Without the Go schema, a list is associative when ``fakes.kube.patch.merge_key``
names its key and every item carries it; other lists and all scalars are leaves
(owned whole), as atomic fields are in kube. Controllers that call the Python-level
API without a field manager are not tracked: their writes keep the hot path cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fakes.kube.errors import ApiError, FieldError
from fakes.kube.patch import PRIMITIVE_MERGE, merge_key

JsonObj = dict[str, Any]
Path = tuple[str, ...]

APPLY = "Apply"
UPDATE = "Update"

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
_MEMBER = object()


def leaves(obj: Any, *, skip_status: bool = False) -> dict[Path, Any]:
    """Every owned path of ``obj`` with the value a conflict check compares.

    Leaves are scalars, atomic lists, empty maps and set members; a keyed list item
    is a member too (value :data:`_MEMBER`) besides its own fields.
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
    mk = merge_key(key, names)
    if value and mk and all(isinstance(v, dict) and mk in v for v in value):
        for item in value:
            member = (*here, item_key(mk, item[mk]))
            out[member] = _MEMBER
            _walk_map(item, member, (*names, key), out, skip_status)
    elif value and key in PRIMITIVE_MERGE and all(not isinstance(v, dict | list) for v in value):
        for item in value:
            out[(*here, "v:" + _compact(item))] = item
    else:
        out[here] = value


def item_key(field: str, value: Any) -> str:
    return "k:" + _compact({field: value})


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
            if isinstance(item, dict) and all(item.get(k) == v for k, v in keys.items()):
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


# -- entries ---------------------------------------------------------------------------


def _identity(entry: JsonObj) -> tuple[str, str, str]:
    return (entry.get("manager", ""), entry.get("operation", ""), entry.get("subresource", ""))


def new_entry(
    manager: str,
    operation: str,
    api_version: str,
    when: str,
    paths: set[Path],
    subresource: str | None = None,
) -> JsonObj:
    """One ``managedFields`` entry owning ``paths``."""
    out: JsonObj = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": when,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
    }
    if subresource:
        out["subresource"] = subresource
    return out


def _parsed(entries: Any) -> list[tuple[JsonObj, set[Path]]]:
    if not isinstance(entries, list):
        return []
    return [(e, from_fields_v1(e.get("fieldsV1"))) for e in entries if isinstance(e, dict)]


def _rebuilt(parsed: list[tuple[JsonObj, set[Path]]]) -> list[JsonObj]:
    out = []
    for entry, paths in parsed:
        if paths:
            out.append({**entry, "fieldsV1": to_fields_v1(paths)})
    return out


def created(
    obj: JsonObj, manager: str, api_version: str, when: str, *, skip_status: bool
) -> list[JsonObj]:
    """``managedFields`` of an object a manager created with a plain POST (Update)."""
    paths = set(leaves(obj, skip_status=skip_status))
    return [new_entry(manager, UPDATE, api_version, when, paths, None)] if paths else []


def updated(
    old: JsonObj,
    new: JsonObj,
    manager: str,
    api_version: str,
    when: str,
    subresource: str | None = None,
) -> list[JsonObj] | None:
    """``new``'s ``managedFields`` after ``manager`` changed ``old`` into ``new``.

    ``None`` when no owned field changed (the entries stay as they are).
    """
    before = leaves(old)
    after = leaves(new)
    changed = {p for p, v in after.items() if p not in before or before[p] != v}
    removed = before.keys() - after.keys()
    if not changed and not removed:
        return None
    me = (manager, UPDATE, subresource or "")
    parsed = _parsed(new["metadata"].get("managedFields"))
    mine: set[Path] = set()
    kept: list[tuple[JsonObj, set[Path]]] = []
    for entry, paths in parsed:
        if _identity(entry) == me:
            mine = paths
            continue
        kept.append((entry, paths - changed - removed))
    mine = ((mine | changed) - removed) & after.keys()
    kept.append((new_entry(manager, UPDATE, api_version, when, mine, subresource), mine))
    return _rebuilt(kept)


class Applied:
    """The outcome of one apply: the object to write and its ``managedFields``."""

    __slots__ = ("managed", "obj")

    def __init__(self, obj: JsonObj, managed: list[JsonObj]) -> None:
        self.obj = obj
        self.managed = managed


def apply(
    live: JsonObj,
    config: JsonObj,
    merge: Any,
    manager: str,
    api_version: str,
    when: str,
    *,
    force: bool,
    subresource: str | None = None,
) -> Applied:
    """Apply ``config`` as ``manager`` onto ``live``: conflicts, removals, ownership.

    ``merge(base, config)`` merges a configuration into an object (strategic merge).
    Raises the 409 :func:`conflict_error` when another manager owns a field the
    configuration would change, unless ``force``.
    """
    wanted = leaves(config)
    applied = set(wanted)
    current = leaves(live)
    me = (manager, APPLY, subresource or "")
    parsed = _parsed(live["metadata"].get("managedFields"))
    previous: set[Path] = set()
    others: list[tuple[JsonObj, set[Path]]] = []
    for entry, paths in parsed:
        if _identity(entry) == me:
            previous = paths
        else:
            others.append((entry, paths))
    conflicts: list[tuple[JsonObj, Path]] = []
    for entry, paths in others:
        for path in sorted(applied & paths):
            value = wanted[path]
            if value is _MEMBER or path not in current:
                continue
            if current[path] != value:
                conflicts.append((entry, path))
    if conflicts and not force:
        raise conflict_error(conflicts)
    taken: dict[int, set[Path]] = {}
    for entry, path in conflicts:
        taken.setdefault(id(entry), set()).add(path)
    others = [(entry, paths - taken.get(id(entry), set())) for entry, paths in others]
    still_owned = set().union(*(paths for _, paths in others)) if others else set()
    base = json.loads(json.dumps(live))
    for path in sorted(previous - applied, key=len):
        if path in still_owned or any(p[: len(path)] == path for p in still_owned):
            continue
        if _is_item_key(path):
            continue  # an item stays with its key, or goes whole with its own path
        remove_path(base, path)
    obj = merge(base, {k: v for k, v in config.items() if k not in ("apiVersion", "kind")})
    mine = new_entry(manager, APPLY, api_version, when, applied, subresource)
    entries: list[JsonObj] = []
    placed = False
    for entry, _paths in parsed:
        if _identity(entry) == me:
            entries.append(mine)
            placed = True
            continue
        kept = next(p for e, p in others if e is entry)
        if kept:
            entries.append({**entry, "fieldsV1": to_fields_v1(kept)})
    if not placed:
        entries.append(mine)
    return Applied(obj, entries)


def as_sent(entries: Any, live: Any) -> Any:
    """``managedFields`` of an update body, with ``live``'s kept when they mean the same.

    Clients re-encode what they read (the official client writes ``+00:00`` for
    ``Z``); kube compares decoded values, so such a round trip is no change.
    """
    if not isinstance(entries, list) or not isinstance(live, list) or len(entries) != len(live):
        return entries
    for sent, kept in zip(entries, live, strict=True):
        if not isinstance(sent, dict) or not isinstance(kept, dict):
            return entries
        if {**sent, "time": _utc(sent.get("time"))} != {**kept, "time": _utc(kept.get("time"))}:
            return entries
    return live


def _utc(when: Any) -> Any:
    if isinstance(when, str) and when.endswith("+00:00"):
        return when[: -len("+00:00")] + "Z"
    return when


def _is_item_key(path: Path) -> bool:
    if len(path) < 2 or not path[-2].startswith("k:") or not path[-1].startswith("f:"):
        return False
    try:
        keys = json.loads(path[-2][2:])
    except ValueError:
        return False
    return isinstance(keys, dict) and path[-1][2:] in keys


def _manager_text(entry: JsonObj) -> str:
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == UPDATE:
        text += f" using {entry.get('apiVersion', '')}"
    return text


def conflict_error(conflicts: list[tuple[JsonObj, Path]]) -> ApiError:
    """409 Conflict worded as kube-apiserver's field manager words it."""
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {_manager_text(entry)}",
            "field": path_string(path),
        }
        for entry, path in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {_manager_text(entry)}: "
            f"{path_string(path)}"
        )
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(_manager_text(entry), []).append(path_string(path))
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {p}" for p in by_manager[manager])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def missing_field_manager() -> ApiError:
    """422 for an apply patch without ``fieldManager``, as the real handler answers."""
    return _patch_options_invalid(
        FieldError.required("fieldManager", "is required for apply patch")
    )


def force_without_apply() -> ApiError:
    """422 for ``force`` on a patch that is not an apply."""
    return _patch_options_invalid(
        FieldError.forbidden("force", "may not be specified for non-apply patch")
    )


def _patch_options_invalid(error: FieldError) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f'PatchOptions.meta.k8s.io "" is invalid: {error}',
        {
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [
                {
                    "reason": FieldError.REASONS[error.type],
                    "message": error.body(),
                    "field": error.field,
                }
            ],
        },
    )


def default_manager(user_agent: str | None) -> str:
    """kube's default field manager: the user agent up to its first ``/`` (128 chars)."""
    if not user_agent:
        return "unknown"
    return user_agent.split("/", 1)[0][:128] or "unknown"
