"""The templates the service knows: registered through it, or at its start.

The engine keeps compiled templates but does not list them; the catalogue is the
service's index of what it registered (name, version, the template as registered), in
registration order, and writes each new version to the :class:`ServiceStore` so that a
restart can register it again before recovering executions.
"""

from __future__ import annotations

from engine.compiled import CompiledWorkflow
from engine.service.service_store import MemoryServiceStore, ServiceStore


class TemplateCatalog:
    """Registered template versions, persisted through a :class:`ServiceStore`."""

    def __init__(self, store: ServiceStore | None = None) -> None:
        self.store: ServiceStore = store if store is not None else MemoryServiceStore()
        self._versions: dict[str, dict[int, CompiledWorkflow]] = {}

    def add(self, compiled: CompiledWorkflow, *, persist: bool = True) -> bool:
        """Record a registered version; True if it was new. Persisted before returning."""
        versions = self._versions.setdefault(compiled.name, {})
        if compiled.version in versions:
            return False
        if persist:
            self.store.add_template(
                compiled.name, compiled.version, compiled.template.model_dump(mode="json")
            )
        versions[compiled.version] = compiled
        return True

    def refs(self) -> list[tuple[str, int]]:
        """(name, version) of every version, by name then version."""
        return [
            (name, version)
            for name in sorted(self._versions)
            for version in sorted(self._versions[name])
        ]

    def get(self, name: str, version: int | None = None) -> CompiledWorkflow | None:
        """A version (the latest when ``version`` is None), or None if unknown."""
        versions = self._versions.get(name)
        if not versions:
            return None
        if version is None:
            version = max(versions)
        return versions.get(version)

    def versions(self, name: str) -> list[int]:
        return sorted(self._versions.get(name, {}))
