"""The real engine on the SQLite store, in virtual time: what it records survives reopening."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from engine import ActionContext, Engine, ExecutionStatus, StepStatus, WorkflowTemplate
from engine.sqlite_store import CommitPolicy, SqliteStore
from engine.storage import StoreError

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


def _workflow() -> WorkflowTemplate:
    steps: list[dict[str, Any]] = [
        {"id": "check", "action": "noop", "params": {"replicas": 3, "name": "web"}},
        {
            "id": "flaky",
            "action": "fail_with_probability",
            "params": {"probability": 1},
            "retry": {"max_attempts": 3, "delay": 30},
            "depends_on": ["check"],
            "allow_failure": True,
        },
        {"id": "wait", "action": "sleep", "params": {"seconds": 300}, "depends_on": ["check"]},
        {"id": "after", "action": "noop", "depends_on": ["flaky"]},
        {
            "id": "report",
            "action": "noop",
            "params": {"seen": "${{ steps.check.outputs.replicas }}"},
            "depends_on": ["wait"],
        },
    ]
    return WorkflowTemplate.model_validate(
        {"name": "remediate", "steps": steps, "failure_policy": "continue"}
    )


@pytest.mark.parametrize("commit", ["save", "tick"])
async def test_a_run_reloads_identically_from_the_reopened_file(
    tmp_path: Path, commit: str
) -> None:
    path = tmp_path / "engine.db"
    with SqliteStore(path, commit=commit) as store:  # type: ignore[arg-type]
        engine = Engine(state_storage=store, repository=store, seed=3)
        result = await engine.run(_workflow(), {})
        others = [await engine.run(_workflow(), {}) for _ in range(2)]
        await engine.aclose()
    assert result.status is ExecutionStatus.SUCCEEDED  # flaky is allowed to fail
    assert result.statuses() == {
        "check": StepStatus.SUCCEEDED,
        "flaky": StepStatus.FAILED,
        "wait": StepStatus.SUCCEEDED,
        "after": StepStatus.SKIPPED,
        "report": StepStatus.SUCCEEDED,
    }
    assert len(result.step("flaky").attempts) == 3
    assert result.step("wait").finished_at - result.step("wait").started_at == pytest.approx(300)  # type: ignore[operator]

    with SqliteStore(path) as reopened:
        reloaded = reopened.load(result.execution.execution_id)
        assert reloaded == result
        assert reopened.get(result.execution.execution_id) == result.execution
        history = reopened.list(workflow="remediate")
        assert [r.execution_id for r in history] == [
            r.execution.execution_id for r in [result, *others]
        ]
        assert reopened.execution_ids([ExecutionStatus.RUNNING, ExecutionStatus.PENDING]) == []


async def test_a_store_that_cannot_write_fails_the_submission_visibly(tmp_path: Path) -> None:
    path = tmp_path / "engine.db"
    with SqliteStore(path, max_bytes=64 * 1024) as store:
        engine = Engine(state_storage=store, repository=store)
        with pytest.raises(StoreError, match="full"):
            await engine.submit(_workflow(), {"pad": "x"}, execution_id="x" * 200_000)
        assert store.list() == []
        await engine.aclose()


@pytest.mark.parametrize("commit", ["tick", "save"])
async def test_a_write_that_fails_mid_run_fails_the_execution_visibly(
    tmp_path: Path, commit: CommitPolicy
) -> None:
    path = tmp_path / "engine.db"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        with SqliteStore(path, busy_timeout=0.05, commit=commit) as store:
            engine = Engine(state_storage=store, repository=store)
            execution_id = await engine.submit(_workflow(), {})
            other.execute("BEGIN EXCLUSIVE")  # the first step's Running write cannot commit
            try:
                with pytest.raises(StoreError, match="write lock"):
                    async with asyncio.timeout(3600):
                        await engine.wait(execution_id)
            finally:
                other.execute("ROLLBACK")
            assert engine.active_executions() == []
    finally:
        other.close()


@pytest.mark.parametrize("commit", ["tick", "save"])
async def test_no_action_acts_on_a_running_record_that_failed_to_commit(
    tmp_path: Path, commit: CommitPolicy
) -> None:
    """A per-tick commit runs before the next step's task, but it may fail: then no act."""
    path = tmp_path / "engine.db"
    acted: list[str] = []

    async def act(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        acted.append(ctx.step_id)
        return {}

    template = WorkflowTemplate.model_validate(
        {
            "name": "gated",
            "steps": [
                {"id": "gate", "action": "sleep", "params": {"seconds": 5}},
                {"id": "act", "action": "act", "depends_on": ["gate"]},
            ],
        }
    )
    other = sqlite3.connect(path, isolation_level=None)
    try:
        with SqliteStore(path, busy_timeout=0.05, commit=commit) as store:
            engine = Engine(state_storage=store, repository=store)
            engine.actions.register("act", act)
            execution_id = await engine.submit(template, {})
            await asyncio.sleep(1)  # gate is running, its record committed
            other.execute("BEGIN EXCLUSIVE")  # gate's end and act's start cannot commit
            try:
                with pytest.raises(StoreError, match="write lock"):
                    async with asyncio.timeout(3600):
                        await engine.wait(execution_id)
            finally:
                other.execute("ROLLBACK")
        assert acted == []
    finally:
        other.close()
    with SqliteStore(path) as store:
        state = store.load(execution_id)
    assert state is not None
    assert state.step("gate").status is StepStatus.RUNNING  # what was last committed
    assert "act" not in state.steps or state.step("act").status is StepStatus.PENDING
