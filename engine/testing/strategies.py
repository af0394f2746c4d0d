"""Hypothesis strategies that generate valid workflow templates for property tests.

The engine's own property tests use them, and so can anybody who writes actions,
stores or harness code on top of the engine: draw a template, run it, and check what
must hold whatever the shape of the DAG. Every template drawn here passes
:func:`engine.compile_template` with :func:`engine.default_registry`; it uses only the
built-in actions (``noop``, ``sleep``, ``fail_with_probability``).

What a generated template can hold, each feature switchable by a parameter:

* a layered DAG (:func:`dags`) of bounded width, depth and fan-in: every step of layer
  ``k > 0`` depends on at least one step of layer ``k - 1``, so the depth is real;
* injected failures through ``fail_with_probability`` with probability 0, 1 or in
  between, retryable or not; failures are drawn from the attempt's seeded generator,
  so a run is reproducible given the engine seed **and the execution id** (pass
  ``execution_id=`` to ``submit``/``run``; the default is a random UUID);
* ``sleep`` steps of a few seconds of loop time, per-step timeouts that may cut them
  short, and an optional workflow timeout;
* ``when`` conditions over the declared inputs (``inputs.flag``, ``inputs.n``) and over
  the status, attempts and outputs of the step's ancestors only (what validation
  allows); every condition evaluates to a boolean whatever happened upstream;
* every :class:`~engine.TriggerRule`, retry policies with small attempts, delays and
  jitter, ``allow_failure``, both failure policies and a per-template
  ``max_concurrency``.

Sizes are bounded (at most :data:`MAX_STEPS` steps, delays of a few seconds) so that a
run under virtual loop time takes milliseconds. Generated templates declare two inputs,
``flag`` (boolean) and ``n`` (integer), with defaults; :func:`workflow_inputs` draws
values for them.

Example::

    from hypothesis import given
    from engine.testing.strategies import workflow_templates

    @given(workflow_templates(max_steps=10, failures=False))
    def test_without_failures_everything_succeeds(template): ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from engine.template import (
    FailurePolicy,
    InputSpec,
    RetryOn,
    RetryPolicy,
    StepSpec,
    WorkflowTemplate,
)
from engine.trigger_rules import TriggerRule

__all__ = [
    "MAX_STEPS",
    "Dag",
    "dags",
    "retry_policies",
    "workflow_inputs",
    "workflow_templates",
]

MAX_STEPS = 30
"""The largest number of steps a generated template may have."""

_SLEEP_SECONDS = (0.0, 0.5, 1.0, 2.0, 5.0)
_STEP_TIMEOUTS = (0.25, 1.0, 2.0, 3.0, 10.0)
_WORKFLOW_TIMEOUTS = (1.0, 3.0, 10.0, 30.0)
_PROBABILITIES = (0.0, 1.0, 0.5, 0.2, 0.8)
_DELAYS = (0.0, 0.5, 1.0, 3.0)
_RETRY_ON: tuple[tuple[RetryOn, ...], ...] = (
    ("retryable", "timeout"),
    ("retryable",),
    ("timeout",),
    ("any",),
)
_INPUTS = {
    "flag": InputSpec(type="boolean", default=False, description="generated condition input"),
    "n": InputSpec(type="integer", default=0, description="generated condition input"),
}


@dataclass(frozen=True, slots=True)
class Dag:
    """The shape of a generated workflow: step ids by layer and each step's dependencies.

    ``deps`` maps every step id to the ids it depends on directly; ``layers`` lists the
    ids of each layer, roots first. ``ids`` is a topological order.
    """

    layers: tuple[tuple[str, ...], ...]
    deps: Mapping[str, tuple[str, ...]]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every step id, layer by layer (a topological order)."""
        return tuple(step for layer in self.layers for step in layer)

    def ancestors(self, step_id: str) -> set[str]:
        """Every step ``step_id`` depends on, directly or not."""
        seen: set[str] = set()
        stack = list(self.deps[step_id])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.deps[current])
        return seen


