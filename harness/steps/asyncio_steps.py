"""Async steps that really run: :func:`async_step`, and a loud error for those that do not.

pytest-bdd calls step functions and uses what they return; an ``async def`` step
returns a coroutine that nobody awaits, so its body never runs and a failing ``Then``
*passes* (with only a "never awaited" warning). Write async steps like this::

    from pytest_bdd import then
    from harness.steps import async_step

    @then("the rollout finishes")
    @async_step
    async def rollout_finishes(world: World) -> None:
        await world.wait_for(world.execution_id())

:func:`async_step` turns the coroutine function into a plain step that runs it to the
end on the scenario's own event loop (``world.loop``, virtual time), so everything the
scenario started (engine executions, the cluster's controllers) moves while it awaits.
It needs no pytest-asyncio fixture. The plugin refuses any ``async def`` step that is
not wrapped (:func:`refuse_unwrapped`), naming the step and the fix.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

WORLD = "world"


class AsyncStepError(TypeError):
    """An ``async def`` step was registered without :func:`async_step`."""


def async_step(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """A sync step function that runs ``fn`` on the scenario's loop (see module docstring)."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"async_step wraps an 'async def' step; {fn.__qualname__} is not one")
    signature = inspect.signature(fn)
    wants_world = WORLD in signature.parameters
    parameters = list(signature.parameters.values())
    if not wants_world:
        parameters.insert(0, inspect.Parameter(WORLD, inspect.Parameter.POSITIONAL_OR_KEYWORD))

    @functools.wraps(fn)
    def run(**kwargs: Any) -> Any:
        world = kwargs[WORLD] if wants_world else kwargs.pop(WORLD)
        return world.run(fn(**kwargs))

    # pytest-bdd asks the signature which fixtures to pass: the world must be among them.
    # (Keyword-only parameters are not fixtures to pytest-bdd, so list it positionally.)
    parameters = [
        p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if p.kind is inspect.Parameter.KEYWORD_ONLY
        else p
        for p in parameters
    ]
    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    run.__windtunnel_async__ = True  # type: ignore[attr-defined]
    return run


def refuse_unwrapped(step_func: Callable[..., Any], step_text: str) -> None:
    """Raise :class:`AsyncStepError` if ``step_func`` is an unwrapped coroutine function."""
    if inspect.iscoroutinefunction(step_func) or inspect.isasyncgenfunction(step_func):
        where = f"{inspect.getsourcefile(step_func)}:{step_func.__code__.co_firstlineno}"
        raise AsyncStepError(
            f"step {step_text!r} is implemented by 'async def {step_func.__qualname__}' "
            f"({where}), which pytest-bdd "
            "never awaits: its body would not run and the step would pass unchecked. "
            "Decorate it with @harness.steps.async_step (under @given/@when/@then) so it "
            "runs on the scenario's event loop."
        )
