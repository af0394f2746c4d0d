"""Fixtures for the store tests: every implementation of the persistence protocols.

The contract tests take ``stores`` and run once per implementation, so the in-memory
fakes and the SQLite store are held to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from engine import ExecutionRecord, ExecutionRepository, ExecutionStatus, StateStorage
from engine.sqlite_store import SqliteStore
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage


class Stores(NamedTuple):
    state: StateStorage
    repo: ExecutionRepository
    kind: str


@pytest.fixture(params=["memory", "sqlite-save", "sqlite-tick"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    kind: str = request.param
    if kind == "memory":
        yield Stores(InMemoryStateStorage(), InMemoryExecutionRepository(), kind)
        return
    with SqliteStore(tmp_path / "store.db", commit=kind.removeprefix("sqlite-")) as store:  # type: ignore[arg-type]
        yield Stores(store, store, kind)


def execution(
    execution_id: str = "e1",
    *,
    workflow: str = "wf",
    status: ExecutionStatus = ExecutionStatus.RUNNING,
    created_at: float = 1.0,
    **fields: object,
) -> ExecutionRecord:
    """An execution record with defaults for what a test does not care about."""
    return ExecutionRecord(
        execution_id,
        workflow,
        fields.pop("version", 1),  # type: ignore[arg-type]
        status,
        fields.pop("inputs", {"replicas": 3}),  # type: ignore[arg-type]
        created_at,
        **fields,  # type: ignore[arg-type]
    )
