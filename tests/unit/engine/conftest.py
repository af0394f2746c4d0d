"""Fixtures for engine unit tests: a fresh engine on in-memory stores, under virtual time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from engine import Engine
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = Engine(
        state_storage=InMemoryStateStorage(), repository=InMemoryExecutionRepository(), seed=7
    )
    yield eng
    await eng.aclose()
