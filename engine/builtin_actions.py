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
from engine.errors import EngineError, PermanentError, TemplateError, TransientError

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


class SubflowParams(_Params):
    template: Annotated[str, Field(min_length=1)]
    version: Annotated[int, Field(ge=1)] | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)


MAX_SUBFLOW_DEPTH = 16


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


async def subflow(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Run a registered template as a child execution and wait for it.

    The wait is on the child's completion future (no polling); cancelling the parent's
    step cancels the child. Outputs: the child's id, status and every step's outputs.
    """
    engine = ctx.engine
    if engine is None:
        raise PermanentError("the subflow action needs the engine in its context")
    depth = 0
    parent: str | None = ctx.execution_id
    while parent is not None:
        depth += 1
        if depth > MAX_SUBFLOW_DEPTH:
            raise PermanentError(
                f"subflows nest deeper than {MAX_SUBFLOW_DEPTH} levels; does template "
                f"'{params['template']}' start itself?"
            )
        parent = engine.get(parent).execution.parent_id
    # Waiting on the child holds no engine-wide slot (see Engine.slot_released): the
    # child's steps need one, and a parent holding it would deadlock a limit of 1.
    with engine.slot_released():
        return await _run_child(engine, ctx, params)


async def _run_child(
    engine: Any, ctx: ActionContext, params: Mapping[str, Any]
) -> Mapping[str, Any]:
    try:
        child = await engine.submit(
            params["template"],
            params.get("inputs") or {},
            version=params.get("version"),
            execution_id=f"{ctx.execution_id}/{ctx.step_id}/{ctx.attempt}",
            parent_id=ctx.execution_id,
            dry_run=ctx.dry_run,
        )
    except (EngineError, TemplateError) as exc:
        raise PermanentError(f"subflow could not start: {exc}") from exc
    try:
        result = await engine.wait(child)
    except asyncio.CancelledError:
        if child in engine.active_executions():
            engine.cancel(child)
            await engine.wait(child)
        raise
    status = str(result.status)
    outputs = {
        "execution_id": child,
        "status": status,
        "outputs": {sid: dict(rec.outputs) for sid, rec in result.steps.items() if rec.outputs},
    }
    if status != "Succeeded":
        raise PermanentError(
            f"subflow '{params['template']}' (execution {child}) ended {status}: "
            f"{result.execution.error}"
        )
    return outputs


async def _sleep_dry_run(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"slept": 0.0, "would_sleep": float(params["seconds"])}


def register_builtin_actions(registry: ActionRegistry) -> ActionRegistry:
    """Add the generic actions to ``registry`` and return it."""
    registry.register(
        "noop", noop, idempotent=True, description="Do nothing; echo params.", dry_run=noop
    )
    registry.register(
        "sleep",
        sleep,
        params_model=SleepParams,
        idempotent=True,
        description="Wait a number of seconds.",
        dry_run=_sleep_dry_run,
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
    registry.register(
        "subflow",
        subflow,
        params_model=SubflowParams,
        description="Run a registered template as a child execution.",
        dry_run=subflow,
    )
    return registry


def default_registry() -> ActionRegistry:
    """A fresh registry holding the built-in actions."""
    return register_builtin_actions(ActionRegistry())
