"""Named blocks: reusable resource and workload profiles, expanded into a profile.

A block is one YAML file named after it (``blocks/ProductionResourceLimits.yaml``),
looked up first in a ``blocks/`` directory next to the profile, then among the
shipped blocks. Two kinds:

* ``kind: resources`` -- a node shape (``node: {cpu, memory, pods, labels, taints}``)
  and/or a namespace ``quota`` and ``limit_range``. A node pool with
  ``resources: NAME`` takes the node shape for whatever it does not set itself; a
  namespace with ``resources: NAME`` takes the quota and limit range the same way.
* ``kind: workloads`` -- ``deployments`` and ``config_maps``. A namespace's
  ``workloads: [A, B]`` puts A's, then B's, then its own inline ``deployments`` and
  ``config_maps`` together, later ones deep-merged over earlier ones (so
  ``deployments: {api-gateway: {replicas: 10}}`` changes only the replica count).

Expansion happens on the raw data before the schema check, carrying origins, so an
error in a block's content is reported at the block file's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from engine.errors import Problem
from scenarios.documents import Document, problem_at, read_document, validate_model
from scenarios.errors import ProfileError
from scenarios.merge import Origins, PathKey, deep_merge
from scenarios.schema import ResourceBlock, WorkloadBlock

Block = ResourceBlock | WorkloadBlock


def shipped_blocks_dir() -> Path:
    return Path(str(resources.files("scenarios") / "blocks"))


@dataclass
class BlockLibrary:
    """Finds, validates and caches blocks for one profile resolution."""

    dirs: list[Path]
    _cache: dict[str, tuple[Block, Document]] = field(default_factory=dict)

    def names(self) -> list[str]:
        found = {p.stem for d in self.dirs if d.is_dir() for p in d.glob("*.yaml")}
        return sorted(found)

    def get(self, name: str) -> tuple[Block, Document] | None:
        if name in self._cache:
            return self._cache[name]
        for d in self.dirs:
            path = d / f"{name}.yaml"
            if path.is_file():
                break
        else:
            return None
        doc = read_document(path, "block")
        kind = doc.data.get("kind")
        model: type[Block]
        if kind == "resources":
            model = ResourceBlock
        elif kind == "workloads":
            model = WorkloadBlock
        else:
            raise ProfileError(
                [doc.problem(f"kind must be 'resources' or 'workloads', not {kind!r}", ("kind",))]
            )
        block = validate_model(model, doc.data, doc.origins)
        if block.name != name:
            raise ProfileError(
                [doc.problem(f"the block in {path.name} must be named {name!r}", ("name",))]
            )
        self._cache[name] = (block, doc)
        return block, doc


def expand_blocks(data: dict[str, Any], origins: Origins, library: BlockLibrary) -> dict[str, Any]:
    """Return ``data`` with every block reference expanded (see module docstring)."""
    problems: list[Problem] = []
    cluster = data.get("cluster")
    if not isinstance(cluster, dict):
        return data
    cluster = dict(cluster)
    pools = cluster.get("node_pools")
    if isinstance(pools, dict):
        cluster["node_pools"] = {
            name: _expand_pool(pool, ("cluster", "node_pools", name), origins, library, problems)
            for name, pool in pools.items()
        }
    namespaces = cluster.get("namespaces")
    if isinstance(namespaces, dict):
        cluster["namespaces"] = {
            name: _expand_namespace(ns, ("cluster", "namespaces", name), origins, library, problems)
            for name, ns in namespaces.items()
        }
    if problems:
        raise ProfileError(problems, name=data.get("name"))
    return {**data, "cluster": cluster}


def _lookup(
    name: Any,
    kind: type[Block],
    path: PathKey,
    origins: Origins,
    library: BlockLibrary,
    problems: list[Problem],
) -> tuple[Block, Document] | None:
    label = "resources" if kind is ResourceBlock else "workloads"
    if not isinstance(name, str):
        problems.append(problem_at(origins, f"a {label} block name must be a string", path))
        return None
    found = library.get(name)
    if found is None:
        known = [n for n in library.names() if _kind_of(library, n) is kind]
        problems.append(
            problem_at(
                origins,
                f"unknown {label} block {name!r}; known: {', '.join(known) or 'none'}",
                path,
            )
        )
        return None
    if not isinstance(found[0], kind):
        problems.append(problem_at(origins, f"block {name!r} is not a {label} block", path))
        return None
    return found


def _kind_of(library: BlockLibrary, name: str) -> type[Block] | None:
    try:
        found = library.get(name)
    except ProfileError:
        return None
    return type(found[0]) if found else None


def _expand_pool(
    pool: Any, path: PathKey, origins: Origins, library: BlockLibrary, problems: list[Problem]
) -> Any:
    if not isinstance(pool, dict) or pool.get("resources") is None:
        return pool
    found = _lookup(
        pool["resources"], ResourceBlock, (*path, "resources"), origins, library, problems
    )
    if found is None:
        return pool
    block, doc = found
    assert isinstance(block, ResourceBlock)
    if "node" not in doc.data:
        problems.append(
            problem_at(origins, f"block {block.name!r} has no node shape", (*path, "resources"))
        )
        return pool
    origins.graft(doc.origins, ("node",), path)
    return deep_merge(doc.data["node"], pool)


def _expand_namespace(
    ns: Any, path: PathKey, origins: Origins, library: BlockLibrary, problems: list[Problem]
) -> Any:
    if not isinstance(ns, dict):
        return ns
    out = dict(ns)
    if ns.get("resources") is not None:
        found = _lookup(
            ns["resources"], ResourceBlock, (*path, "resources"), origins, library, problems
        )
        if found is not None:
            _, doc = found
            for key in ("quota", "limit_range"):
                if key in doc.data:
                    origins.graft(doc.origins, (key,), (*path, key))
                    out[key] = deep_merge(doc.data[key], ns[key]) if key in ns else doc.data[key]
    refs = ns.get("workloads")
    if isinstance(refs, list) and refs:
        merged: dict[str, Any] = {"deployments": {}, "config_maps": {}}
        for i, ref in enumerate(refs):
            found = _lookup(ref, WorkloadBlock, (*path, "workloads", i), origins, library, problems)
            if found is None:
                continue
            _, doc = found
            for key in ("deployments", "config_maps"):
                if isinstance(doc.data.get(key), dict):
                    origins.graft(doc.origins, (key,), (*path, key))
                    merged[key] = deep_merge(merged[key], doc.data[key])
        for key in ("deployments", "config_maps"):
            inline = ns.get(key)
            if isinstance(inline, dict):
                merged[key] = deep_merge(merged[key], inline)
            elif inline is not None:
                merged[key] = inline
            if merged[key] or key in ns:
                out[key] = merged[key]
    return out
