"""Column definitions and the cell rules every kind's printer shares.

The real server's printers (``pkg/printers/internalversion/printers.go``) format
ages with Go's ``duration.HumanDuration``, print ``<none>`` for empty cells and show
workload templates as comma-joined container names and images; the per-kind row
functions in this package build on these helpers so every kind formats alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fakes.kube.selectors import LabelSelector

JsonObj = dict[str, Any]
Row = Callable[[JsonObj, float], list[Any]]
Printer = tuple[list[JsonObj], Row]
"""A kind's column definitions and the function that turns one object into its cells."""

NONE = "<none>"


def col(
    name: str, type: str = "string", priority: int = 0, fmt: str = "", desc: str = ""
) -> JsonObj:
    """One ``TableColumnDefinition``; ``priority=1`` columns show only with ``-o wide``."""
    return {"name": name, "type": type, "format": fmt, "description": desc, "priority": priority}


NAME = col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = col(
    "Age",
    desc=(
        "CreationTimestamp is a timestamp representing the server time when this object "
        "was created."
    ),
)


def human_duration(seconds: float) -> str:
    """Go's ``duration.HumanDuration``: ``42s``, ``5m3s``, ``3h10m``, ``6d2h``, ``2y``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def since(text: Any, now: float) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a missing timestamp."""
    when = parse_time(text)
    return "<unknown>" if when is None else human_duration(now - when)


def age(obj: JsonObj, now: float) -> str:
    return since(obj.get("metadata", {}).get("creationTimestamp"), now)


def containers(spec: JsonObj) -> tuple[str, str]:
    items = spec.get("containers") or []
    names = ",".join(str(c.get("name", "")) for c in items)
    images = ",".join(str(c.get("image", "")) for c in items)
    return names, images


def selector(spec: JsonObj) -> str:
    sel = spec.get("selector")
    if not isinstance(sel, dict):
        return NONE
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        # Services and other plain label maps.
        text = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
    else:
        text = str(LabelSelector.from_spec(sel))
    return text or NONE


def template_spec(obj: JsonObj) -> JsonObj:
    spec: JsonObj = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec
