"""Confirming an action's effect as the cluster reads it back, not as the API answered.

A write's answer is what the server meant to store. A proxy or webhook in the way, a
controller or another client racing us, or a server that is simply broken can make
what is stored differ -- and an action that trusts the answer then reports a change
nobody made. So every mutating action reads its object back through
:func:`engine.kube_actions.waiting.wait_for` (list it, then follow a watch) until the
effect is there, within the action's ``timeout``; when it never is,
:class:`EffectNotConfirmedError` names the object and what was read back.

An expectation is ``expect(obj) -> None`` when ``obj`` shows the effect, else a short
description of what differs ("spec.unschedulable is unset, wanted true").

:func:`differences` compares a wanted shape (an applied manifest, a pod template) with
an object read back, the way the server stores things:

* only what is wanted is compared: fields the server or a controller added pass;
* a wanted ``null`` means "absent"; an empty map or list wanted is not looked for
  (the server drops empty values);
* list items are found by content, so order and server-added items do not matter;
  an item that differs is reported against the found item of the same ``name``;
* quantities compare by value (``0.5`` and ``500m``, ``1Gi`` and ``1024Mi``), numbers
  by value (``1`` and ``1.0``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from engine.kube_actions.errors import EffectNotConfirmedError, WaitTimeoutError
from engine.kube_actions.rest import JsonObj, Kube
from engine.kube_actions.waiting import wait_for
from engine.quantity import QuantityError, parse_quantity

Expect = Callable[[JsonObj], str | None]


def show(value: Any) -> str:
    """A value as a message shows it: ``unset``, ``true``, ``'text'``, ``3``."""
    if value is None:
        return "unset"
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, sort_keys=True)


def _same_scalar(wanted: Any, found: Any) -> bool:
    if wanted == found and type(wanted) is type(found):
        return True
    if isinstance(wanted, bool) or isinstance(found, bool):
        return False
    if isinstance(wanted, int | float) and isinstance(found, int | float):
        return float(wanted) == float(found)
    if isinstance(wanted, str | int | float) and isinstance(found, str | int | float):
        if not (isinstance(wanted, str) or isinstance(found, str)):
            return False
        try:
            return parse_quantity(wanted) == parse_quantity(found)
        except (QuantityError, ValueError, ZeroDivisionError):
            return False
    return False


def _join(path: str, key: str) -> str:
    if "." in key or "/" in key:
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def differences(wanted: Any, found: Any, path: str = "", word: str = "wanted") -> list[str]:
    """What ``found`` lacks of ``wanted`` (see module docstring), one line per field.

    Each line reads "PATH is FOUND, WORD WANTED" (``word``: "wanted", "applied").
    """
    if isinstance(wanted, Mapping):
        if not wanted:
            return []
        if found is None:
            found = {}
        if not isinstance(found, Mapping):
            return [f"{path or 'the object'} is {show(found)}, {word} a map"]
        out: list[str] = []
        for key, value in wanted.items():
            out += differences(value, found.get(key), _join(path, str(key)), word)
        return out
    if isinstance(wanted, list):
        if not wanted:
            return []
        if found is None:
            found = []
        if not isinstance(found, list):
            return [f"{path} is {show(found)}, {word} a list"]
        out = []
        for i, item in enumerate(wanted):
            if any(not differences(item, candidate, path, word) for candidate in found):
                continue
            name = item.get("name") if isinstance(item, Mapping) else None
            twin = next(
                (c for c in found if isinstance(c, Mapping) and name and c.get("name") == name),
                None,
            )
            if twin is not None:
                out += differences(item, twin, f"{path}[{name}]", word)
            else:
                out.append(f"{path}[{name or i}] is missing, {word} {show(item)}")
        return out
    if wanted is None:
        return [] if found is None else [f"{path} is {show(found)}, {word} unset"]
    if _same_scalar(wanted, found):
        return []
    return [f"{path} is {show(found)}, {word} {show(wanted)}"]


async def confirm(
    kube: Kube,
    path: str,
    expect: Expect,
    *,
    timeout: float,
    what: str,
    subject: str,
) -> JsonObj:
    """Read the object at ``path`` back until ``expect`` passes; the object then.

    ``what`` names the action ("cordon of node 'n1'"), ``subject`` the object
    ("node 'n1'", "ConfigMap default/cfg"). Raises :class:`EffectNotConfirmedError`
    with what was last read back when ``timeout`` seconds pass first.
    """
    collection, _, quoted = path.rpartition("/")
    name = unquote(quoted)
    last = f"{subject} was not read back"

    def check(items: list[JsonObj]) -> tuple[bool, Any]:
        nonlocal last
        obj = next((o for o in items if (o.get("metadata") or {}).get("name") == name), None)
        if obj is None:
            last = f"{subject} does not exist"
            return False, last
        problem = expect(obj)
        if problem is None:
            return True, obj
        last = f"{subject} read back: {problem}"
        return False, last

    try:
        result: JsonObj = await wait_for(
            kube,
            collection,
            check,
            timeout=timeout,
            what=what,
            field_selector=f"metadata.name={name}",
        )
    except WaitTimeoutError:
        raise EffectNotConfirmedError(f"{what} not confirmed after {timeout:g}s: {last}") from None
    return result
