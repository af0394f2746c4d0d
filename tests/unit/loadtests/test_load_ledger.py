"""The loss check counts what the engine's SQLite stores hold, not what Locust saw."""

from __future__ import annotations

from pathlib import Path

from engine import ExecutionRecord, ExecutionStatus, SqliteStore
from loadtests.ledger import count_stores


def store(path: Path, statuses: list[ExecutionStatus]) -> None:
    with SqliteStore(path, commit="save") as s:
        for i, status in enumerate(statuses):
            record = ExecutionRecord(
                execution_id=f"{path.stem}-{i}",
                workflow="w",
                version=1,
                status=status,
                inputs={},
                created_at=float(i),
            )
            s.store(record)


def test_every_store_is_counted_and_unfinished_ids_listed(tmp_path: Path) -> None:
    store(tmp_path / "a.sqlite", [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED])
    store(tmp_path / "b.sqlite", [ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED])
    count = count_stores(sorted(tmp_path.glob("*.sqlite")))
    assert (count.submitted, count.terminal, count.lost) == (4, 3, 1)
    assert count.unfinished == ("b-0",)
    assert len(count.stores) == 2
    assert count.as_dict()["lost"] == 1


def test_paused_and_pending_executions_are_not_terminal(tmp_path: Path) -> None:
    store(tmp_path / "a.sqlite", [ExecutionStatus.PAUSED, ExecutionStatus.PENDING])
    assert count_stores([tmp_path / "a.sqlite"]).lost == 2


def test_no_store_no_executions() -> None:
    count = count_stores([])
    assert (count.submitted, count.terminal, count.lost) == (0, 0, 0)
