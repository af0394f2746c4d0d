"""Step definitions that document themselves: each carries an example line.

``windtunnel steps`` prints the catalogue from these, like behave's ``--steps-catalog``,
and a test checks that every example line matches its own step and no other.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import pytest_bdd
from pytest_bdd import parsers

Kind = Literal["given", "when", "then"]
ATTRIBUTE = "__windtunnel_step__"


def _quoted(text: str) -> str:
    return text


_quoted.pattern = r'[^"]*'  # type: ignore[attr-defined]
_QUOTED = re.compile(r'"\{(\w+)\}"')


@dataclass(frozen=True)
class StepDoc:
    """One step definition as the catalogue shows it."""

    kind: Kind
    pattern: str
    example: str
    doc: str
    module: str
    parser: Any


def step(
    kind: Kind,
    pattern: str,
    example: str,
    *,
    target_fixture: str | None = None,
    converters: dict[str, Callable[[str], object]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``pytest_bdd.given/when/then(parsers.parse(pattern))`` that also records ``example``."""
    # A quoted field matches no quote, so 'the workflow "{name}"' cannot swallow the
    # rest of 'the workflow "a" as "b"' (parse's fields are lazy, but full-match).
    parser = parsers.parse(_QUOTED.sub(r'"{\1:Quoted}"', pattern), extra_types={"Quoted": _quoted})
    register = {"given": pytest_bdd.given, "when": pytest_bdd.when, "then": pytest_bdd.then}[kind]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        doc = inspect.getdoc(fn) or ""
        setattr(
            fn,
            ATTRIBUTE,
            StepDoc(kind, pattern, example, doc.split("\n\n")[0], fn.__module__, parser),
        )
        # stacklevel 2: the step fixture goes into the module that uses this decorator.
        return register(parser, converters=converters, target_fixture=target_fixture, stacklevel=2)(
            fn
        )

    return decorate


def given(
    pattern: str, example: str, **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return step("given", pattern, example, **kw)


def when(
    pattern: str, example: str, **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return step("when", pattern, example, **kw)


def then(
    pattern: str, example: str, **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return step("then", pattern, example, **kw)


def catalogue(modules: Iterable[ModuleType]) -> list[StepDoc]:
    """Every documented step of ``modules``, in source order within each module."""
    docs: list[tuple[str, int, StepDoc]] = []
    for module in modules:
        for value in vars(module).values():
            doc = getattr(value, ATTRIBUTE, None)
            if isinstance(doc, StepDoc) and doc.module == module.__name__:
                line = inspect.getsourcelines(inspect.unwrap(value))[1]
                docs.append((module.__name__, line, doc))
    return [d for _, _, d in sorted(docs, key=lambda t: (t[0], t[1]))]
