"""``when`` conditions: CEL over inputs, vars and earlier steps; false means Skipped."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import Engine, ExecutionStatus, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


async def test_false_condition_skips_the_step_not_fails_it(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "noop", "when": "inputs.env == 'prod'"},
            inputs={"env": {"type": "string"}},
        ),
        {"env": "staging"},
    )
    step = result.step("a")
    assert step.status is StepStatus.SKIPPED
    assert step.reason == "condition is false: inputs.env == 'prod'"
    assert step.attempts == ()
    assert result.status is ExecutionStatus.SUCCEEDED


async def test_conditions_read_inputs_vars_outputs_and_statuses(engine: Engine, wf: WF) -> None:
    template = wf(
        {"id": "probe", "action": "noop", "params": {"healthy": False, "replicas": 2}},
        {
            "id": "repair",
            "action": "noop",
            "depends_on": ["probe"],
            "when": "!steps.probe.outputs.healthy && steps.probe.outputs.replicas < vars.min_replicas",
        },
        {
            "id": "celebrate",
            "action": "noop",
            "depends_on": ["probe"],
            "when": "steps.probe.outputs.healthy",
        },
        {
            "id": "audit",
            "action": "noop",
            "depends_on": ["repair"],
            "when": "steps.repair.status == 'Succeeded' && inputs.audit",
        },
        inputs={"audit": {"type": "boolean", "default": True}},
        vars={"min_replicas": 3},
    )
    result = await engine.run(template)
    assert result.statuses() == {
        "probe": StepStatus.SUCCEEDED,
        "repair": StepStatus.SUCCEEDED,
        "celebrate": StepStatus.SKIPPED,
        "audit": StepStatus.SUCCEEDED,
    }


async def test_condition_using_bracket_syntax_for_dashed_ids(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "check-health", "action": "noop", "params": {"ok": True}},
            {
                "id": "b",
                "action": "noop",
                "depends_on": ["check-health"],
                "when": "steps['check-health'].outputs.ok",
            },
        )
    )
    assert result.step("b").status is StepStatus.SUCCEEDED


async def test_condition_error_fails_the_step_with_the_expression(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "noop"},
            {
                "id": "b",
                "action": "noop",
                "depends_on": ["a"],
                "when": "steps.a.outputs.missing > 1",
            },
        )
    )
    step = result.step("b")
    assert step.status is StepStatus.FAILED
    assert step.reason == "condition could not be evaluated"
    assert "steps.a.outputs.missing > 1" in (step.error or "")
    assert result.status is ExecutionStatus.FAILED


async def test_non_boolean_condition_fails_the_step(engine: Engine, wf: WF) -> None:
    result = await engine.run(wf({"id": "a", "action": "noop", "when": "inputs.n"}), {"n": 3})
    assert result.step("a").status is StepStatus.FAILED
    assert "not a boolean" in (result.step("a").error or "")


async def test_dynamic_step_reads_see_every_ancestor(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "noop"},
            {"id": "b", "action": "noop", "depends_on": ["a"]},
            {"id": "c", "action": "noop", "depends_on": ["b"], "when": "size(steps) == 2"},
        )
    )
    assert result.step("c").status is StepStatus.SUCCEEDED
