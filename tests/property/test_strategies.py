"""The public template strategies: importable, valid, and honouring their parameters."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis.errors import InvalidArgument

import engine
from engine import FailurePolicy, TriggerRule, WorkflowTemplate
from engine.testing import MAX_STEPS, Dag, dags, workflow_inputs, workflow_templates


def test_importing_the_engine_does_not_import_hypothesis() -> None:
    code = "import sys, engine; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@given(workflow_templates(max_steps=MAX_STEPS, workflow_timeout=True), workflow_inputs())
def test_generated_templates_compile_and_accept_generated_inputs(
    template: WorkflowTemplate, inputs: dict[str, Any]
) -> None:
    compiled = engine.compile_template(template, engine.default_registry())
    assert 1 <= len(compiled.steps) <= MAX_STEPS
    assert set(compiled.bind_inputs(inputs)) == {"flag", "n"}


@given(dags(min_steps=3, max_steps=20, max_depth=4, max_width=5, max_fan_in=2))
def test_dags_respect_their_bounds(dag: Dag) -> None:
    assert 3 <= len(dag.ids) <= 20
    assert 1 <= len(dag.layers) <= 4
    assert all(1 <= len(layer) <= 5 for layer in dag.layers)
    assert len(set(dag.ids)) == len(dag.ids)
    for previous, layer in zip(dag.layers, dag.layers[1:], strict=False):
        for step in layer:
            assert 1 <= len(dag.deps[step]) <= 2
            assert any(dep in previous for dep in dag.deps[step])
    assert all(dag.deps[step] == () for step in dag.layers[0])


@given(
    workflow_templates(
        failures=False,
        sleeps=False,
        conditions=False,
        retries=False,
        step_timeouts=False,
        max_concurrency=False,
        trigger_rules=[TriggerRule.ALL_DONE],
        failure_policies=[FailurePolicy.CONTINUE],
    )
)
def test_feature_switches_leave_features_out(template: WorkflowTemplate) -> None:
    assert template.failure_policy is FailurePolicy.CONTINUE
    assert template.max_concurrency is None
    assert template.timeout is None
    for step in template.steps:
        assert step.action == "noop"
        assert step.when is None
        assert step.retry is None
        assert step.timeout is None
        assert step.trigger_rule is TriggerRule.ALL_DONE
        assert not step.allow_failure


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_steps": MAX_STEPS + 1},
        {"min_steps": 5, "max_steps": 4},
        {"max_depth": 1, "max_width": 2, "min_steps": 3},
        {"max_fan_in": 0},
        {"trigger_rules": []},
        {"failure_policies": []},
    ],
)
def test_bad_parameters_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        workflow_templates(**kwargs)
