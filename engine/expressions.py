"""Safe expressions: CEL for ``when`` conditions and ``${{ ... }}`` parameter templates.

User text is never evaluated as Python. Expressions are Common Expression Language,
compiled once when a template is validated and executed against a context built from
the names an expression actually references:

* ``inputs`` — the execution's inputs (declared defaults applied),
* ``vars`` — the template's variables,
* ``steps`` — ``steps.<id>`` (or ``steps["<id>"]``) with ``status``, ``outputs``,
  ``attempts`` and ``error`` of an earlier step.

Which steps an expression reads is worked out at compile time, so evaluating a condition
costs the same in a 10-step and a 10,000-step workflow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import cel

ROOT_NAMES = frozenset({"inputs", "vars", "steps"})

_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_STRING_LITERAL = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
_DOTTED_STEP = re.compile(r"\bsteps\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_INDEXED_STEP = re.compile(r"""\bsteps\s*\[\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\]""")
_STEPS_WORD = re.compile(r"\bsteps\b")
_MAX_EXPRESSION_LENGTH = 4096


class ExpressionError(ValueError):
    """An expression does not compile, or failed when evaluated."""


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL expression and the names it reads.

    ``step_refs`` is ``None`` when the expression reads ``steps`` in a way that cannot be
    resolved statically (``size(steps)``, ``steps[x]``); such an expression is given every
    step its own step may read.
    """

    source: str
    program: Any
    roots: frozenset[str]
    step_refs: frozenset[str] | None

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Run the expression; errors become :class:`ExpressionError` with the source."""
        try:
            return self.program.execute(dict(context))
        except Exception as exc:  # the CEL runtime raises several unrelated types
            raise ExpressionError(f"expression {self.source!r} failed: {exc}") from exc


def compile_expression(source: str, *, extra_roots: frozenset[str] = frozenset()) -> Expression:
    """Compile CEL text, checking it reads only ``inputs``, ``vars``, ``steps`` and
    ``extra_roots`` (post-conditions also read the step's own ``outputs``)."""
    text = source.strip()
    if not text:
        raise ExpressionError("expression is empty")
    if len(text) > _MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {_MAX_EXPRESSION_LENGTH}"
        )
    try:
        program = cel.compile(text)
    except Exception as exc:  # cel raises ValueError, occasionally RuntimeError
        raise ExpressionError(f"expression {text!r} does not compile: {exc}") from exc
    roots = frozenset(program.references()["variables"])
    allowed = ROOT_NAMES | extra_roots
    unknown = sorted(roots - allowed)
    if unknown:
        raise ExpressionError(
            f"expression {text!r} reads unknown name(s) {', '.join(unknown)}; "
            f"expressions here may read {', '.join(sorted(allowed))}"
        )
    return Expression(
        text, program, roots, _step_references(text) if "steps" in roots else frozenset()
    )


def _step_references(text: str) -> frozenset[str] | None:
    refs = {a or b for a, b in _INDEXED_STEP.findall(text)}
    without_indexed = _INDEXED_STEP.sub("", text)
    without_strings = _STRING_LITERAL.sub('""', without_indexed)
    dotted = _DOTTED_STEP.findall(without_strings)
    refs.update(dotted)
    if len(_STEPS_WORD.findall(without_strings)) != len(dotted):
        return None
    return frozenset(refs)


ValueResolver = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class ParamTemplate:
    """Step parameters with their ``${{ }}`` templates compiled.

    ``constant`` is set when nothing in the parameters is templated and no value is a
    container; the engine then hands the same read-only mapping to every attempt
    without copying it. Parameters with nested dicts or lists are copied per attempt.
    """

    constant: Mapping[str, Any] | None
    resolve: ValueResolver
    expressions: tuple[Expression, ...]


def compile_params(params: Mapping[str, Any]) -> ParamTemplate:
    """Compile every ``${{ }}`` template in a parameter tree.

    A string that is exactly one template yields the expression's value with its type
    (``"${{ inputs.replicas }}"`` gives an int); a template inside a longer string is
    formatted into it. Raises :class:`ExpressionError` naming the parameter path.
    """
    found: list[Expression] = []
    resolver = _compile_value(params, "params", found)
    if not found:
        frozen: Mapping[str, Any] = MappingProxyType(dict(params))
        if any(isinstance(v, Mapping | list | tuple) for v in params.values()):
            # Nested containers would be the same objects in every execution: an action
            # that changed one would change the next run's parameters. Each attempt gets
            # its own copy of the nested parts (flat parameters are shared: a read-only
            # view of scalars cannot leak anything).
            return ParamTemplate(None, lambda _ctx: MappingProxyType(_copy(frozen)), ())
        return ParamTemplate(frozen, lambda _ctx: frozen, ())
    return ParamTemplate(None, resolver, tuple(found))


def _copy(value: Any) -> Any:
    """A copy of JSON-like data: new dicts and lists all the way down, leaves shared."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _compile_value(value: Any, path: str, found: list[Expression]) -> ValueResolver:
    if isinstance(value, str):
        return _compile_string(value, path, found)
    if isinstance(value, Mapping):
        items = [(k, _compile_value(v, f"{path}.{k}", found)) for k, v in value.items()]
        return lambda ctx: {k: r(ctx) for k, r in items}
    if isinstance(value, list | tuple):
        resolvers = [_compile_value(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
        return lambda ctx: [r(ctx) for r in resolvers]
    return lambda _ctx: value


def _compile_string(text: str, path: str, found: list[Expression]) -> ValueResolver:
    matches = list(_TEMPLATE.finditer(text))
    if not matches:
        return lambda _ctx: text
    compiled: list[Expression] = []
    for match in matches:
        try:
            compiled.append(compile_expression(match.group(1)))
        except ExpressionError as exc:
            raise ExpressionError(f"{path}: {exc}") from exc
    found.extend(compiled)
    if len(matches) == 1 and matches[0].span() == (0, len(text)):
        only = compiled[0]
        return lambda ctx: _plain(only.evaluate(ctx))
    pieces: list[str | Expression] = []
    last = 0
    for match, expr in zip(matches, compiled, strict=True):
        pieces.append(text[last : match.start()])
        pieces.append(expr)
        last = match.end()
    pieces.append(text[last:])

    def render(ctx: Mapping[str, Any]) -> str:
        return "".join(
            p if isinstance(p, str) else _format(_plain(p.evaluate(ctx))) for p in pieces
        )

    return render


def is_templated(value: Any) -> bool:
    """Whether a parameter value holds a ``${{ }}`` template anywhere inside it."""
    if isinstance(value, str):
        return "${{" in value
    if isinstance(value, Mapping):
        return any(is_templated(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_templated(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    """CEL returns its own wrappers for some types; give actions plain Python values."""
    if isinstance(value, bool | int | float | str | type(None)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
