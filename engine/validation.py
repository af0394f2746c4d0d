"""Semantic validation of a template, producing the compiled form the engine runs.

The schema (types, ranges, unknown fields) is enforced by the pydantic models in
:mod:`engine.template`; this module checks what a schema cannot: that the steps form an
acyclic graph over known ids, that actions exist and accept their parameters, and that
every expression compiles and reads only steps that are sure to have finished. Every
problem is collected before :class:`TemplateError` is raised.
"""

from __future__ import annotations

import difflib
import graphlib
from collections.abc import Callable, Sequence
from typing import Any

from engine.actions import ActionRegistry, ActionSpec
from engine.admission import Demand
from engine.compiled import CompiledStep, CompiledWorkflow
from engine.errors import Problem, TemplateError
from engine.expressions import (
    Expression,
    ExpressionError,
    ParamTemplate,
    compile_expression,
    compile_params,
)
from engine.template import PostCondition, StepSpec, WorkflowTemplate
from engine.trigger_rules import TriggerRule

Locator = Callable[[Sequence[str | int]], int | None]


def _no_lines(_path: Sequence[str | int]) -> int | None:
    return None


class _Collector:
    def __init__(self, source: str | None, locate: Locator) -> None:
        self.problems: list[Problem] = []
        self.source = source
        self.locate = locate

    def add(
        self, message: str, path: Sequence[str | int], *, step: str | None = None, field: str = ""
    ) -> None:
        line = self.locate(path)
        self.problems.append(
            Problem(message, field=field, step_id=step, source=self.source, line=line)
        )


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def compile_template(
    template: WorkflowTemplate,
    registry: ActionRegistry,
    *,
    source: str | None = None,
    locate: Locator = _no_lines,
) -> CompiledWorkflow:
    """Validate ``template`` against ``registry`` and compile it.

    ``source`` names the file the template came from and ``locate`` maps a path inside
    the document (``("steps", 3, "depends_on")``) to its line, so problems point at
    ``file:line``. Raises :class:`TemplateError` with every problem found.
    """
    out = _Collector(source, locate)
    steps = template.steps
    if not steps:
        out.add("a workflow needs at least one step", ("steps",), field="steps")

    index: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.id in index:
            first = out.locate(("steps", index[step.id], "id"))
            where = f" (first defined at line {first})" if first else ""
            out.add(f"duplicate step id{where}", ("steps", i, "id"), step=step.id, field="id")
        else:
            index[step.id] = i
    known_ids = list(index)

    deps: list[tuple[int, ...]] = []
    for i, step in enumerate(steps):
        resolved: list[int] = []
        seen: set[str] = set()
        for j, dep in enumerate(step.depends_on):
            path = ("steps", i, "depends_on", j)
            if dep in seen:
                out.add(f"'{dep}' is listed twice", path, step=step.id, field="depends_on")
                continue
            seen.add(dep)
            if dep == step.id:
                out.add("a step cannot depend on itself", path, step=step.id, field="depends_on")
            elif dep not in index:
                out.add(
                    f"unknown step '{dep}'{_suggest(dep, known_ids)}",
                    path,
                    step=step.id,
                    field="depends_on",
                )
            else:
                resolved.append(index[dep])
        deps.append(tuple(resolved))

    order = _order(steps, deps, out)
    actions = _resolve_actions(steps, registry, out)
    vars_template = _compile_vars(template, out)

    dependents: list[list[int]] = [[] for _ in steps]
    for i, ds in enumerate(deps):
        for d in ds:
            dependents[d].append(i)

    ancestors_cache: dict[int, set[int]] = {}

    def ancestors(i: int) -> set[int]:
        if i not in ancestors_cache:
            seen_: set[int] = set()
            stack = list(deps[i])
            while stack:
                cur = stack.pop()
                if cur not in seen_:
                    seen_.add(cur)
                    stack.extend(deps[cur])
            ancestors_cache[i] = seen_
        return ancestors_cache[i]

    compiled_steps: list[CompiledStep] = []
    for i, step in enumerate(steps):
        when, params, refs, post, comp_params, resources = _compile_step_expressions(step, i, out)
        step_refs: frozenset[int] | None = frozenset()
        if order is not None and refs is not None:
            ids: set[int] = set()
            for ref in sorted(refs):
                if ref not in index:
                    out.add(
                        f"expression reads steps.{ref}, which is not a step"
                        f"{_suggest(ref, known_ids)}",
                        ("steps", i),
                        step=step.id,
                        field="when/params",
                    )
                elif index[ref] not in ancestors(i):
                    out.add(
                        f"expression reads steps.{ref}, which is not among this step's "
                        f"dependencies (direct or indirect); add '{ref}' to depends_on",
                        ("steps", i, "depends_on"),
                        step=step.id,
                        field="depends_on",
                    )
                else:
                    ids.add(index[ref])
            step_refs = frozenset(ids)
        elif refs is None:
            step_refs = None
        action, comp_action = actions[i]
        if when is None and step.when is not None:
            continue
        if action is None or params is None:
            continue
        compiled_steps.append(
            CompiledStep(
                index=i,
                spec=step,
                action=action,
                deps=deps[i],
                dependents=tuple(dependents[i]),
                params=params,
                when=when,
                retry=step.retry or template.retry,
                trigger_rule=step.trigger_rule,
                step_refs=step_refs,
                plain=step.trigger_rule is TriggerRule.ALL_SUCCEEDED and when is None,
                post_conditions=post,
                compensation=comp_action,
                compensation_params=comp_params,
                resources=resources,
            )
        )
        if step.retry is not None and step.retry.delay > step.retry.max_delay:
            out.add(
                f"delay {step.retry.delay} is larger than max_delay {step.retry.max_delay}",
                ("steps", i, "retry", "delay"),
                step=step.id,
                field="retry.delay",
            )
    if template.retry.delay > template.retry.max_delay:
        out.add(
            f"delay {template.retry.delay} is larger than max_delay {template.retry.max_delay}",
            ("retry", "delay"),
            field="retry.delay",
        )

    if out.problems or order is None or vars_template is None:
        raise TemplateError(out.problems, name=template.name)
    roots = tuple(i for i, ds in enumerate(deps) if not ds)
    return CompiledWorkflow(
        template=template,
        steps=tuple(compiled_steps),
        index=index,
        roots=roots,
        order=order,
        vars=vars_template,
        source=source,
    )


