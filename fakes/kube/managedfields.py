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

Sets are kept in the ``FieldsV1`` trie format; the sets themselves, and what a path
names in an object, are ``fakes.kube.fieldsets``. Controllers that call the
Python-level API without a field manager are not tracked: their writes keep the hot
path cheap.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.kube.errors import ApiError, FieldError
from fakes.kube.fieldsets import (
    MEMBER,
    Path,
    from_fields_v1,
    is_item_key,
    leaves,
    path_string,
    remove_path,
    to_fields_v1,
)

JsonObj = dict[str, Any]

APPLY = "Apply"
UPDATE = "Update"

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
            if value is MEMBER or path not in current:
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
        if is_item_key(path):
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
