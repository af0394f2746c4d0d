"""What only the SQLite store does: files, schema versions, faults, per-tick commits."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from engine import AttemptRecord, ExecutionStatus, StepRecord, StepStatus
from engine.sqlite_schema import MIGRATIONS, Migration, open_database
from engine.sqlite_store import SqliteStore
from engine.storage import StoreError

from .conftest import execution


def _committed_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """What another connection (another process, a restarted engine) would read."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _seed(path: Path) -> None:
    with SqliteStore(path) as store:
        store.save("e1", execution(), [StepRecord("a", StepStatus.SUCCEEDED, outputs={"n": 1})])


# ---------------------------------------------------------------------- files and schema


def test_a_reopened_store_has_everything_and_is_wal_at_version_1(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _seed(path)
    with SqliteStore(path) as store:
        loaded = store.load("e1")
        assert loaded is not None
        assert loaded.step("a").outputs == {"n": 1}
        assert store.schema_version() == MIGRATIONS[-1].version == 2
    assert _committed_rows(path, "PRAGMA journal_mode") == [("wal",)]


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    garbage = b"this is not a database, it is a shopping list\n" * 100
    path.write_bytes(garbage)
    with pytest.raises(StoreError, match="not a database") as caught:
        SqliteStore(path)
    assert str(path) in str(caught.value)
    assert "restore it from a backup or move it aside" in str(caught.value)
    assert path.read_bytes() == garbage


def test_a_truncated_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        for i in range(200):
            store.save(f"e{i}", execution(f"e{i}", inputs={"pad": "x" * 500}), ())
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(StoreError, match=r"malformed|integrity|corrupt") as caught:
        SqliteStore(path)
    assert str(path) in str(caught.value)


def test_a_store_from_a_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _seed(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO schema_version VALUES (7, 'from the future')")
    conn.close()
    with pytest.raises(StoreError, match="has schema version 7, newer than version 2"):
        SqliteStore(path)


def test_someone_elses_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(
        StoreError, match=r"without a windtunnel schema version \(tables: invoices\)"
    ):
        SqliteStore(path)


def test_a_new_migration_upgrades_a_store_in_place_and_old_code_then_refuses_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    _seed(path)
    latest = MIGRATIONS[-1].version
    nxt = Migration(
        latest + 1, "executions carry an owner", ("ALTER TABLE executions ADD COLUMN owner TEXT",)
    )
    conn = open_database(str(path), busy_timeout=1, max_bytes=None, migrations=(*MIGRATIONS, nxt))
    conn.close()
    assert _committed_rows(path, "SELECT version, description FROM schema_version") == [
        *((m.version, m.description) for m in MIGRATIONS),
        (latest + 1, "executions carry an owner"),
    ]
    assert _committed_rows(path, "SELECT execution_id, owner FROM executions") == [("e1", None)]
    with pytest.raises(
        StoreError, match=f"schema version {latest + 1}, newer than version {latest}"
    ):
        SqliteStore(path)


def test_a_version_1_store_is_upgraded_with_every_step_record_intact(tmp_path: Path) -> None:
    """Version 2 folds a step's eleven columns into one JSON record; nothing may be lost."""
    path = tmp_path / "s.db"
    steps = [
        StepRecord(
            "a",
            StepStatus.FAILED,
            (AttemptRecord(1, 0.5, 1.5, "boom", 2.0), AttemptRecord(2, 3.5, 4.25, "again")),
            {"n": 1, "nested": {"list": [1, "two", None]}},
            "again",
            "retries exhausted",
            0.5,
            4.25,
            {"status": "Succeeded", "outputs": {"undone": True}},
            ("latency above 2s",),
        ),
        StepRecord("b", StepStatus.RUNNING, started_at=5.0),
        StepRecord("c", StepStatus.PENDING),
    ]
    v1_columns = (
        "execution_id, step_id, status, attempts, outputs, error, reason, started_at, "
        "finished_at, compensation, warnings"
    )
    conn = open_database(str(path), busy_timeout=1, max_bytes=None, migrations=MIGRATIONS[:1])
    with conn:
        conn.execute(
            "INSERT INTO executions (execution_id, workflow, version, status, inputs, "
            "created_at, priority) VALUES ('e1', 'wf', 1, 'Running', '{}', 1.0, 0)"
        )
        conn.executemany(
            f"INSERT INTO steps ({v1_columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    "e1",
                    "a",
                    "Failed",
                    '[[1,0.5,1.5,"boom",2.0],[2,3.5,4.25,"again",null]]',
                    '{"n":1,"nested":{"list":[1,"two",null]}}',
                    "again",
                    "retries exhausted",
                    0.5,
                    4.25,
                    '{"status":"Succeeded","outputs":{"undone":true}}',
                    '["latency above 2s"]',
                ),
                ("e1", "b", "Running", "[]", None, None, None, 5.0, None, None, "[]"),
                ("e1", "c", "Pending", "[]", None, None, None, None, None, None, "[]"),
            ],
        )
    conn.close()
    with SqliteStore(path) as store:
        assert store.schema_version() == MIGRATIONS[-1].version
        loaded = store.load("e1")
        assert loaded is not None
        assert [loaded.step(s.step_id) for s in steps] == steps
        # And what the new code writes reads back the same as what was migrated.
        store.save("e1", None, steps)
        again = store.load("e1")
        assert again is not None
        assert [again.step(s.step_id) for s in steps] == steps