def _check_bound(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidArgument(f"{name}={value!r} must be between {low} and {high}")


@st.composite
def _dags(
    draw: st.DrawFn,
    min_steps: int,
    max_steps: int,
    max_depth: int,
    max_width: int,
    max_fan_in: int,
) -> Dag:
    # Enough layers to reach min_steps even if every layer is max_width wide.
    min_depth = min(max_depth, -(-min_steps // max_width))
    depth = draw(st.integers(min_depth, max_depth))
    layers: list[tuple[str, ...]] = []
    deps: dict[str, tuple[str, ...]] = {}
    earlier: list[str] = []
    count = 0
    for layer_index in range(depth):
        room = max_steps - count
        if room <= 0:
            break
        layers_left = depth - layer_index
        # Leave at least one step for each later layer and reach min_steps by the end.
        need = max(1, min_steps - count - (layers_left - 1) * max_width)
        low = min(need, room)
        width = draw(st.integers(low, max(low, min(max_width, room))))
        layer = tuple(f"s{count + k}" for k in range(width))
        for step_id in layer:
            if not layers:
                deps[step_id] = ()
                continue
            previous = layers[-1]
            chosen = [previous[draw(st.integers(0, len(previous) - 1))]]
            extra = draw(st.integers(0, min(max_fan_in - 1, len(earlier) - 1)))
            for _ in range(extra):
                # Indices rather than sampled_from(earlier): integer strategies are cached,
                # so no strategy is built per draw. Repeats just lower the fan-in.
                candidate = earlier[draw(st.integers(0, len(earlier) - 1))]
                if candidate not in chosen:
                    chosen.append(candidate)
            deps[step_id] = tuple(chosen)
        layers.append(layer)
        earlier.extend(layer)
        count += width
    return Dag(tuple(layers), deps)


def dags(
    *,
    min_steps: int = 1,
    max_steps: int = 12,
    max_depth: int = 6,
    max_width: int = 6,
    max_fan_in: int = 3,
) -> st.SearchStrategy[Dag]:
    """Layered DAG shapes: step ids ``s0``, ``s1``, ... and their dependencies.

    ``max_depth`` bounds the number of layers, ``max_width`` the steps per layer and
    ``max_fan_in`` the direct dependencies of a step (at least one in the previous
    layer, the rest anywhere earlier). Shrinks towards a single step.
    """
    _check_bound("max_steps", max_steps, 1, MAX_STEPS)
    _check_bound("min_steps", min_steps, 1, max_steps)
    _check_bound("max_depth", max_depth, 1, MAX_STEPS)
    _check_bound("max_width", max_width, 1, MAX_STEPS)
    _check_bound("max_fan_in", max_fan_in, 1, MAX_STEPS)
    if max_depth * max_width < min_steps:
        raise InvalidArgument(
            f"max_depth * max_width = {max_depth * max_width} cannot hold min_steps={min_steps}"
        )
    return _dags(min_steps, max_steps, max_depth, max_width, max_fan_in)


def retry_policies(
    *, max_attempts: int = 4, jitter: bool = True, max_delay: float = 5.0
) -> st.SearchStrategy[RetryPolicy]:
    """Small retry policies: up to ``max_attempts`` tries, delays of a few seconds."""
    _check_bound("max_attempts", max_attempts, 1, 1000)
    if max_delay < 0:
        raise InvalidArgument(f"max_delay={max_delay!r} must not be negative")
    delays = st.sampled_from([d for d in _DELAYS if d <= max_delay] or [0.0])
    capped = st.booleans()
    return st.builds(
        _retry_policy,
        delay=delays,
        capped=capped,
        max_delay=st.just(max_delay),
        max_attempts=st.integers(1, max_attempts),
        backoff=st.sampled_from(["fixed", "linear", "exponential"]),
        multiplier=st.sampled_from([2.0, 1.0, 3.0]),
        jitter=st.sampled_from([0.0, 0.1, 0.5]) if jitter else st.just(0.0),
        retry_on=st.sampled_from(_RETRY_ON),
    )


def _retry_policy(
    *,
    delay: float,
    capped: bool,
    max_delay: float,
    max_attempts: int,
    backoff: Literal["fixed", "linear", "exponential"],
    multiplier: float,
    jitter: float,
    retry_on: tuple[RetryOn, ...],
) -> RetryPolicy:
    # ``capped`` sets max_delay to the delay itself, so the cap is exercised too.
    return RetryPolicy(
        max_attempts=max_attempts,
        backoff=backoff,
        delay=delay,
        max_delay=delay if capped else max_delay,
        multiplier=multiplier,
        jitter=jitter,
        retry_on=retry_on,
    )


_INPUT_CONDITIONS = st.sampled_from(
    ["inputs.flag", "!inputs.flag", "inputs.n > 1", "inputs.n <= 2", "true", "false"]
)
# Conditions over an ancestor ``{s}``; each is a boolean whatever the ancestor's outcome.
_STEP_CONDITIONS = st.sampled_from(
    [
        "steps.{s}.status == 'Succeeded'",
        "steps.{s}.status != 'Skipped'",
        "steps.{s}.status == 'Failed' || steps.{s}.status == 'TimedOut'",
        "steps.{s}.attempts >= 2",
        "has(steps.{s}.outputs.value) && steps.{s}.outputs.value > 4",
        "has(steps.{s}.outputs.attempt) && steps.{s}.outputs.attempt > 1",
        "inputs.flag || steps.{s}.status == 'Succeeded'",
    ]
)


def _condition(draw: st.DrawFn, ancestors: Sequence[str]) -> str:
    if not ancestors or not draw(st.booleans()):
        return draw(_INPUT_CONDITIONS)
    step = ancestors[draw(st.integers(0, len(ancestors) - 1))]
    return draw(_STEP_CONDITIONS).format(s=step)


_ACTIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "noop": st.fixed_dictionaries({"value": st.integers(0, 9)}),
    "sleep": st.fixed_dictionaries({"seconds": st.sampled_from(_SLEEP_SECONDS)}),
    "fail_with_probability": st.fixed_dictionaries(
        {"probability": st.sampled_from(_PROBABILITIES), "retryable": st.booleans()}
    ),
}


@dataclass(frozen=True, slots=True)
class _Features:
    """The per-template choices, as strategies built once per ``workflow_templates`` call."""

    name: str
    kinds: st.SearchStrategy[str]
    conditions: bool
    rules: st.SearchStrategy[TriggerRule]
    default_rule: TriggerRule
    step_retries: st.SearchStrategy[RetryPolicy | None]
    template_retries: st.SearchStrategy[RetryPolicy]
    step_timeouts: st.SearchStrategy[float | None]
    workflow_timeouts: st.SearchStrategy[float | None]
    allow_failure: st.SearchStrategy[bool]
    failure_policies: st.SearchStrategy[FailurePolicy]
    max_concurrency: st.SearchStrategy[int | None]


@st.composite
def _templates(draw: st.DrawFn, shapes: st.SearchStrategy[Dag], f: _Features) -> WorkflowTemplate:
    dag = draw(shapes)
    steps: list[StepSpec] = []
    for step_id in dag.ids:
        kind = draw(f.kinds)
        deps = dag.deps[step_id]
        when = None
        if f.conditions and draw(st.integers(0, 3)) == 0:
            when = _condition(draw, sorted(dag.ancestors(step_id), key=lambda s: int(s[1:])))
        steps.append(
            StepSpec(
                id=step_id,
                action=kind,
                params=draw(_ACTIONS[kind]),
                depends_on=deps,
                when=when,
                trigger_rule=draw(f.rules) if deps else f.default_rule,
                retry=draw(f.step_retries),
                timeout=draw(f.step_timeouts),
                allow_failure=kind == "fail_with_probability" and draw(f.allow_failure),
            )
        )
    return WorkflowTemplate(
        name=f.name,
        description="generated by engine.testing.strategies",
        inputs=dict(_INPUTS),
        steps=tuple(steps),
        failure_policy=draw(f.failure_policies),
        max_concurrency=draw(f.max_concurrency),
        timeout=draw(f.workflow_timeouts),
        retry=draw(f.template_retries),
    )


def workflow_templates(
    *,
    name: str = "generated",
    min_steps: int = 1,
    max_steps: int = 12,
    max_depth: int = 6,
    max_width: int = 6,
    max_fan_in: int = 3,
    failures: bool = True,
    sleeps: bool = True,
    conditions: bool = True,
    trigger_rules: Sequence[TriggerRule] | None = None,
    retries: bool = True,
    step_timeouts: bool = True,
    workflow_timeout: bool = False,
    failure_policies: Sequence[FailurePolicy] = (FailurePolicy.FAIL_FAST, FailurePolicy.CONTINUE),
    max_concurrency: bool = True,
    allow_failure: bool = True,
) -> st.SearchStrategy[WorkflowTemplate]:
    """Valid :class:`~engine.WorkflowTemplate` objects over a :func:`dags` shape.

    Shape parameters are those of :func:`dags`. The feature switches:

    * ``failures``: ``fail_with_probability`` steps (probability 0, 1 or in between,
      retryable or not); ``allow_failure`` lets some of them carry ``allow_failure``;
    * ``sleeps``: ``sleep`` steps of up to 5 s of loop time;
    * ``conditions``: ``when`` on about a quarter of the steps;
    * ``trigger_rules``: the rules steps with dependencies draw from (default: all);
      the first one is the one examples shrink to;
    * ``retries``: a template retry policy and per-step overrides (:func:`retry_policies`);
    * ``step_timeouts`` / ``workflow_timeout``: per-attempt and whole-workflow deadlines;
    * ``failure_policies``: the policies drawn from;
    * ``max_concurrency``: a per-template limit of 1 to 4 running steps, or none.

    Every generated template has the same ``name`` (version 1); give each a distinct
    name if you register several in one engine.
    """
    rules = tuple(trigger_rules) if trigger_rules is not None else tuple(TriggerRule)
    if not rules:
        raise InvalidArgument("trigger_rules must not be empty")
    policies_ = tuple(failure_policies)
    if not policies_:
        raise InvalidArgument("failure_policies must not be empty")
    if not name:
        raise InvalidArgument("name must not be empty")
    shapes = dags(
        min_steps=min_steps,
        max_steps=max_steps,
        max_depth=max_depth,
        max_width=max_width,
        max_fan_in=max_fan_in,
    )
    kinds = ["noop"]
    if sleeps:
        kinds.append("sleep")
    if failures:
        kinds.append("fail_with_probability")
    policies = retry_policies()
    nothing: st.SearchStrategy[None] = st.none()
    features = _Features(
        name=name,
        kinds=st.sampled_from(kinds),
        conditions=conditions,
        rules=st.sampled_from(rules),
        default_rule=rules[0],
        step_retries=nothing | policies if retries else nothing,
        template_retries=policies if retries else st.just(RetryPolicy()),
        step_timeouts=nothing | st.sampled_from(_STEP_TIMEOUTS) if step_timeouts else nothing,
        workflow_timeouts=(
            nothing | st.sampled_from(_WORKFLOW_TIMEOUTS) if workflow_timeout else nothing
        ),
        # About one failing step in five tolerates its failure.
        allow_failure=st.integers(0, 4).map(lambda k: k == 4) if allow_failure else st.just(False),
        failure_policies=st.sampled_from(policies_),
        max_concurrency=nothing | st.integers(1, 4) if max_concurrency else nothing,
    )
    return _templates(shapes, features)


def workflow_inputs(template: WorkflowTemplate | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Inputs for a generated template: values for ``flag`` and ``n``, or defaults.

    Each input is present or left out (so its default applies); ``template`` may be given
    to draw only the inputs it declares.
    """
    declared = set(template.inputs) if template is not None else set(_INPUTS)
    values: dict[str, st.SearchStrategy[Any]] = {
        "flag": st.booleans(),
        "n": st.integers(0, 4),
    }
    return st.fixed_dictionaries({}, optional={k: v for k, v in values.items() if k in declared})
