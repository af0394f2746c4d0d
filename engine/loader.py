"""Loading templates from YAML or JSON text with line numbers for every problem.

YAML is parsed to a node tree first (never to arbitrary Python objects: only the safe
scalar types), so each value's line is known and problems can say ``file:line``. The
loader also refuses what a YAML library accepts silently but a user never means:
duplicate keys, several documents in one file, and documents so large or deeply nested
(or alias-expanded, "billion laughs") that they are an attack rather than a workflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engine.actions import ActionRegistry
from engine.compiled import CompiledWorkflow
from engine.errors import Problem, TemplateError, describe_schema_error
from engine.template import WorkflowTemplate
from engine.validation import compile_template

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000

PathKey = tuple[str | int, ...]


class _Lines:
    """Maps a path inside the document to the line it starts on (1-based)."""

    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}

    def __call__(self, path: Sequence[str | int]) -> int | None:
        key = tuple(path)
        while True:
            if key in self.lines:
                return self.lines[key]
            if not key:
                return None
            key = key[:-1]


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: str | None) -> None:
        self.loader = loader
        self.source = source
        self.lines = _Lines()
        self.problems: list[Problem] = []
        self.nodes = 0

    def build(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge(
                f"the document expands to more than {MAX_NODES:,} values (aliases included)", node
            )
        if depth > MAX_DEPTH:
            raise _TooLarge(f"the document is nested more than {MAX_DEPTH} levels deep", node)
        self.lines.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    key = str(key)
                if key in out:
                    self._problem(f"duplicate key '{key}'", key_node, path)
                    continue
                self.lines.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _problem(self, message: str, node: yaml.Node, path: PathKey) -> None:
        field = ".".join(str(p) for p in path)
        self.problems.append(
            Problem(message, field=field, source=self.source, line=node.start_mark.line + 1)
        )


class _TooLarge(Exception):
    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


def parse_document(text: str, *, source: str | None = None) -> tuple[Any, _Lines]:
    """Parse YAML or JSON text into plain data and a path→line locator.

    Raises :class:`TemplateError` for syntax errors, duplicate keys, several documents,
    and documents past the size, depth or node limits.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
        raise TemplateError(
            [
                Problem(
                    f"the document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB",
                    source=source,
                )
            ]
        )
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise TemplateError([Problem("the document is empty", source=source)])
        builder = _Builder(loader, source)
        data = builder.build(node, (), 0)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        if "expected a single document" in message:
            message = "the file holds more than one YAML document; put one template per file"
        raise TemplateError(
            [Problem(f"invalid YAML: {message}", source=source, line=line)]
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError([Problem(f"invalid YAML: {exc}", source=source)]) from None
    except _TooLarge as exc:
        raise TemplateError([Problem(str(exc), source=source, line=exc.line)]) from None
    except RecursionError:
        raise TemplateError(
            [Problem(f"the document is nested more than {MAX_DEPTH} levels deep", source=source)]
        ) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise TemplateError(builder.problems)
    return data, builder.lines


def template_from_data(
    data: Any, *, source: str | None = None, locate: _Lines | None = None
) -> WorkflowTemplate:
    """Check plain data against the template schema; problems name step, field and line."""
    locate = locate or _Lines()
    if not isinstance(data, dict):
        raise TemplateError(
            [
                Problem(
                    f"a template must be a mapping, not {type(data).__name__}",
                    source=source,
                    line=locate(()),
                )
            ]
        )
    try:
        return WorkflowTemplate.model_validate(data)
    except ValidationError as exc:
        problems = []
        steps = data.get("steps")
        for err in exc.errors():
            loc: tuple[str | int, ...] = tuple(err["loc"])
            step_id = None
            field_path = loc
            if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
                field_path = loc[2:]
                if (
                    isinstance(steps, list)
                    and loc[1] < len(steps)
                    and isinstance(steps[loc[1]], dict)
                ):
                    raw_id = steps[loc[1]].get("id")
                    step_id = str(raw_id) if raw_id is not None else f"#{loc[1] + 1}"
                else:
                    step_id = f"#{loc[1] + 1}"
            field = ".".join(str(p) for p in field_path)
            message = describe_schema_error(err["type"], err["msg"])
            problems.append(
                Problem(message, field=field, step_id=step_id, source=source, line=locate(loc))
            )
        name = data.get("name") if isinstance(data.get("name"), str) else None
        raise TemplateError(problems, name=name) from None


def load_template(
    text: str, registry: ActionRegistry, *, source: str | None = None
) -> CompiledWorkflow:
    """Parse, schema-check and validate template text; every problem says where it is."""
    data, lines = parse_document(text, source=source)
    template = template_from_data(data, source=source, locate=lines)
    return compile_template(template, registry, source=source, locate=lines)


def load_template_file(path: str | Path, registry: ActionRegistry) -> CompiledWorkflow:
    """:func:`load_template` for a file; unreadable files get a :class:`TemplateError` too."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError([Problem(f"cannot read the file: {exc}", source=str(file))]) from None
    return load_template(text, registry, source=str(file))