def _order(
    steps: Sequence[StepSpec], deps: Sequence[tuple[int, ...]], out: _Collector
) -> tuple[int, ...] | None:
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for i, ds in enumerate(deps):
        sorter.add(i, *ds)
    try:
        return tuple(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle: list[int] = list(exc.args[1])
        # graphlib lists the cycle against the dependency direction; show it as "runs before".
        path = " -> ".join(steps[i].id for i in reversed(cycle))
        first = cycle[0]
        out.add(
            f"dependency cycle: {path}",
            ("steps", first, "depends_on"),
            step=steps[first].id,
            field="depends_on",
        )
        return None


def _resolve_actions(
    steps: Sequence[StepSpec], registry: ActionRegistry, out: _Collector
) -> list[tuple[ActionSpec | None, ActionSpec | None]]:
    known = registry.names()
    resolved: list[tuple[ActionSpec | None, ActionSpec | None]] = []
    for i, step in enumerate(steps):
        spec = registry.get(step.action)
        if spec is None:
            out.add(
                f"unknown action '{step.action}'{_suggest(step.action, known)}",
                ("steps", i, "action"),
                step=step.id,
                field="action",
            )
        else:
            for field, message in spec.check_params(step.params):
                out.add(message, ("steps", i, *field.split(".")), step=step.id, field=field)
        comp = None
        if step.compensation is not None:
            comp = registry.get(step.compensation.action)
            if comp is None:
                out.add(
                    f"unknown action '{step.compensation.action}'"
                    f"{_suggest(step.compensation.action, known)}",
                    ("steps", i, "compensation", "action"),
                    step=step.id,
                    field="compensation.action",
                )
            else:
                for field, message in comp.check_params(step.compensation.params):
                    out.add(
                        message,
                        ("steps", i, "compensation", *field.split(".")),
                        step=step.id,
                        field=f"compensation.{field}",
                    )
        resolved.append((spec, comp))
    return resolved


def _compile_step_expressions(
    step: StepSpec, i: int, out: _Collector
) -> tuple[
    Expression | None,
    ParamTemplate | None,
    frozenset[str] | None,
    tuple[tuple[Expression, PostCondition], ...],
    ParamTemplate | None,
    ParamTemplate | None,
]:
    """Compile the step's condition, parameters, post-conditions and compensation params.

    Returns them with the ids of the steps they read (None: read dynamically). A
    compensation may read its own step (``steps.<self>.outputs``): it runs after it.
    """
    refs: set[str] = set()
    dynamic = False

    def note(expr: Expression, allow_self: bool = False) -> None:
        nonlocal dynamic
        if expr.step_refs is None:
            dynamic = True
        else:
            refs.update(r for r in expr.step_refs if not (allow_self and r == step.id))

    when: Expression | None = None
    if step.when is not None:
        try:
            when = compile_expression(step.when)
        except ExpressionError as exc:
            out.add(str(exc), ("steps", i, "when"), step=step.id, field="when")
        else:
            note(when)
    params: ParamTemplate | None = None
    try:
        params = compile_params(step.params)
    except ExpressionError as exc:
        out.add(str(exc), ("steps", i, "params"), step=step.id, field="params")
    else:
        for expr in params.expressions:
            note(expr)
    post: list[tuple[Expression, PostCondition]] = []
    for j, condition in enumerate(step.post_conditions):
        try:
            expr = compile_expression(condition.expression, extra_roots=frozenset({"outputs"}))
        except ExpressionError as exc:
            out.add(
                str(exc),
                ("steps", i, "post_conditions", j),
                step=step.id,
                field=f"post_conditions[{j}].expression",
            )
        else:
            note(expr)
            post.append((expr, condition))
    comp_params: ParamTemplate | None = None
    if step.compensation is not None:
        try:
            comp_params = compile_params(step.compensation.params)
        except ExpressionError as exc:
            out.add(
                str(exc),
                ("steps", i, "compensation", "params"),
                step=step.id,
                field="compensation.params",
            )
        else:
            for expr in comp_params.expressions:
                note(expr, allow_self=True)
    resources = _compile_resources(step, i, out, note)
    return when, params, None if dynamic else frozenset(refs), tuple(post), comp_params, resources


_RESOURCE_FIELDS = ("namespace", "cpu", "memory", "replicas", "pods")


def _compile_resources(
    step: StepSpec, i: int, out: _Collector, note: Callable[[Expression], None]
) -> ParamTemplate | None:
    """Compile a step's ``resources`` and check what is known before it runs."""
    if step.resources is None:
        return None
    path = ("steps", i, "resources")
    for name in sorted(set(step.resources) - set(_RESOURCE_FIELDS)):
        out.add(
            f"unknown resource field; use {', '.join(_RESOURCE_FIELDS)}",
            (*path, name),
            step=step.id,
            field=f"resources.{name}",
        )
    try:
        compiled = compile_params(step.resources)
    except ExpressionError as exc:
        out.add(str(exc), path, step=step.id, field="resources")
        return None
    for expr in compiled.expressions:
        note(expr)
    if compiled.constant is not None:
        try:
            Demand.parse(compiled.constant)
        except ValueError as exc:
            out.add(str(exc), path, step=step.id, field="resources")
    return compiled


def _compile_vars(template: WorkflowTemplate, out: _Collector) -> ParamTemplate | None:
    try:
        compiled = compile_params(template.vars)
    except ExpressionError as exc:
        out.add(str(exc).replace("params", "vars", 1), ("vars",), field="vars")
        return None
    for expr in compiled.expressions:
        if expr.roots - {"inputs"}:
            out.add(
                f"vars may only read inputs; {expr.source!r} reads "
                f"{', '.join(sorted(expr.roots - {'inputs'}))}",
                ("vars",),
                field="vars",
            )
            return None
    return compiled


def validate(template: WorkflowTemplate | Any, registry: ActionRegistry) -> list[Problem]:
    """Every problem with ``template``, or an empty list; never raises for a bad template."""
    try:
        compile_template(template, registry)
    except TemplateError as exc:
        return list(exc.problems)
    return []
