"""Dead letters and replay; idempotent submission."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import Engine, EngineError, ExecutionStatus, WorkflowTemplate

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]
WF = Callable[..., WorkflowTemplate]


async def test_failed_execution_is_dead_lettered_and_replayed_once(engine: Engine, wf: WF) -> None:
    template = wf(
        {
            "id": "flaky",
            "action": "fail_with_probability",
            "params": {"probability": "${{ inputs.p }}"},
            "retry": {"max_attempts": 3, "delay": 1},
        },
        inputs={"p": {"type": "number"}},
    )
    failed = await engine.run(template, {"p": 1.0})
    assert failed.status is ExecutionStatus.FAILED
    [letter] = engine.dead_letters.list()
    assert (letter.execution_id, letter.step_id, letter.attempts) == (
        failed.execution.execution_id,
        "flaky",
        3,
    )
    assert letter.error == "TransientError: injected failure (attempt 3)"
    replay_id = await engine.replay(letter.execution_id)
    replay = await engine.wait(replay_id)
    assert replay.execution.replay_of == letter.execution_id
    assert replay.execution.inputs == {"p": 1.0}
    assert engine.dead_letters.list() == [
        engine.dead_letters.list(include_replayed=True)[1]
    ]  # the replay failed too
    assert engine.dead_letters.get(letter.execution_id).replayed_by == replay_id
    with pytest.raises(EngineError, match="already replayed"):
        await engine.replay(letter.execution_id)


async def test_succeeded_and_cancelled_executions_are_not_dead_lettered(
    engine: Engine, wf: WF
) -> None:
    await engine.run(wf({"id": "a", "action": "noop"}))
    execution_id = await engine.submit(
        wf({"id": "s", "action": "sleep", "params": {"seconds": 9}}, name="slow")
    )
    engine.cancel(execution_id)
    await engine.wait(execution_id)
    assert engine.dead_letters.list() == []
    with pytest.raises(EngineError, match="not in the dead-letter queue"):
        await engine.replay(execution_id)


async def test_idempotency_key_returns_the_first_execution(engine: Engine, wf: WF) -> None:
    template = wf({"id": "a", "action": "sleep", "params": {"seconds": 5}})
    first = await engine.submit(template, idempotency_key="incident-42")
    again = await engine.submit(template, idempotency_key="incident-42")
    assert again == first
    await engine.wait(first)
    assert await engine.submit(template, idempotency_key="incident-42") == first
    assert len(engine.repository.list()) == 1
    other = wf({"id": "a", "action": "noop"}, name="other")
    with pytest.raises(EngineError, match="was used for workflow 'wf'"):
        await engine.submit(other, idempotency_key="incident-42")
