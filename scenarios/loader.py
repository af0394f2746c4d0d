"""Finding and resolving scenario profiles: files, ``extends``, blocks, schema, checks.

``load_profile("HighLoadProduction")`` reads ``scenarios/profiles/HighLoadProduction.yaml``;
``load_profile("path/to/mine.yaml")`` reads that file. Resolution, in order:

1. ``extends: Base`` -- the base is ``Base.yaml`` next to the profile, else a shipped
   profile; bases may extend further. The chain is merged base first
   (``scenarios.merge``: mappings merge, lists and scalars replace, ``null`` removes).
   An unknown base or a cycle is an error at the ``extends`` line.
2. Named blocks are expanded (``scenarios.blocks``).
3. The result is checked against the schema (``scenarios.schema``).
4. Cross-field checks (``scenarios.checks``): every pod fits some node and its
   namespace quota, timed events name real nodes.

Every problem is a :class:`ProfileError` entry at the file:line that wrote the value.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engine.errors import Problem
from scenarios.blocks import BlockLibrary, expand_blocks, shipped_blocks_dir
from scenarios.checks import check_profile
from scenarios.documents import Document, read_document, validate_model
from scenarios.errors import ProfileError
from scenarios.merge import Origins, deep_merge
from scenarios.schema import Profile


def shipped_profiles_dir() -> Path:
    return Path(str(resources.files("scenarios") / "profiles"))


def list_profiles() -> list[str]:
    """Names of the shipped profiles, sorted."""
    return sorted(p.stem for p in shipped_profiles_dir().glob("*.yaml"))


def profile_path(name_or_path: str | Path) -> Path:
    """The file a profile name or path refers to; unknown names list the known ones."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        return Path(name_or_path)
    path = shipped_profiles_dir() / f"{text}.yaml"
    if not path.is_file():
        known = ", ".join(list_profiles())
        raise ProfileError([Problem(f"no scenario profile named {text!r}; known: {known}")])
    return path


def load_profile(name_or_path: str | Path) -> Profile:
    """The resolved profile (see module docstring)."""
    profile, _ = resolve_profile(name_or_path)
    return profile


def resolve_profile(name_or_path: str | Path) -> tuple[Profile, Origins]:
    """:func:`load_profile`, also returning where each resolved value was written."""
    path = profile_path(name_or_path)
    chain = _extends_chain(path)
    data: dict[str, object] = {}
    origins = Origins()
    for doc in chain:
        data = deep_merge(data, doc.data, origins)
        origins.at.update(doc.origins.at)
    top = chain[-1]
    library = BlockLibrary([top.path.parent / "blocks", shipped_blocks_dir()])
    data = expand_blocks(data, origins, library)
    profile = validate_model(Profile, data, origins)
    problems = check_profile(profile, origins)
    if problems:
        raise ProfileError(problems, name=profile.name)
    return profile, origins


def _extends_chain(path: Path) -> list[Document]:
    """The profile and its bases, base first."""
    chain: list[Document] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        doc = read_document(current)
        resolved = current.resolve()
        name = doc.data.get("name")
        if not isinstance(name, str):
            raise ProfileError(
                [doc.problem("every profile file needs a 'name' (a string)", ("name",))]
            )
        seen.append(resolved)
        chain.append(doc)
        base = doc.data.get("extends")
        if base is None:
            break
        if not isinstance(base, str) or not base:
            raise ProfileError(
                [doc.problem("extends must name a base profile", ("extends",))], name=name
            )
        candidates = [current.parent / f"{base}.yaml", shipped_profiles_dir() / f"{base}.yaml"]
        if base.endswith((".yaml", ".yml")):
            candidates = [current.parent / base]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            known = ", ".join(list_profiles())
            raise ProfileError(
                [doc.problem(f"unknown base profile {base!r}; known: {known}", ("extends",))],
                name=name,
            )
        if found.resolve() in seen:
            names = [str(d.data.get("name")) for d in chain]
            cycle = " -> ".join([*names, base])
            raise ProfileError([doc.problem(f"extends cycle: {cycle}", ("extends",))], name=name)
        current = found
    chain.reverse()
    return chain
