"""Generic built-in actions: noop, sleep, log and a seeded fail_with_probability.

They are what tests, benchmarks and demos build workflows from; the Kubernetes
remediation actions live in their own modules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.actions import ActionContext, ActionRegistry
from engine.errors import PermanentError, TransientError

logger = logging.getLogger("windtunnel.workflow")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SleepParams(_Params):
    seconds: Annotated[float, Field(ge=0, le=604_800)]


class LogParams(_Params):
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"


class FailParams(_Params):
    probability: Annotated[float, Field(ge=0, le=1)]
    retryable: bool = True
    message: str = "injected failure"


async def noop(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Do nothing; the outputs are the parameters, which makes data passing easy to test."""
    return params


async def sleep(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Wait ``seconds`` of loop time (virtual under test)."""
    seconds = float(params["seconds"])
    await asyncio.sleep(seconds)
    return {"slept": seconds}


async def log(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Write ``message`` to the ``windtunnel.workflow`` logger."""
    level = logging.getLevelName(str(params.get("level", "info")).upper())
    logger.log(level, "[%s/%s] %s", ctx.execution_id, ctx.step_id, params["message"])
    return {"message": params["message"]}


async def fail_with_probability(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Fail with the given probability, drawn from the attempt's seeded generator."""
    if ctx.rng.random() < float(params["probability"]):
        error = TransientError if params.get("retryable", True) else PermanentError
        raise error(f"{params.get('message', 'injected failure')} (attempt {ctx.attempt})")
    return {"attempt": ctx.attempt}


def register_builtin_actions(registry: ActionRegistry) -> ActionRegistry:
    """Add the generic actions to ``registry`` and return it."""
    registry.register("noop", noop, idempotent=True, description="Do nothing; echo params.")
    registry.register(
        "sleep",
        sleep,
        params_model=SleepParams,
        idempotent=True,
        description="Wait a number of seconds.",
    )
    registry.register(
        "log", log, params_model=LogParams, idempotent=True, description="Log a message."
    )
    registry.register(
        "fail_with_probability",
        fail_with_probability,
        params_model=FailParams,
        idempotent=True,
        description="Fail with a seeded probability.",
    )
    return registry


def default_registry() -> ActionRegistry:
    """A fresh registry holding the built-in actions."""
    return register_builtin_actions(ActionRegistry())
