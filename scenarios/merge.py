"""Deep merge for ``extends``, carrying each value's origin (file and line) along.

Override semantics, applied by a profile over its base:

* mappings merge key by key, recursively (so a profile can change one node pool's
  ``count`` or one deployment's ``replicas`` and keep the rest);
* lists and scalars replace the base's value whole (``faults``, ``events``,
  ``workloads``, ``taints``: restate the full list you want);
* an explicit ``null`` removes the key from the result (drop a base namespace with
  ``namespaces: {kubernaut: null}``).

Origins map a path inside the document to ``(source, line)``. The merged origins
keep the base's entries for what survives and the override's for what it set, so a
schema error in the resolved profile still points at the file that wrote the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PathKey = tuple[str | int, ...]
Origin = tuple[str, int]


class Origins:
    """Path → (source, line) for a (merged) document; ``locate`` walks up to a known path."""

    def __init__(self, at: dict[PathKey, Origin] | None = None) -> None:
        self.at: dict[PathKey, Origin] = at or {}

    @classmethod
    def of(cls, lines: Mapping[PathKey, int], source: str, prefix: PathKey = ()) -> Origins:
        return cls({(*prefix, *path): (source, line) for path, line in lines.items()})

    def locate(self, path: Sequence[str | int]) -> Origin | None:
        key = tuple(path)
        while True:
            if key in self.at:
                return self.at[key]
            if not key:
                return None
            key = key[:-1]

    def drop(self, prefix: PathKey) -> None:
        n = len(prefix)
        for key in [k for k in self.at if k[:n] == prefix and len(k) > n]:
            del self.at[key]

    def graft(self, other: Origins, source_prefix: PathKey, target_prefix: PathKey) -> None:
        """Copy ``other``'s entries under ``source_prefix`` to ``target_prefix`` here.

        Entries already here win: what the profile itself wrote is where to look first.
        """
        n = len(source_prefix)
        for key, origin in other.at.items():
            if key[:n] == source_prefix:
                self.at.setdefault((*target_prefix, *key[n:]), origin)


def deep_merge(base: Any, override: Any, origins: Origins | None = None, path: PathKey = ()) -> Any:
    """``override`` over ``base`` (see module docstring); neither argument is mutated.

    With ``origins`` (the base's), entries of replaced or removed subtrees are dropped;
    the caller then adds the override's own origins.
    """
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
                if origins is not None:
                    origins.drop((*path, key))
            elif key in out:
                out[key] = deep_merge(out[key], value, origins, (*path, key))
            else:
                out[key] = deep_merge({}, value) if isinstance(value, dict) else value
        return out
    if origins is not None:
        origins.drop(path)
    return override
