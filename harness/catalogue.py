"""The requirement catalogue: every BR-WORKFLOW requirement, as data users edit.

``features/requirements.yaml`` lists each requirement's id, title, description,
priority and area. Reports are driven by it, so a requirement no scenario covers shows
as *uncovered* instead of silently missing. Feature tags that look like requirement ids
(``@BR-WORKFLOW-032``) must name a catalogue entry: :func:`check_tags` reports every
one that does not, at its file and line.

Tag scope: a tag on a ``Feature`` or ``Rule`` covers every scenario beneath it, as
Gherkin's tag inheritance says; a tag on a ``Scenario`` or ``Scenario Outline`` covers
that scenario (all of an outline's examples).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import Problem
from scenarios.documents import read_document, validate_model
from scenarios.errors import ProfileError

REQUIREMENT_TAG = re.compile(r"^BR-[A-Z]+-\d+$")
"""What a tag that names a requirement looks like (without the ``@``)."""

Priority = Literal["critical", "high", "medium", "low"]


class CatalogueError(ValueError):
    """The catalogue file, or a tag that should name an entry of it, is wrong."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"requirement catalogue: {count} problem{'s' if count != 1 else ''}:\n{lines}"
        )


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=REQUIREMENT_TAG.pattern)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    priority: Priority
    area: str = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requirements: list[_Entry] = Field(min_length=1)


@dataclass(frozen=True)
class Requirement:
    """One requirement of the catalogue."""

    id: str
    title: str
    description: str
    priority: Priority
    area: str


@dataclass(frozen=True)
class Catalogue:
    """The requirements by id, in file order, and the file they came from."""

    path: Path
    requirements: Mapping[str, Requirement]

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def ids(self) -> list[str]:
        return list(self.requirements)


def default_catalogue_path(rootdir: Path) -> Path:
    return rootdir / "features" / "requirements.yaml"


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate the catalogue; every problem is reported at file:line."""
    try:
        doc = read_document(path, what="requirement catalogue")
        parsed = validate_model(_File, doc.data, doc.origins)
    except ProfileError as exc:
        raise CatalogueError(exc.problems) from None
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for index, entry in enumerate(parsed.requirements):
        if entry.id in seen:
            problems.append(
                doc.problem(
                    f"requirement {entry.id} is listed twice (first as entry {seen[entry.id] + 1})",
                    ("requirements", index, "id"),
                )
            )
        seen.setdefault(entry.id, index)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        path,
        {
            e.id: Requirement(e.id, e.title.strip(), e.description.strip(), e.priority, e.area)
            for e in parsed.requirements
        },
    )


def requirement_tags(tags: Iterable[str]) -> list[str]:
    """The tags (``@`` stripped or not) that look like requirement ids, sorted, unique."""
    return sorted({t.lstrip("@") for t in tags if REQUIREMENT_TAG.match(t.lstrip("@"))})


def check_tags(feature_files: Iterable[Path], catalogue: Catalogue, rootdir: Path) -> list[Problem]:
    """Every requirement-looking tag in the feature files that the catalogue lacks.

    Tags are found on Gherkin tag lines (lines that start with ``@``), so each problem
    names the file and line a user has to fix.
    """
    problems: list[Problem] = []
    for path in sorted(feature_files):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"cannot read the feature file: {exc}", source=str(path)))
            continue
        shown = _relative(path, rootdir)
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line.startswith("@"):
                continue
            for tag in line.split("#", 1)[0].split():
                name = tag.lstrip("@")
                if REQUIREMENT_TAG.match(name) and name not in catalogue:
                    problems.append(
                        Problem(
                            f"tag @{name} names no requirement in "
                            f"{_relative(catalogue.path, rootdir)}{_suggest(name, catalogue)}",
                            source=shown,
                            line=number,
                        )
                    )
    return problems


def _suggest(name: str, catalogue: Catalogue) -> str:
    import difflib

    close = difflib.get_close_matches(name, catalogue.ids(), n=1, cutoff=0.8)
    return f" (did you mean @{close[0]}?)" if close else "; add it to the catalogue or fix the tag"


def _relative(path: Path, rootdir: Path) -> str:
    try:
        return path.resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        return str(path)
