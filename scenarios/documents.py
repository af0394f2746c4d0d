"""Reading one YAML file of the scenario library into data plus per-value origins.

Parsing reuses the engine's template loader (``engine.loader.parse_document``): the
same line numbers, duplicate-key and size checks, and no arbitrary Python objects.
Its ``TemplateError`` becomes a :class:`ProfileError` here, and schema errors of a
model are mapped to the file and line that wrote the offending value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from engine.errors import Problem, TemplateError, describe_schema_error
from engine.loader import parse_document
from scenarios.errors import ProfileError
from scenarios.merge import Origins, PathKey

M = TypeVar("M", bound=BaseModel)


@dataclass
class Document:
    """One parsed file: its data and where each value was written."""

    path: Path
    data: dict[str, Any]
    origins: Origins

    @property
    def source(self) -> str:
        return str(self.path)

    def problem(self, message: str, path: PathKey = (), field: str | None = None) -> Problem:
        return problem_at(self.origins, message, path, field)


def problem_at(
    origins: Origins, message: str, path: PathKey = (), field: str | None = None
) -> Problem:
    origin = origins.locate(path)
    source, line = origin if origin is not None else (None, None)
    shown = field if field is not None else ".".join(str(p) for p in path)
    return Problem(message, field=shown, source=source, line=line)


def read_document(path: Path, what: str = "profile") -> Document:
    """Parse ``path``; it must hold one YAML mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(
            [Problem(f"cannot read the {what} file: {exc}", source=str(path))]
        ) from None
    try:
        data, lines = parse_document(text, source=str(path))
    except TemplateError as exc:
        raise ProfileError(exc.problems) from None
    origins = Origins.of(lines.lines, str(path))
    if not isinstance(data, dict):
        raise ProfileError(
            [problem_at(origins, f"a {what} must be a mapping, not {type(data).__name__}")]
        )
    return Document(path, data, origins)


def validate_model(model: type[M], data: Any, origins: Origins, prefix: PathKey = ()) -> M:
    """``model.model_validate(data)``; schema errors become a :class:`ProfileError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(schema_problems(exc, origins, prefix)) from None


def schema_problems(exc: ValidationError, origins: Origins, prefix: PathKey = ()) -> list[Problem]:
    problems = []
    seen: set[tuple[PathKey, str]] = set()
    for err in exc.errors():
        loc = (*prefix, *_document_path(err["loc"]))
        message = describe_schema_error(err["type"], err["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(problem_at(origins, message, loc))
    return problems


def _document_path(loc: tuple[str | int, ...]) -> PathKey:
    """Drop pydantic's union-member and key markers so the path is the document's."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            part in ("[key]",)
            or part.startswith(("function-", "literal[", "list[", "tuple["))
            or part in ("str", "int", "float", "bool", "Delay", "constrained-float", "none")
        ):
            continue
        out.append(part)
    return tuple(out)
