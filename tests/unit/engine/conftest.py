"""Fixtures for engine unit tests: a fresh engine on in-memory stores, under virtual time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from engine import Engine, Event, WorkflowTemplate
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = Engine(
        state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=7
    )
    yield eng
    await eng.aclose()


@pytest.fixture
def events(engine: Engine) -> list[Event]:
    """Every event the engine emits during the test, in order."""
    seen: list[Event] = []
    engine.events.subscribe(seen.append)
    return seen


def make_workflow(*steps: dict[str, Any], name: str = "wf", **fields: Any) -> WorkflowTemplate:
    """A template from compact step dicts, as a user would write them in YAML."""
    return WorkflowTemplate.model_validate({"name": name, "steps": list(steps), **fields})


@pytest.fixture
def wf() -> Callable[..., WorkflowTemplate]:
    return make_workflow
