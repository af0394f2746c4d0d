"""Why a JSON patch (RFC 6902) failed, in the words of the library kube applies it with.

kube applies JSON patches with evanphx/json-patch (v4), whose errors a client sees
(``testing value /metadata/labels/c failed: test failed``, ``remove operation does
not apply: doc is missing path: "/a/b": missing value``). The ``jsonpatch`` library
that :func:`fakes.kube.patch.json_patch` uses says the same things its own way, with
Python types in them. So when a patch fails, :func:`kube_message` replays it one
operation at a time to find the failing one and describes that failure as evanphx
does. Only the error path pays for the replay.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

JsonObj = dict[str, Any]

_OPS = ("add", "remove", "replace", "move", "test", "copy")
_MISSING = "missing value"
_BAD_INDEX = "invalid index referenced"


def kube_message(doc: JsonObj, ops: list[Any], exc: Exception) -> str:
    """What evanphx/json-patch says about the first operation of ``ops`` that fails."""
    state: Any = copy.deepcopy(doc)
    for op in ops:
        try:
            state = jsonpatch.apply_patch(state, [op], in_place=False)
        except Exception:
            return _describe(state, op) or str(exc)
    return str(exc)


def _describe(doc: Any, op: Any) -> str | None:
    if not isinstance(op, dict):
        return "json: cannot unmarshal a non-object into an operation"
    kind = op.get("op") if isinstance(op.get("op"), str) else "unknown"
    if kind not in _OPS:
        return f"Unexpected kind: {kind}"
    if kind in ("move", "copy"):
        return _describe_from(doc, op, kind)
    path = op.get("path")
    if not isinstance(path, str):
        if kind in ("add", "remove"):
            return f"{kind} operation failed to decode path: {_MISSING}"
        return f"{kind} operation failed to decode path: operation missing path field: {_MISSING}"
    parent, key = _find(doc, path)
    if parent is None:
        quoted = f'"{path}"' if kind in ("add", "remove") else path
        doc_ = "" if kind == "test" else "doc "
        return f"{kind} operation does not apply: {doc_}is missing path: {quoted}: {_MISSING}"
    if kind == "test":
        if isinstance(parent, list) and _bad_index(parent, key, appending=False):
            return f"error in test for path: '{path}': {_index_error(key)}"
        return f"testing value {path} failed: test failed"
    if kind == "replace":
        return f"replace operation does not apply: doc is missing key: {path}: {_MISSING}"
    if isinstance(parent, dict):
        return (
            f"error in remove for path: '{path}': "
            f"Unable to remove nonexistent key: {key}: {_MISSING}"
        )
    return f"error in {kind} for path: '{path}': {_index_error(key)}"


def _describe_from(doc: Any, op: JsonObj, kind: str) -> str | None:
    source = op.get("from")
    if not isinstance(source, str):
        return f"{kind} operation failed to decode from: operation, missing from field: {_MISSING}"
    parent, key = _find(doc, source)
    if parent is None:
        return f"{kind} operation does not apply: doc is missing from path: {source}: {_MISSING}"
    if isinstance(parent, dict) and key not in parent:
        if kind == "copy":  # evanphx copies the absent value as null; jsonpatch refuses
            return f"copy operation does not apply: doc is missing from path: {source}: {_MISSING}"
        removing = f"Unable to remove nonexistent key: {key}: {_MISSING}"
        return f"error in move for path: '{key}': {removing}"
    path = op.get("path")
    if isinstance(path, str) and _find(doc, path)[0] is None:
        return (
            f"{kind} operation does not apply: doc is missing destination path: {path}: {_MISSING}"
        )
    return None


def _find(doc: Any, path: str) -> tuple[Any, str]:
    """The container ``path`` points into and the last token, as evanphx's findObject.

    ``(None, "")`` when a step on the way is missing or not a container.
    """
    split = path.split("/")
    if len(split) < 2:
        return None, ""
    cur = doc
    for raw in split[1:-1]:
        part = _unescape(raw)
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list):
            cur = None if _bad_index(cur, part, appending=False) else cur[int(part)]
        else:
            return None, ""
        if not isinstance(cur, dict | list):
            return None, ""
    return cur, _unescape(split[-1])


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _bad_index(items: list[Any], key: str, *, appending: bool) -> bool:
    if appending and key == "-":
        return False
    try:
        index = int(key)
    except ValueError:
        return True
    return not -len(items) <= index < len(items) + (1 if appending else 0)


def _index_error(key: str) -> str:
    try:
        index = int(key)
    except ValueError:
        return f'strconv.Atoi: parsing "{key}": invalid syntax'
    return f"Unable to access invalid index: {index}: {_BAD_INDEX}"