def test_the_step_log_keeps_every_transition_and_the_steps_view_shows_the_latest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path, commit="save") as store:
        store.save("e1", execution(), [StepRecord("a", StepStatus.PENDING)])
        store.save_step("e1", StepRecord("a", StepStatus.RUNNING, started_at=1.5))
        store.save_step("e1", StepRecord("b", StepStatus.RUNNING, started_at=1.75))
        store.save_step(
            "e1",
            StepRecord(
                "a",
                StepStatus.SUCCEEDED,
                (AttemptRecord(1, 1.5, 2.5),),
                {"n": 1},
                started_at=1.5,
                finished_at=2.5,
            ),
        )
        loaded = store.load("e1")
        assert loaded is not None
        assert loaded.statuses() == {"a": StepStatus.SUCCEEDED, "b": StepStatus.RUNNING}
    history = _committed_rows(
        path,
        "SELECT json_extract(entry.value, '$[1]') FROM step_log, json_each(step_log.entries) "
        "AS entry WHERE json_extract(entry.value, '$[0]') = 'a' ORDER BY step_log.id",
    )
    assert history == [("Pending",), ("Running",), ("Succeeded",)]
    assert _committed_rows(
        path,
        "SELECT step_id, status, json_extract(record, '$.outputs.n'), "
        "json_extract(record, '$.finished_at') FROM steps ORDER BY step_id",
    ) == [("a", "Succeeded", 1, 2.5), ("b", "Running", None, None)]


# ---------------------------------------------------------------------- faults


def test_a_full_disk_fails_the_write_loudly_and_loses_nothing_stored(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _seed(path)
    with SqliteStore(path, max_bytes=64 * 1024) as store:
        written = 0
        caught: StoreError | None = None
        while caught is None and written < 10_000:
            step = StepRecord(f"s{written}", StepStatus.RUNNING, outputs={"pad": "x" * 1000})
            try:
                store.save_step("e1", step)
                written += 1
            except StoreError as exc:
                caught = exc
        assert caught is not None
        assert "full" in str(caught)
        assert str(path) in str(caught)
        assert "earlier writes are intact" in str(caught)
        assert len(store.load("e1").steps) == written + 1  # type: ignore[union-attr]
        with pytest.raises(StoreError, match="full"):
            store.save("e2", execution("e2", inputs={"pad": "y" * 100_000}), ())
        assert store.get("e2") is None
    with SqliteStore(path) as store:
        loaded = store.load("e1")
        assert loaded is not None
        assert loaded.step("a").outputs == {"n": 1}
        assert len(loaded.steps) == written + 1


def test_a_write_locked_out_by_another_process_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _seed(path)
    other = sqlite3.connect(path, isolation_level=None)
    with SqliteStore(path, busy_timeout=0.05) as store:
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError, match="another process holds a write lock"):
                store.save_step("e1", StepRecord("b", StepStatus.RUNNING))
            with pytest.raises(StoreError, match="another process holds a write lock"):
                store.store(execution(status=ExecutionStatus.FAILED))
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.save_step("e1", StepRecord("b", StepStatus.RUNNING))
        loaded = store.load("e1")
        assert loaded is not None
        assert loaded.statuses() == {"a": StepStatus.SUCCEEDED, "b": StepStatus.RUNNING}
        assert loaded.status is ExecutionStatus.RUNNING


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file modes")
def test_a_read_only_file_fails_writes_loudly(tmp_path: Path) -> None:  # pragma: no cover
    path = tmp_path / "s.db"
    _seed(path)
    path.chmod(0o444)
    try:
        with SqliteStore(path) as store, pytest.raises(StoreError, match=r"read-only|readonly"):
            store.save_step("e1", StepRecord("b", StepStatus.RUNNING))
    finally:
        path.chmod(0o644)


def test_outputs_json_cannot_hold_are_refused_naming_the_step(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        store.save("e1", execution(), ())
        with pytest.raises(
            StoreError, match=r"outputs of step 'a' of execution 'e1' cannot be stored"
        ):
            store.save_step("e1", StepRecord("a", StepStatus.SUCCEEDED, outputs={"when": {1, 2}}))
        assert store.load("e1").steps == {}  # type: ignore[union-attr]


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.get("e1")
    with pytest.raises(StoreError, match="is closed"):
        store.save("e1", execution(), ())


def test_a_bad_commit_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="commit must be 'save' or 'tick'"):
        SqliteStore(tmp_path / "s.db", commit="sometimes")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- idempotency keys


