"""The workflow mix: which template each execution of a load run uses.

A profile's ``load.workflows`` lists templates with weights; each user draws from them
with its own seeded generator (``seed:process:user``), so a rerun with the same seed
submits the same sequence per user. Templates get the profile's engine defaults
(retry policy, timeouts) before they are sent anywhere, so the HTTP and the in-process
users run exactly the same templates.

:func:`check_mix` compiles every template against the actions an engine of the testbed
has, before a run starts, and reports a problem at the profile's file:line
(``HighLoadProduction.yaml:57 field 'load.workflows.1.template.steps.0.action'``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine import Problem, TemplateError, WorkflowTemplate, compile_template, default_registry
from engine.kube_actions import register_kube_actions
from harness.actions import ActionLog, register_test_actions
from scenarios import Profile, ProfileError, engine_settings
from scenarios.merge import Origins


@dataclass(frozen=True)
class MixEntry:
    """One template of the mix, ready to register and submit."""

    name: str
    version: int
    weight: int
    template: WorkflowTemplate
    inputs: Mapping[str, Any]
    expect: frozenset[str]

    def template_json(self) -> dict[str, Any]:
        """The template as the service's ``POST /v1/templates`` takes it."""
        data: dict[str, Any] = self.template.model_dump(mode="json")
        return data


@dataclass(frozen=True)
class WorkflowMix:
    entries: tuple[MixEntry, ...]

    @classmethod
    def of(cls, profile: Profile) -> WorkflowMix:
        if profile.load is None:
            raise ValueError(f"profile {profile.name!r} has no 'load:' section")
        setup = engine_settings(profile)
        entries = []
        for w in profile.load.workflows:
            template = setup.apply_defaults(w.template)
            entries.append(
                MixEntry(
                    template.name,
                    template.version,
                    w.weight,
                    template,
                    dict(w.inputs),
                    frozenset(w.expect),
                )
            )
        return cls(tuple(entries))

    def picker(self, seed: str) -> Callable[[], MixEntry]:
        """A draw from the mix by weight, from a generator seeded with ``seed``."""
        rng = random.Random(f"load-mix:{seed}")
        entries = self.entries
        cumulative = list(itertools.accumulate(e.weight for e in entries))
        if len(entries) == 1:
            only = entries[0]
            return lambda: only

        def pick() -> MixEntry:
            return rng.choices(entries, cum_weights=cumulative, k=1)[0]

        return pick


def check_mix(profile: Profile, origins: Origins) -> None:
    """Compile every template of the mix; raise a :class:`ProfileError` at file:line."""
    if profile.load is None:
        return
    registry = default_registry()
    register_kube_actions(registry, None)
    register_test_actions(registry, ActionLog())
    problems: list[Problem] = []
    for i, workflow in enumerate(profile.load.workflows):
        prefix = ("load", "workflows", i, "template")

        def locate(path: Any, prefix: tuple[Any, ...] = prefix) -> int | None:
            found = origins.locate((*prefix, *path))
            return None if found is None else found[1]

        try:
            compile_template(workflow.template, registry, locate=locate)
        except TemplateError as exc:
            for p in exc.problems:
                where = origins.locate(prefix)
                field = ".".join(str(x) for x in prefix) + (f".{p.field}" if p.field else "")
                problems.append(
                    Problem(
                        p.message,
                        field=field,
                        step_id=p.step_id,
                        source=where[0] if where else None,
                        line=p.line if p.line is not None else (where[1] if where else None),
                    )
                )
    if problems:
        raise ProfileError(problems, name=profile.name)
