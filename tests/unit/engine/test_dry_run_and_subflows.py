"""Dry runs mutate nothing; subflows run child executions and expose their outputs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine import ActionContext, Engine, ExecutionStatus, StepStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


async def test_dry_run_validates_and_reports_without_mutating(engine: Engine, wf: WF) -> None:
    mutations: list[str] = []

    async def scale(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        mutations.append(params["deployment"])
        return {"replicas": params["replicas"]}

    async def scale_dry(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        assert ctx.dry_run
        return {"would_scale": params["deployment"], "to": params["replicas"]}

    engine.actions.register("scale", scale, dry_run=scale_dry)
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await engine.run(
        wf(
            {"id": "scale", "action": "scale", "params": {"deployment": "api", "replicas": 5}},
            {"id": "wait", "action": "sleep", "params": {"seconds": 300}, "depends_on": ["scale"]},
            {
                "id": "tell",
                "action": "log",
                "params": {"message": "to ${{ steps.scale.outputs.to }}"},
                "depends_on": ["wait"],
            },
        ),
        dry_run=True,
    )
    assert mutations == []
    assert result.execution.dry_run is True
    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.step("scale").outputs == {"would_scale": "api", "to": 5}
    assert result.step("wait").outputs == {"slept": 0.0, "would_sleep": 300.0}
    assert result.step("tell").outputs == {
        "dry_run": True,
        "action": "log",
        "params": {"message": "to 5", "level": "info"},
    }
    assert loop.time() - start < 1


async def test_subflow_runs_a_child_and_exposes_its_outputs(engine: Engine, wf: WF) -> None:
    engine.register(
        wf(
            {"id": "inner", "action": "noop", "params": {"echo": "${{ inputs.x }}"}},
            name="child",
            inputs={"x": {"type": "integer"}},
        )
    )
    result = await engine.run(
        wf(
            {
                "id": "call",
                "action": "subflow",
                "params": {"template": "child", "inputs": {"x": 7}},
            },
            {
                "id": "use",
                "action": "noop",
                "depends_on": ["call"],
                "params": {"got": "${{ steps.call.outputs.outputs.inner.echo }}"},
            },
            name="parent",
        )
    )
    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.step("use").outputs == {"got": 7}
    child_id = result.step("call").outputs["execution_id"]
    child = engine.get(child_id)
    assert child.execution.parent_id == result.execution.execution_id
    assert child.execution.workflow == "child"
    assert child.execution.version == 1


async def test_failed_subflow_fails_the_parent_step(engine: Engine, wf: WF) -> None:
    engine.register(
        wf(
            {"id": "boom", "action": "fail_with_probability", "params": {"probability": 1}},
            name="child",
        )
    )
    result = await engine.run(
        wf({"id": "call", "action": "subflow", "params": {"template": "child"}}, name="parent")
    )
    step = result.step("call")
    assert step.status is StepStatus.FAILED
    assert "ended Failed" in step.error


async def test_cancelling_the_parent_cancels_the_child(engine: Engine, wf: WF) -> None:
    engine.register(wf({"id": "long", "action": "sleep", "params": {"seconds": 600}}, name="child"))
    parent = await engine.submit(
        wf({"id": "call", "action": "subflow", "params": {"template": "child"}}, name="parent")
    )
    await asyncio.sleep(30)
    [child] = [i for i in engine.active_executions() if i != parent]
    engine.cancel(parent)
    assert (await engine.wait(parent)).status is ExecutionStatus.CANCELLED
    assert (await engine.wait(child)).status is ExecutionStatus.CANCELLED


async def test_unknown_and_self_starting_subflows_fail_clearly(engine: Engine, wf: WF) -> None:
    result = await engine.run(
        wf({"id": "call", "action": "subflow", "params": {"template": "nope"}}, name="p1")
    )
    assert "no template named 'nope'" in result.step("call").error
    result = await engine.run(
        wf({"id": "again", "action": "subflow", "params": {"template": "loop"}}, name="loop")
    )
    assert result.status is ExecutionStatus.FAILED
    assert "nest deeper than 16 levels" in result.step("again").error  # the innermost cause
    assert len(engine.repository.list(workflow="loop")) == 17  # the top one and 16 nested


async def test_versioned_templates_keep_running_executions_on_their_version(
    engine: Engine, wf: WF
) -> None:
    v1 = wf({"id": "a", "action": "sleep", "params": {"seconds": 50}}, name="svc")
    running = await engine.submit(v1)
    engine.register(wf({"id": "b", "action": "noop"}, name="svc", version=2))
    newer = await engine.run("svc")
    old = await engine.wait(running)
    assert (old.execution.version, list(old.steps)) == (1, ["a"])
    assert (newer.execution.version, list(newer.steps)) == (2, ["b"])


def limited_engine(limit: int, running: list[int], peak: list[int]) -> Engine:
    """An engine at ``limit`` with a ``work`` action that records how many run at once."""
    from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        max_concurrency=limit,
    )

    async def work(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        try:
            await asyncio.sleep(10)
        finally:
            running[0] -= 1
        return {"done": ctx.step_id}

    engine.actions.register("work", work)
    return engine


@pytest.mark.parametrize("limit", [1, 3])
async def test_subflow_steps_do_not_deadlock_an_engine_wide_limit(limit: int, wf: WF) -> None:
    """N subflow steps at a limit of N: each waits on a child whose steps need a slot."""
    running, peak = [0], [0]
    engine = limited_engine(limit, running, peak)
    engine.register(
        wf(
            {"id": "a", "action": "work"},
            {"id": "b", "action": "work", "depends_on": ["a"]},
            name="child",
        )
    )
    parent = wf(
        *(
            {"id": f"call{i}", "action": "subflow", "params": {"template": "child"}}
            for i in range(limit)
        ),
        name="parent",
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(3600):
        result = await engine.run(parent)
    assert result.status is ExecutionStatus.SUCCEEDED, result.statuses()
    assert peak[0] == limit  # the children's action steps never exceed the limit...
    assert loop.time() - start == pytest.approx(20)  # the children ran side by side
    await engine.aclose()


async def test_nested_subflows_run_at_a_limit_of_one(wf: WF) -> None:
    running, peak = [0], [0]
    engine = limited_engine(1, running, peak)
    engine.register(wf({"id": "leaf", "action": "work"}, name="inner"))
    engine.register(
        wf(
            {"id": "down", "action": "subflow", "params": {"template": "inner"}},
            {"id": "after", "action": "work", "depends_on": ["down"]},
            name="middle",
        )
    )
    outer = wf({"id": "call", "action": "subflow", "params": {"template": "middle"}}, name="outer")
    async with asyncio.timeout(3600):
        result = await engine.run(outer)
    assert result.status is ExecutionStatus.SUCCEEDED, result.statuses()
    assert peak[0] == 1
    assert engine.running_steps == 0
    await engine.aclose()
