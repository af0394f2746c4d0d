"""Graceful drain: running steps end and persist, executions pause, the next start resumes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine import Engine, ExecutionStatus, StepStatus, WorkflowTemplate
from engine.service import (
    MemoryServiceStore,
    SqliteServiceStore,
    drain,
    resume_drained,
    service_store_path,
)

STEPPED = WorkflowTemplate.model_validate(
    {
        "name": "stepped",
        "steps": [
            {"id": "first", "action": "sleep", "params": {"seconds": 5}},
            {"id": "second", "action": "noop", "depends_on": ["first"]},
        ],
    }
)
ENDLESS = WorkflowTemplate.model_validate(
    {"name": "endless", "steps": [{"id": "wait", "action": "sleep", "params": {"seconds": 600}}]}
)


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_a_drain_lets_running_steps_finish_and_pauses_the_rest(engine: Engine) -> None:
    store = MemoryServiceStore()
    running = await engine.submit(STEPPED)
    held = await engine.submit(STEPPED)
    engine.pause(held)  # a client's pause: not the drain's to undo
    loop = asyncio.get_running_loop()
    start = loop.time()

    report = await drain(engine, store, timeout=60)

    assert loop.time() - start == pytest.approx(5)  # waited for the step, not the timeout
    assert (report.paused, report.left_running) == (1, 0)
    assert store.drained() == [running]
    state = engine.get(running)
    assert state.status is ExecutionStatus.PAUSED
    assert state.step("first").status is StepStatus.SUCCEEDED
    assert state.step("second").status is StepStatus.PENDING

    assert resume_drained(engine, store) == [running]
    assert store.drained() == []
    assert (await engine.wait(running)).status is ExecutionStatus.SUCCEEDED
    assert engine.get(held).status is ExecutionStatus.PAUSED
    engine.resume(held)
    assert (await engine.wait(held)).status is ExecutionStatus.SUCCEEDED


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_a_drain_gives_up_on_steps_that_outlast_its_timeout(engine: Engine) -> None:
    await engine.submit(ENDLESS)
    loop = asyncio.get_running_loop()
    start = loop.time()
    report = await drain(engine, MemoryServiceStore(), timeout=10)
    assert loop.time() - start == pytest.approx(10)
    assert (report.paused, report.left_running) == (1, 1)


@pytest.mark.asyncio
async def test_an_idle_engine_drains_at_once(engine: Engine) -> None:
    report = await drain(engine, MemoryServiceStore(), timeout=10)
    assert (report.paused, report.left_running) == (0, 0)


def test_the_service_store_keeps_templates_and_the_drained_set(tmp_path: Path) -> None:
    path = service_store_path(tmp_path / "engine.sqlite")
    assert path == tmp_path / "engine.service.sqlite"
    store = SqliteServiceStore(path)
    store.add_template("a", 1, {"name": "a", "version": 1})
    store.add_template("a", 1, {"name": "a", "version": 1, "changed": True})  # kept as first
    store.add_template("b", 2, {"name": "b", "version": 2})
    store.set_drained(["x", "y"])
    assert store.probe() is None
    store.close()
    reopened = SqliteServiceStore(path)
    assert reopened.templates() == [{"name": "a", "version": 1}, {"name": "b", "version": 2}]
    assert sorted(reopened.drained()) == ["x", "y"]
    reopened.close()


def test_a_service_store_that_is_not_one_is_refused(tmp_path: Path) -> None:
    from engine import StoreError

    path = tmp_path / "engine.service.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="move it aside"):
        SqliteServiceStore(path)
