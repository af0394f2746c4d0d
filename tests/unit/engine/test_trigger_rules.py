"""Trigger rules decide what dependents of skipped and failed steps do."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import Engine, StepStatus, TriggerRule, WorkflowTemplate

WF = Callable[..., WorkflowTemplate]
S, F, K, T, C = (
    StepStatus.SUCCEEDED,
    StepStatus.FAILED,
    StepStatus.SKIPPED,
    StepStatus.TIMED_OUT,
    StepStatus.CANCELLED,
)


@pytest.mark.parametrize(
    ("rule", "deps", "runs"),
    [
        (TriggerRule.ALL_SUCCEEDED, [S, S], True),
        (TriggerRule.ALL_SUCCEEDED, [S, K], False),
        (TriggerRule.ALL_SUCCEEDED, [S, F], False),
        (TriggerRule.ALL_DONE, [F, K, T], True),
        (TriggerRule.ALL_FAILED, [F, T], True),
        (TriggerRule.ALL_FAILED, [F, S], False),
        (TriggerRule.ONE_SUCCEEDED, [F, S], True),
        (TriggerRule.ONE_SUCCEEDED, [F, K], False),
        (TriggerRule.ONE_FAILED, [S, T], True),
        (TriggerRule.ONE_FAILED, [S, K], False),
        (TriggerRule.NONE_FAILED, [S, K], True),
        (TriggerRule.NONE_FAILED, [K, K], True),
        (TriggerRule.NONE_FAILED, [S, F], False),
        (TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, [S, K], True),
        (TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, [K, K], False),
        (TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, [S, T], False),
        (TriggerRule.ALL_SUCCEEDED, [], True),
    ],
)
def test_rule_table(rule: TriggerRule, deps: list[StepStatus], runs: bool) -> None:
    assert rule.satisfied(deps) is runs


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_skip_propagates_under_the_default_rule_and_none_failed_joins(
    engine: Engine, wf: WF
) -> None:
    """The documented example: an optional branch and two ways to join after it."""
    result = await engine.run(
        wf(
            {"id": "check", "action": "noop"},
            {"id": "repair", "action": "noop", "depends_on": ["check"], "when": "inputs.broken"},
            {"id": "verify", "action": "noop", "depends_on": ["repair"]},
            {
                "id": "report",
                "action": "noop",
                "depends_on": ["repair"],
                "trigger_rule": "none_failed",
            },
            inputs={"broken": {"type": "boolean", "default": False}},
        )
    )
    assert result.statuses() == {"check": S, "repair": K, "verify": K, "report": S}
    assert result.step("verify").reason == "trigger rule all_succeeded not met (repair=Skipped)"


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_error_handler_runs_on_failure_under_continue(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {
                "id": "scale",
                "action": "fail_with_probability",
                "params": {"probability": 1, "retryable": False},
            },
            {"id": "verify", "action": "noop", "depends_on": ["scale"]},
            {
                "id": "page-oncall",
                "action": "noop",
                "depends_on": ["scale"],
                "trigger_rule": "one_failed",
            },
            {
                "id": "cleanup",
                "action": "noop",
                "depends_on": ["verify", "page-oncall"],
                "trigger_rule": "all_done",
            },
            failure_policy="continue",
        )
    )
    assert result.statuses() == {"scale": F, "verify": K, "page-oncall": S, "cleanup": S}


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_deep_skip_chain_does_not_recurse(engine: Engine, wf: WF) -> None:
    steps = [{"id": "s0", "action": "noop", "when": "false"}]
    steps += [
        {"id": f"s{i}", "action": "noop", "depends_on": [f"s{i - 1}"]} for i in range(1, 3000)
    ]
    result = await engine.run(wf(*steps))
    assert set(result.statuses().values()) == {K}
