"""The step library's catalogue: every step documents an example that means it, and only it.

A feature author copies example lines from ``windtunnel steps``; an example that matched
another step too would run whichever pytest-bdd found first.
"""

from __future__ import annotations

import pytest

from harness.steps import step_modules
from harness.steps.catalog import StepDoc, catalogue

DOCS = catalogue(step_modules())


def sentence(doc: StepDoc) -> str:
    first = doc.example.splitlines()[0]
    keyword, _, rest = first.partition(" ")
    assert keyword.lower() == doc.kind, f"example {first!r} should start with {doc.kind.title()}"
    return rest


def test_the_catalogue_lists_every_library_step() -> None:
    assert len(DOCS) >= 60
    assert len({(d.kind, d.pattern) for d in DOCS}) == len(DOCS)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: f"{d.kind}:{d.pattern}")
def test_each_example_matches_its_own_step_only(doc: StepDoc) -> None:
    text = sentence(doc)
    assert doc.parser.is_matching(text), f"{text!r} does not match {doc.pattern!r}"
    others = [
        o.pattern
        for o in DOCS
        if o is not doc and o.kind == doc.kind and o.parser.is_matching(text)
    ]
    assert others == [], f"{text!r} also matches {others}"


def test_a_quoted_field_never_swallows_a_quote() -> None:
    (submit,) = [d for d in DOCS if d.pattern == 'I submit the workflow "{name}"']
    assert submit.parser.is_matching('I submit the workflow "deploy"')
    assert not submit.parser.is_matching('I submit the workflow "deploy" as "first"')
