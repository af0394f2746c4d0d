"""A validated template in the shape the engine runs: indices, compiled expressions,
resolved actions.

Everything that can be worked out once per template version is worked out here, so the
dispatch loop does integer lookups instead of name lookups and never parses anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.actions import ActionSpec
from engine.errors import InputError, Problem
from engine.expressions import Expression, ParamTemplate
from engine.template import PostCondition, RetryPolicy, StepSpec, WorkflowTemplate
from engine.trigger_rules import TriggerRule

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (Mapping,),
    "array": (list, tuple),
}


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """One step, ready to dispatch."""

    index: int
    spec: StepSpec
    action: ActionSpec
    deps: tuple[int, ...]
    dependents: tuple[int, ...]
    params: ParamTemplate
    when: Expression | None
    retry: RetryPolicy
    trigger_rule: TriggerRule
    step_refs: frozenset[int] | None
    """Steps whose state the step's expressions read; None means all ancestors."""
    plain: bool = False
    """Default trigger rule and no condition: runs as soon as every dependency succeeded."""
    post_conditions: tuple[tuple[Expression, PostCondition], ...] = ()
    compensation: ActionSpec | None = None
    compensation_params: ParamTemplate | None = None
    resources: ParamTemplate | None = None

    @property
    def id(self) -> str:
        """The step id."""
        return self.spec.id


@dataclass(frozen=True, slots=True)
class CompiledWorkflow:
    """A validated template version: the unit the engine registers and runs."""

    template: WorkflowTemplate
    steps: tuple[CompiledStep, ...]
    index: Mapping[str, int]
    roots: tuple[int, ...]
    order: tuple[int, ...]
    vars: ParamTemplate
    source: str | None = None

    @property
    def name(self) -> str:
        """The template name."""
        return self.template.name

    @property
    def version(self) -> int:
        """The template version."""
        return self.template.version

    def ancestors(self, index: int) -> set[int]:
        """Every step ``index`` depends on, directly or not."""
        seen: set[int] = set()
        stack = list(self.steps[index].deps)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.steps[current].deps)
        return seen

    def bind_inputs(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The inputs of a new execution: ``given`` checked and defaults filled in.

        Raises :class:`InputError` listing every unknown, missing or mistyped input.
        """
        declared = self.template.inputs
        given = dict(given or {})
        problems: list[Problem] = []
        if declared:
            for name in sorted(set(given) - set(declared)):
                problems.append(
                    Problem(
                        f"unknown input; declared inputs: {', '.join(sorted(declared))}",
                        field=f"inputs.{name}",
                    )
                )
        bound: dict[str, Any] = dict(given)
        for name, spec in declared.items():
            if name not in given:
                if spec.required:
                    problems.append(Problem("required input is missing", field=f"inputs.{name}"))
                else:
                    bound[name] = spec.default
                continue
            expected = _PY_TYPES.get(spec.type)
            value = given[name]
            wrong_bool = isinstance(value, bool) and spec.type in ("integer", "number")
            if expected is not None and (wrong_bool or not isinstance(value, expected)):
                problems.append(
                    Problem(
                        f"expected {spec.type}, got {type(value).__name__} {value!r}",
                        field=f"inputs.{name}",
                    )
                )
        if problems:
            raise InputError(problems, name=self.name)
        return bound
