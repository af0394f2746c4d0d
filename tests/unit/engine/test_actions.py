"""The action registry and the built-in actions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from engine import ActionContext, ActionRegistry, PermanentError, TransientError, default_registry
from engine.builtin_actions import fail_with_probability, log


def test_registry_refuses_duplicate_names_and_lists_builtins() -> None:
    registry = default_registry()
    assert registry.names() == ["fail_with_probability", "log", "noop", "sleep", "subflow"]
    with pytest.raises(ValueError, match="already registered"):
        registry.register("noop", fail_with_probability)


def test_decorator_registration_uses_the_docstring() -> None:
    registry = ActionRegistry()

    @registry.action("greet", idempotent=True)
    async def greet(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """Say hello.

        More text.
        """
        return {"hello": params.get("who", "world")}

    spec = registry.get("greet")
    assert spec is not None
    assert spec.description == "Say hello."
    assert spec.idempotent
    assert "greet" in registry


@pytest.mark.asyncio
async def test_fail_with_probability_is_seeded_per_attempt() -> None:
    async def outcome(attempt: int) -> str:
        ctx = ActionContext("exec", "step", attempt, {}, seed=3)
        try:
            await fail_with_probability(ctx, {"probability": 0.5})
        except TransientError:
            return "fail"
        return "ok"

    first = [await outcome(a) for a in range(1, 30)]
    second = [await outcome(a) for a in range(1, 30)]
    assert first == second
    assert {"ok", "fail"} == set(first)
    with pytest.raises(PermanentError):
        await fail_with_probability(
            ActionContext("e", "s", 1, {}, 0), {"probability": 1, "retryable": False}
        )


@pytest.mark.asyncio
async def test_log_writes_to_the_workflow_logger(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="windtunnel.workflow"):
        out = await log(ActionContext("e1", "s1", 1, {}, 0), {"message": "draining node-2"})
    assert out == {"message": "draining node-2"}
    assert "[e1/s1] draining node-2" in caplog.text