def test_idempotency_keys_are_unique_and_survive_upserts_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        store.store(execution("e1", idempotency_key="deploy-42"))
        store.store(execution("e1", idempotency_key="deploy-42", status=ExecutionStatus.SUCCEEDED))
        with pytest.raises(StoreError, match="integrity rule"):
            store.store(execution("e2", idempotency_key="deploy-42"))
        assert store.get("e2") is None
    with SqliteStore(path) as store:
        found = store.get_by_idempotency_key("deploy-42")
        assert found is not None
        assert (found.execution_id, found.status) == ("e1", ExecutionStatus.SUCCEEDED)
        assert store.get_by_idempotency_key("unknown") is None


def test_dead_letters_survive_reopening_and_record_replays(tmp_path: Path) -> None:
    from engine.records import DeadLetter
    from engine.sqlite_store import SqliteDeadLetters

    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        queue = SqliteDeadLetters(store)
        queue.add(DeadLetter("e1", "wf", 2, "drain", "PermanentError: PDB", 3, 10.0))
        queue.add(DeadLetter("e0", "wf", 2, "scale", None, 1, 5.0))
    with SqliteStore(path) as store:
        queue = SqliteDeadLetters(store)
        assert [x.execution_id for x in queue.list()] == ["e0", "e1"]
        queue.mark_replayed("e1", "e9")
        assert queue.get("e1") == DeadLetter(
            "e1", "wf", 2, "drain", "PermanentError: PDB", 3, 10.0, "e9"
        )
        assert [x.execution_id for x in queue.list()] == ["e0"]
        assert len(queue.list(include_replayed=True)) == 2
        assert queue.get("nope") is None


# ---------------------------------------------------------------------- per-tick commits


@pytest.mark.asyncio
async def test_tick_writes_commit_before_any_task_created_after_them_runs(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, commit="tick")
    seen_by_task: list[list[tuple[object, ...]]] = []

    async def dependent() -> None:
        seen_by_task.append(_committed_rows(path, "SELECT step_id, status FROM steps"))

    try:
        store.save("e1", execution(), ())
        store.save_step("e1", StepRecord("a", StepStatus.RUNNING))
        store.save_step("e1", StepRecord("a", StepStatus.SUCCEEDED))  # same tick: last wins
        task = asyncio.get_running_loop().create_task(dependent())
        assert _committed_rows(path, "SELECT count(*) FROM executions") == [(0,)]
        await task
        assert seen_by_task == [[("a", "Succeeded")]]
        store.save_step("e1", StepRecord("b", StepStatus.RUNNING))
        await store.committed()
        assert _committed_rows(path, "SELECT step_id FROM steps ORDER BY step_id") == [
            ("a",),
            ("b",),
        ]
        await store.committed()  # nothing pending: returns at once
    finally:
        store.close()


@pytest.mark.asyncio
async def test_tick_writes_are_read_back_and_committed_by_flush_and_close(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, commit="tick")
    try:
        store.store(execution())
        assert store.get("e1") == execution()  # a read commits what came before it
        store.save_step("e1", StepRecord("a", StepStatus.RUNNING))
        store.flush()
        assert _committed_rows(path, "SELECT count(*) FROM steps") == [(1,)]
        store.save_step("e1", StepRecord("a", StepStatus.FAILED))
    finally:
        store.close()
    assert _committed_rows(path, "SELECT status FROM steps") == [("Failed",)]


@pytest.mark.asyncio
async def test_a_failed_tick_commit_is_raised_and_stops_further_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _seed(path)
    store = SqliteStore(path, commit="tick", busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        store.save_step("e1", StepRecord("b", StepStatus.RUNNING))
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="another process holds a write lock"):
            await store.committed()
        other.execute("ROLLBACK")
        with pytest.raises(StoreError, match="refuses writes"):
            store.save_step("e1", StepRecord("b", StepStatus.SUCCEEDED))
        loaded = store.load("e1")
        assert loaded is not None
        assert loaded.statuses() == {"a": StepStatus.SUCCEEDED}
    finally:
        other.close()
        store.close()


@pytest.mark.asyncio
async def test_a_tick_store_written_from_another_thread_commits_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, commit="tick")
    try:
        store.save("e1", execution(), ())  # joins this loop's tick
        thread = threading.Thread(
            target=store.save_step,
            args=("e1", StepRecord("a", StepStatus.SUCCEEDED, (AttemptRecord(1, 0.5, 1.5),))),
        )
        thread.start()
        thread.join()
        assert _committed_rows(path, "SELECT count(*) FROM executions") == [(1,)]
        assert _committed_rows(path, "SELECT json_extract(record, '$.attempts') FROM steps") == [
            ("[[1,0.5,1.5,null,null]]",)
        ]
    finally:
        store.close()
