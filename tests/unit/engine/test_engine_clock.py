"""Recorded times come from the running loop's clock, whatever the loop does to it."""

from __future__ import annotations

import asyncio
import time

from engine import Engine, WorkflowTemplate
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage


def test_a_loop_whose_time_is_replaced_on_the_instance_is_the_clock() -> None:
    loop = asyncio.new_event_loop()
    stock = loop.time
    loop.time = lambda: stock() + 10_000.0  # type: ignore[method-assign]
    template = WorkflowTemplate.model_validate(
        {"name": "t", "steps": [{"id": "a", "action": "noop"}]}
    )

    async def main() -> tuple[float, float | None, float]:
        engine = Engine(
            state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository()
        )
        before = loop.time()
        result = await engine.run(template)
        return before, result.step("a").started_at, loop.time()

    try:
        before, started, after = loop.run_until_complete(main())
    finally:
        loop.close()
    assert started is not None
    assert before <= started <= after
    assert started - time.monotonic() > 9_000  # not the bare monotonic clock
