"""The event recorder: core/v1 Events for what the controllers do.

Repeated events (same object, reason and message) are aggregated into one Event
whose ``count`` and ``lastTimestamp`` advance, as client-go's recorder does, so a
crash-looping pod does not grow the store without bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.controllers.access import Access

JsonObj = dict[str, Any]

NORMAL = "Normal"
WARNING = "Warning"


class EventRecorder:
    """Writes Events through the controllers' object API."""

    def __init__(self, access: Access, enabled: bool = True) -> None:
        self.access = access
        self.enabled = enabled
        self.kind = access.registry.resolve("events")
        self._seen: dict[tuple[str, str, str], str] = {}
        self._counter = 0

    def record(
        self,
        obj: JsonObj,
        reason: str,
        message: str,
        type: str = NORMAL,
        component: str = "",
        host: str = "",
    ) -> None:
        """Record ``reason``/``message`` about ``obj`` (any kind)."""
        if not self.enabled:
            return
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        now = self.access.timestamp()
        key = (meta.get("uid", ""), reason, message)
        existing_name = self._seen.get(key)
        if existing_name is not None:
            existing = self.access.get(self.kind, namespace, existing_name)
            if existing is not None:
                existing["count"] = existing.get("count", 1) + 1
                existing["lastTimestamp"] = now
                try:
                    self.access.update(self.kind, existing)
                    return
                except ApiError:
                    pass
        self._counter += 1
        name = f"{meta['name']}.{self._counter:016x}"
        source: JsonObj = {"component": component}
        if host:
            source["host"] = host
        event: JsonObj = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "kind": obj.get("kind", ""),
                "namespace": meta.get("namespace", ""),
                "name": meta["name"],
                "uid": meta.get("uid", ""),
                "apiVersion": obj.get("apiVersion", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": type,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        try:
            self.access.create(self.kind, event)
        except ApiError:
            return
        self._seen[key] = name
