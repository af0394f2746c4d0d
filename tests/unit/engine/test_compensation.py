"""Compensation (saga), post-conditions and rollback on failure or cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine import (
    ActionContext,
    Engine,
    ExecutionStatus,
    PermanentError,
    StepStatus,
    WorkflowTemplate,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]
FAIL = {"action": "fail_with_probability", "params": {"probability": 1, "retryable": False}}


@pytest.fixture
def undo_log(engine: Engine) -> list[tuple[str, Any]]:
    """An 'undo' action recording what it was asked to undo, in order."""
    log: list[tuple[str, Any]] = []

    async def undo(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        if params.get("fail"):
            raise PermanentError(f"cannot undo {params['what']}")
        log.append((params["what"], params.get("previous")))
        return {"undone": params["what"]}

    engine.actions.register("undo", undo)
    return log


def saga(wf: WF, *, last: dict[str, Any], **fields: Any) -> WorkflowTemplate:
    return wf(
        {
            "id": "scale",
            "action": "noop",
            "params": {"replicas": 5, "previous": 3},
            "compensation": {
                "action": "undo",
                "params": {"what": "scale", "previous": "${{ steps.scale.outputs.previous }}"},
            },
        },
        {
            "id": "cordon",
            "action": "noop",
            "depends_on": ["scale"],
            "compensation": {"action": "undo", "params": {"what": "cordon"}},
        },
        {"id": "note", "action": "noop", "depends_on": ["scale"]},
        {"id": "drain", "depends_on": ["cordon", "note"], **last},
        rollback_on_failure=True,
        **fields,
    )


async def test_failure_rolls_back_completed_steps_in_reverse_order(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    result = await engine.run(saga(wf, last=FAIL))
    assert result.status is ExecutionStatus.ROLLED_BACK
    assert undo_log == [
        ("cordon", None),
        ("scale", 3),
    ]  # the compensation read its own step's outputs
    comp = result.step("scale").compensation
    assert comp is not None
    assert comp["status"] == "Succeeded"
    assert comp["outputs"] == {"undone": "scale"}
    assert result.step("note").compensation is None  # nothing to undo
    assert result.step("drain").status is StepStatus.FAILED


async def test_failing_compensation_fails_the_execution_naming_it(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    template = wf(
        {"id": "a", "action": "noop", "compensation": {"action": "undo", "params": {"what": "a"}}},
        {
            "id": "b",
            "action": "noop",
            "depends_on": ["a"],
            "compensation": {"action": "undo", "params": {"what": "b", "fail": True}},
        },
        {"id": "c", "depends_on": ["b"], **FAIL},
        rollback_on_failure=True,
    )
    result = await engine.run(template)
    assert result.status is ExecutionStatus.FAILED
    assert result.execution.error.startswith("compensation of step 'b' failed")
    assert result.step("b").compensation["error"] == "PermanentError: cannot undo b"
    assert result.step("a").compensation is None  # stopped at the first failed compensation
    assert undo_log == []


async def test_no_rollback_without_the_policy(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    result = await engine.run(saga(wf, last=FAIL).model_copy(update={"rollback_on_failure": False}))
    assert result.status is ExecutionStatus.FAILED
    assert undo_log == []


async def test_succeeded_execution_is_not_rolled_back(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    result = await engine.run(saga(wf, last={"action": "noop"}))
    assert result.status is ExecutionStatus.SUCCEEDED
    assert undo_log == []


async def test_critical_post_condition_fails_the_step_and_runs_its_compensation(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    result = await engine.run(
        wf(
            {
                "id": "scale",
                "action": "noop",
                "params": {"ready": 2, "wanted": 5},
                "post_conditions": [
                    {
                        "expression": "outputs.ready >= outputs.wanted",
                        "message": "all replicas ready",
                    }
                ],
                "compensation": {"action": "undo", "params": {"what": "scale"}},
            },
            {"id": "after", "action": "noop", "depends_on": ["scale"]},
        )
    )
    step = result.step("scale")
    assert step.status is StepStatus.FAILED
    assert step.error == "post-condition failed: all replicas ready"
    assert undo_log == [("scale", None)]
    assert result.status is ExecutionStatus.FAILED
    assert result.step("after").status is StepStatus.CANCELLED


async def test_non_critical_post_condition_is_a_warning(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf(
            {
                "id": "a",
                "action": "noop",
                "params": {"latency_ms": 900},
                "post_conditions": [{"expression": "outputs.latency_ms < 500", "critical": False}],
            }
        )
    )
    assert result.step("a").status is StepStatus.SUCCEEDED
    assert result.step("a").warnings == ("post-condition failed: outputs.latency_ms < 500",)


async def test_post_condition_expressions_are_validated(engine: Engine, wf: WF) -> None:
    from engine import TemplateError

    with pytest.raises(TemplateError, match="post_conditions"):
        engine.register(
            wf({"id": "a", "action": "noop", "post_conditions": [{"expression": "outputs.x >"}]})
        )


async def test_cancel_with_compensation_rolls_back(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    execution_id = await engine.submit(
        wf(
            {
                "id": "a",
                "action": "noop",
                "compensation": {"action": "undo", "params": {"what": "a"}},
            },
            {"id": "b", "action": "sleep", "params": {"seconds": 60}, "depends_on": ["a"]},
        )
    )
    await asyncio.sleep(10)
    engine.cancel(execution_id, compensate=True)
    result = await engine.wait(execution_id)
    assert result.status is ExecutionStatus.ROLLED_BACK
    assert result.step("b").status is StepStatus.CANCELLED
    assert undo_log == [("a", None)]


async def test_an_actions_own_undo_compensates_when_the_step_declares_none(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    async def resize(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"previous": 3, "now": params["to"]}

    engine.actions.register(
        "resize",
        resize,
        undo=lambda outputs: ("undo", {"what": "resize", "previous": outputs["previous"]}),
    )
    result = await engine.run(
        wf(
            {"id": "grow", "action": "resize", "params": {"to": 8}},
            {"id": "boom", "depends_on": ["grow"], **FAIL},
            rollback_on_failure=True,
        )
    )
    assert result.status is ExecutionStatus.ROLLED_BACK
    assert undo_log == [("resize", 3)]
    assert result.step("grow").compensation["action"] == "undo"


async def test_a_rollback_is_not_held_back_by_the_engine_wide_limit(wf: WF) -> None:
    """Compensations are recovery work and take no slot (see engine/compensation.py).

    A saga fails and frees the only slot, which another execution takes for an hour;
    the saga rolls back at once, one compensation at a time, while that slot stays taken.
    """
    from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        max_concurrency=1,
    )
    undone: list[str] = []

    async def undo(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        undone.append(params["what"])
        await asyncio.sleep(1)
        return {}

    engine.actions.register("undo", undo)
    loop = asyncio.get_running_loop()
    step_a = {
        "id": "a",
        "action": "noop",
        "compensation": {"action": "undo", "params": {"what": "a"}},
    }
    step_b = {
        "id": "b",
        "action": "noop",
        "depends_on": ["a"],
        "compensation": {"action": "undo", "params": {"what": "b"}},
    }
    saga_template = wf(
        step_a, step_b, {"id": "boom", **FAIL, "depends_on": ["b"]}, rollback_on_failure=True
    )
    execution_id = await engine.submit(saga_template)
    hog = await engine.submit(
        wf({"id": "hold", "action": "sleep", "params": {"seconds": 3600}}, name="hog")
    )
    started = loop.time()
    result = await engine.wait(execution_id)
    # The hog took the slot when the saga's last step failed; the rollback ran anyway.
    assert engine.get(hog).step("hold").status is StepStatus.RUNNING
    assert engine.running_steps == 1
    assert result.status is ExecutionStatus.ROLLED_BACK
    assert undone == ["b", "a"]
    assert loop.time() - started == pytest.approx(2)  # two 1 s compensations, one at a time
    await engine.aclose()


async def test_a_diamond_declared_out_of_order_is_undone_in_reverse_dependency_order(
    engine: Engine, wf: WF, undo_log: list[tuple[str, Any]]
) -> None:
    """Document order is the reverse of dependency order here, so reversing the document
    (or the submission order) would undo the root first: only dependency order is right."""

    def step(sid: str, *deps: str) -> dict[str, Any]:
        return {
            "id": sid,
            "action": "noop",
            "depends_on": list(deps),
            "compensation": {"action": "undo", "params": {"what": sid}},
        }

    template = wf(
        {"id": "boom", **FAIL, "depends_on": ["join"]},
        step("join", "left", "right"),
        step("right", "root"),
        step("left", "root"),
        step("root"),
        rollback_on_failure=True,
    )
    result = await engine.run(template)
    assert result.status is ExecutionStatus.ROLLED_BACK
    order = [what for what, _ in undo_log]
    assert sorted(order) == ["join", "left", "right", "root"]
    position = {sid: i for i, sid in enumerate(order)}
    for later, earlier in [
        ("join", "left"),
        ("join", "right"),
        ("left", "root"),
        ("right", "root"),
    ]:
        assert position[later] < position[earlier], order
