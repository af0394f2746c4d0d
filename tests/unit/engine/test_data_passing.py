"""Data passing: outputs, inputs and vars flow into later steps' parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine import ActionContext, Engine, InputError, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


async def test_outputs_inputs_and_vars_reach_parameters_with_their_types(
    engine: Engine, wf: WF
) -> None:
    result = await engine.run(
        wf(
            {"id": "observe", "action": "noop", "params": {"replicas": 3, "name": "api"}},
            {
                "id": "plan",
                "action": "noop",
                "depends_on": ["observe"],
                "params": {
                    "target": "${{ steps.observe.outputs.replicas * inputs.factor }}",
                    "label": "scale ${{ steps.observe.outputs.name }} in ${{ vars.ns }} to ${{ steps.observe.outputs.replicas * inputs.factor }}",
                    "nested": {"list": ["${{ inputs.factor }}", "fixed"]},
                    "ok": "${{ steps.observe.status == 'Succeeded' }}",
                },
            },
            inputs={"factor": {"type": "integer", "default": 2}},
            vars={"ns": "${{ 'prod-' + string(inputs.factor) }}"},
        )
    )
    assert result.step("plan").outputs == {
        "target": 6,
        "label": "scale api in prod-2 to 6",
        "nested": {"list": [2, "fixed"]},
        "ok": True,
    }


async def test_resolved_parameters_are_checked_against_the_action_schema(
    engine: Engine, wf: WF
) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "noop", "params": {"s": "soon"}},
            {
                "id": "b",
                "action": "sleep",
                "depends_on": ["a"],
                "params": {"seconds": "${{ steps.a.outputs.s }}"},
            },
        )
    )
    step = result.step("b")
    assert step.status is StepStatus.FAILED
    assert step.reason == "parameters could not be resolved"
    assert "params.seconds" in (step.error or "")


async def test_parameter_template_error_fails_the_step(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "noop"},
            {
                "id": "b",
                "action": "noop",
                "depends_on": ["a"],
                "params": {"x": "${{ steps.a.outputs.nope }}"},
            },
        )
    )
    assert result.step("b").status is StepStatus.FAILED
    assert "steps.a.outputs.nope" in (result.step("b").error or "")


async def test_declared_inputs_are_checked_and_defaulted(engine: Engine, wf: WF) -> None:
    template = wf(
        {
            "id": "a",
            "action": "noop",
            "params": {"ns": "${{ inputs.namespace }}", "n": "${{ inputs.replicas }}"},
        },
        inputs={
            "namespace": {"type": "string", "required": True},
            "replicas": {"type": "integer", "default": 1},
        },
    )
    with pytest.raises(InputError) as info:
        await engine.submit(template, {"replicas": "3", "colour": "red"})
    assert [str(p) for p in info.value.problems] == [
        "field 'inputs.colour': unknown input; declared inputs: namespace, replicas",
        "field 'inputs.namespace': required input is missing",
        "field 'inputs.replicas': expected integer, got str '3'",
    ]
    assert engine.repository.list() == []  # nothing stored for a refused submission
    result = await engine.run(template, {"namespace": "prod"})
    assert result.step("a").outputs == {"ns": "prod", "n": 1}
    assert result.execution.inputs == {"namespace": "prod", "replicas": 1}


async def test_an_action_that_changes_its_params_does_not_change_the_next_run(
    engine: Engine, wf: WF
) -> None:
    seen: list[Any] = []

    async def meddle(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        seen.append((list(params["items"]), dict(params["labels"])))
        params["items"].append("meddled")
        params["labels"]["meddled"] = "yes"
        return {}

    engine.actions.register("meddle", meddle)
    template = wf(
        {"id": "m", "action": "meddle", "params": {"items": ["a"], "labels": {"app": "x"}}}
    )
    await engine.run(template)
    await engine.run(template)
    assert seen == [(["a"], {"app": "x"}), (["a"], {"app": "x"})]
