"""Helpers for building scenario clusters in tests."""

from __future__ import annotations

from typing import Any

JsonObj = dict[str, Any]


def ready(pod: JsonObj) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in pod.get("status", {}).get("conditions") or ()
    )


def live(pods: list[JsonObj]) -> list[JsonObj]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]
