"""The Gherkin step library: reusable steps in business language, and async steps.

The plugin registers every ``*_steps`` module of this package (:func:`step_modules`),
so their steps are available to any feature. ``windtunnel steps`` prints the catalogue,
each step with an example.

Write your own steps with pytest-bdd as usual; for an ``async def`` step, add
:func:`async_step` under the step decorator, and take the ``world`` fixture to reach
the scenario's testbed (``world.bed()``) and memory::

    from pytest_bdd import parsers, then
    from harness.steps import async_step
    from harness.world import World

    @then(parsers.parse('the deployment "{name}" is ready'))
    @async_step
    async def deployment_ready(world: World, name: str) -> None:
        ...
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from harness.steps.asyncio_steps import AsyncStepError, async_step


def step_modules() -> list[ModuleType]:
    """Every ``harness.steps.*_steps`` module, imported, in name order.

    Adding a module of steps is adding a file: the plugin registers what this finds.
    """
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if info.name.endswith("_steps") and info.name != "asyncio_steps"
    )
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


__all__ = ["AsyncStepError", "async_step", "step_modules"]
