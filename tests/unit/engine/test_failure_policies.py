"""Failure policies: fail_fast, continue, PartiallySucceeded; a failure is never success."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import Engine, Event, EventKind, ExecutionStatus, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]
FAIL = {"action": "fail_with_probability", "params": {"probability": 1, "retryable": False}}


def shape(wf: WF, **fields: object) -> WorkflowTemplate:
    return wf(
        {"id": "warm-up", "action": "sleep", "params": {"seconds": 1}},
        {"id": "broken", **FAIL, "depends_on": ["warm-up"]},
        {"id": "after-broken", "action": "noop", "depends_on": ["broken"]},
        {"id": "slow", "action": "sleep", "params": {"seconds": 10}},
        {"id": "after-slow", "action": "noop", "depends_on": ["slow"]},
        **fields,
    )


async def test_fail_fast_starts_nothing_after_a_failure(
    engine: Engine, events: list[Event], wf: WF
) -> None:
    result = await engine.run(shape(wf))
    assert result.status is ExecutionStatus.FAILED
    assert result.statuses() == {
        "warm-up": StepStatus.SUCCEEDED,
        "broken": StepStatus.FAILED,
        "after-broken": StepStatus.CANCELLED,
        "slow": StepStatus.SUCCEEDED,  # already running: it finishes
        "after-slow": StepStatus.CANCELLED,
    }
    failed_at = next(
        e.time for e in events if e.kind is EventKind.STEP_FINISHED and e.status == "Failed"
    )
    assert all(e.time <= failed_at for e in events if e.kind is EventKind.STEP_STARTED)
    assert (
        result.execution.error
        == "step 'broken' Failed: PermanentError: injected failure (attempt 1)"
    )


async def test_continue_lets_independent_branches_go_on(engine: Engine, wf: WF) -> None:
    result = await engine.run(shape(wf, failure_policy="continue"))
    assert result.statuses() == {
        "warm-up": StepStatus.SUCCEEDED,
        "broken": StepStatus.FAILED,
        "after-broken": StepStatus.SKIPPED,
        "slow": StepStatus.SUCCEEDED,
        "after-slow": StepStatus.SUCCEEDED,
    }
    assert result.status is ExecutionStatus.PARTIALLY_SUCCEEDED


async def test_continue_with_nothing_succeeding_is_failed(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf({"id": "a", **FAIL}, {"id": "b", **FAIL}, failure_policy="continue")
    )
    assert result.status is ExecutionStatus.FAILED


async def test_allowed_failure_does_not_fail_the_execution(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "optional", **FAIL, "allow_failure": True},
            {
                "id": "next",
                "action": "noop",
                "depends_on": ["optional"],
                "trigger_rule": "all_done",
            },
        )
    )
    assert result.step("optional").status is StepStatus.FAILED
    assert result.status is ExecutionStatus.SUCCEEDED


async def test_timed_out_step_counts_as_failure(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {"id": "a", "action": "sleep", "params": {"seconds": 99}, "timeout": 1},
            {"id": "b", "action": "noop"},
            failure_policy="continue",
        )
    )
    assert result.status is ExecutionStatus.PARTIALLY_SUCCEEDED


async def test_unexpected_exception_in_an_action_fails_the_step(engine: Engine, wf: WF) -> None:
    async def buggy(ctx: object, params: object) -> None:
        raise ZeroDivisionError("division by zero")

    engine.actions.register("buggy", buggy)
    result = await engine.run(wf({"id": "a", "action": "buggy", "retry": {"max_attempts": 3}}))
    step = result.step("a")
    assert step.status is StepStatus.FAILED
    assert step.error == "ZeroDivisionError: division by zero"
    assert len(step.attempts) == 1


async def test_a_step_dispatched_in_the_same_instant_as_a_failure_never_acts(
    engine: Engine, wf: WF
) -> None:
    result = await engine.run(
        wf({"id": "broken", **FAIL}, {"id": "sibling", "action": "sleep", "params": {"seconds": 5}})
    )
    sibling = result.step("sibling")
    assert sibling.status is StepStatus.CANCELLED
    assert sibling.attempts == ()  # recorded Running at dispatch, but its action never ran
    assert sibling.reason == "step 'broken' Failed: PermanentError: injected failure (attempt 1)"
