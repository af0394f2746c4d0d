"""Actions a scenario uses to give its workflow a shape: work that takes time, fails on cue.

The engine is real; what its steps *do* in a feature is often only "take 10 seconds" or
"fail twice, then succeed". These actions do exactly that, deterministically, and log
every call, so a scenario can assert on what really ran (which steps, which attempts,
at what virtual time) rather than on what the engine says about itself.

===============  ==========================================================  ==========
action           what it does                                                idempotent
===============  ==========================================================  ==========
``work``         waits ``seconds`` (default 0); outputs ``params.outputs``   yes
                 (or the params); fails permanently if ``fail: true``
``work_once``    the same, but not idempotent (crash recovery will not       no
                 re-run it: it fails the step as ``interrupted``)
``flaky``        fails the first ``failures`` attempts (retryable unless     yes
                 ``retryable: false``), then succeeds; may wait ``seconds``
===============  ==========================================================  ==========

Every call is appended to the testbed's :class:`ActionLog`, with its virtual start and
end, which survives an engine crash (the log belongs to the testbed, not the engine).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from engine import ActionContext, ActionRegistry, PermanentError, TransientError


@dataclass
class ActionCall:
    """One call of a test action."""

    action: str
    execution_id: str
    step_id: str
    attempt: int
    started_at: float
    finished_at: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class ActionLog:
    """Every test-action call of a testbed, in start order."""

    calls: list[ActionCall] = field(default_factory=list)

    def of(self, step_id: str, execution_id: str | None = None) -> list[ActionCall]:
        return [
            c
            for c in self.calls
            if c.step_id == step_id and (execution_id is None or c.execution_id == execution_id)
        ]


class _Params(BaseModel):
    model_config = ConfigDict(extra="allow")

    seconds: Annotated[float, Field(ge=0, le=604_800)] = 0.0


class WorkParams(_Params):
    outputs: dict[str, Any] | None = None
    fail: bool = False
    message: str = "work failed"


class FlakyParams(_Params):
    failures: Annotated[int, Field(ge=0)] = 1
    retryable: bool = True
    message: str = "flaky failure"


def register_test_actions(registry: ActionRegistry, log: ActionLog) -> ActionRegistry:
    """Add ``work``, ``work_once`` and ``flaky`` to ``registry``, logging into ``log``."""

    async def logged(
        name: str, ctx: ActionContext, params: Mapping[str, Any], body: Any
    ) -> Mapping[str, Any]:
        loop = asyncio.get_running_loop()
        call = ActionCall(
            name, ctx.execution_id, ctx.step_id, ctx.attempt, loop.time(), None, params
        )
        log.calls.append(call)
        try:
            seconds = float(params.get("seconds", 0) or 0)
            if seconds:
                await asyncio.sleep(seconds)
            result: Mapping[str, Any] = body()
            return result
        except Exception as exc:
            call.error = str(exc)
            raise
        finally:
            call.finished_at = loop.time()

    def work_body(ctx: ActionContext, params: Mapping[str, Any]) -> Any:
        def body() -> Mapping[str, Any]:
            if params.get("fail"):
                raise PermanentError(str(params.get("message", "work failed")))
            outputs = params.get("outputs")
            if outputs is not None:
                return dict(outputs)
            return dict(params)

        return body

    async def work(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return await logged("work", ctx, params, work_body(ctx, params))

    async def work_once(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return await logged("work_once", ctx, params, work_body(ctx, params))

    async def flaky(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        def body() -> Mapping[str, Any]:
            if ctx.attempt <= int(params.get("failures", 1)):
                error = TransientError if params.get("retryable", True) else PermanentError
                raise error(f"{params.get('message', 'flaky failure')} (attempt {ctx.attempt})")
            return {"attempt": ctx.attempt}

        return await logged("flaky", ctx, params, body)

    async def dry_work(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"dry_run": True}

    registry.register(
        "work",
        work,
        params_model=WorkParams,
        idempotent=True,
        description="Wait some virtual seconds and return outputs (or fail on cue).",
        dry_run=dry_work,
    )
    registry.register(
        "work_once",
        work_once,
        params_model=WorkParams,
        idempotent=False,
        description="Like work, but not safe to run twice.",
        dry_run=dry_work,
    )
    registry.register(
        "flaky",
        flaky,
        params_model=FlakyParams,
        idempotent=True,
        description="Fail the first N attempts, then succeed.",
    )
    return registry
