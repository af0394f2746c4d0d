"""Durable stores: both persistence protocols on one SQLite database file.

:class:`SqliteStore` implements :class:`engine.storage.StateStorage` and
:class:`engine.storage.ExecutionRepository` on one file, so that an engine restarted on
the same path finds every execution and step as it was last recorded. One
``executions`` row serves both protocols (the engine writes the same record through
``save`` and ``store``); ``delete`` forgets the execution from both views. Step records
go to an append-only step log, one row per commit and execution, and a step is its
latest entry (see :mod:`engine.sqlite_rows`); the log keeps every transition, and the
``steps`` view shows each step's latest record to SQL readers.

Durability: WAL with ``synchronous=NORMAL``. A commit appends to the WAL in the OS page
cache and the WAL is fsynced at checkpoints, so a killed *process* (SIGKILL, OOM, an
engine crash) loses nothing committed: the page cache belongs to the kernel. A power
loss or kernel panic can lose the last commits since the latest checkpoint but never
corrupts the database. ``FULL`` would close that window at one fsync per transition
(milliseconds on most disks, hundreds of times the engine's own cost per step); the
engine's recovery guarantee is stated for process crashes, which ``NORMAL`` covers.

Two commit policies (``commit=``):

``"tick"`` (the default, what the engine is built for)
    Writes of one event-loop iteration are buffered (the last write of each step and
    execution wins) and committed together by a ``loop.call_soon`` callback scheduled at
    the tick's first write. ``await store.committed()`` waits for that commit and raises
    its error. *Ordering argument*: ``call_soon`` callbacks run in FIFO order, and an
    iteration only runs what was scheduled before it began, so the commit runs before
    every callback scheduled after the write: the first step of any Task created after
    it, every ``await`` that resumes after it (futures schedule their waiters with
    ``call_soon``), and every timer or I/O callback of later iterations. Code that ran
    before the commit in the same iteration can only have *written* more (its writes
    join the same transaction), so a crash loses a whole tick or nothing, never a
    transition something was already done about. What runs synchronously after a write,
    in the same task step, is not covered; the engine is built for this: it writes a
    step Running when it dispatches it, before the step's task exists (so the commit
    precedes the action), and ``submit`` awaits ``committed()`` before returning an id.
    A compensation is recorded when it ends, so one interrupted by a crash runs again on
    recovery: compensations should be idempotent. The crash-recovery test SIGKILLs an
    engine in this mode and in ``"save"`` mode.

``"save"``
    Every ``save``/``save_step``/``store``/``delete`` commits before it returns: the
    simplest guarantee, for callers that act on a write synchronously. It costs a
    transaction per transition: about three times the engine's time per step with
    ``"tick"`` (``windtunnel bench engine --store sqlite --commit save|tick``).

Faults are loud: a file that is not a store (garbage, truncated, corrupt, someone else's
database), a schema newer than the code, and a write that cannot be committed (disk full,
read-only file, locked by another process) raise :class:`engine.storage.StoreError`
naming the file and what to do. A failed write stores nothing and leaves what was
committed before it intact. In ``"tick"`` mode a failed commit is raised by
``committed()``, and every later write raises it too: the writes of that tick are lost,
so the store refuses to let the engine run on as if they were recorded.

Thread-safe: one connection (``check_same_thread=False``) under a lock. In ``"tick"``
mode a write from a thread without a running loop commits at once (with the tick's
buffer), so it keeps the per-save guarantee.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from engine.records import DeadLetter, ExecutionRecord, ExecutionState, StepRecord
from engine.sqlite_rows import (
    APPEND_STEPS,
    DEAD_LETTER_COLUMNS,
    SELECT_EXECUTION,
    SELECT_STEP_LOG,
    UPSERT_EXECUTION,
    execution_record,
    execution_row,
    step_entry,
    step_records,
)
from engine.sqlite_schema import CORRUPT_HINT, open_database, schema_version, write_error
from engine.status import ExecutionStatus
from engine.storage import StoreError

__all__ = ["CommitPolicy", "SqliteStore"]

CommitPolicy = Literal["save", "tick"]

_running_loop = asyncio._get_running_loop  # None outside a loop, without raising


class SqliteStore:
    """Execution state and history in one SQLite file (see the module docstring).

    ``path`` is created with its schema if it does not exist; ``":memory:"`` gives a
    private in-memory database. ``commit`` is the commit policy. ``busy_timeout`` is how
    long a write waits for another process's lock before failing. ``max_bytes`` caps the
    database's size: a write that would grow it further fails as on a full disk.

    Close the store (or use it as a context manager) to commit and release the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        commit: CommitPolicy = "tick",
        busy_timeout: float = 5.0,
        max_bytes: int | None = None,
    ) -> None:
        if commit not in ("save", "tick"):
            raise ValueError(f"commit must be 'save' or 'tick', got {commit!r}")
        self.path = os.fspath(path)
        self.commit = commit
        self._batching = commit == "tick"
        self._lock = threading.Lock()
        self._closed = False
        self._conn = open_database(self.path, busy_timeout=busy_timeout, max_bytes=max_bytes)
        # "tick" mode: what the open tick will commit, its future, and the error of a
        # failed deferred commit (after which the store refuses writes).
        self._executions: dict[str, tuple[Any, ...]] = {}
        self._steps: dict[str, dict[str, str]] = {}  # execution id -> step id -> entry
        self._tick: asyncio.Future[None] | None = None
        self._failure: StoreError | None = None
        self._known: set[str] = set()  # executions known to exist, for save_step's check

    # ------------------------------------------------------------------ StateStorage

    def save(
        self, execution_id: str, execution: ExecutionRecord | None, steps: Iterable[StepRecord]
    ) -> None:
        """Upsert the execution record (when given) and the given step records, atomically."""
        head = None if execution is None else execution_row(execution)
        if head is not None and head[0] != execution_id:
            raise ValueError(f"execution record '{head[0]}' saved under the id '{execution_id}'")
        entries = {s.step_id: step_entry(execution_id, s) for s in steps}  # the last wins
        with self._lock:
            self._check_writable()
            if head is None and not self._exists(execution_id):
                raise _never_saved(execution_id, None)
            if self._batching and self._defer():
                if head is not None:
                    self._executions[execution_id] = head
                if entries:
                    self._steps.setdefault(execution_id, {}).update(entries)
            else:
                log = [(execution_id, _joined(entries.values()))] if entries else []
                self._commit_now(
                    [head] if head is not None else [], log, f"saving execution '{execution_id}'"
                )
            if execution is not None:
                self._remember(execution)

    def save_step(self, execution_id: str, step: StepRecord) -> None:
        """Record one step record of an execution already saved (its latest, from now on)."""
        entry = step_entry(execution_id, step)
        with self._lock:
            if self._closed or self._failure is not None:
                self._check_writable()
            if execution_id not in self._known and not self._exists(execution_id):
                raise _never_saved(execution_id, step.step_id)
            if self._batching:
                tick = self._tick
                # The open tick's own loop (the usual case, twice per step) or _defer.
                if (tick is not None and tick.get_loop() is _running_loop()) or self._defer():
                    buffered = self._steps.get(execution_id)
                    if buffered is None:
                        buffered = self._steps[execution_id] = {}
                    buffered[step.step_id] = entry
                    return
            try:
                # One statement in autocommit mode is one transaction: no BEGIN/COMMIT
                # round trips on the dispatch path.
                self._conn.execute(APPEND_STEPS, (execution_id, f"[{entry}]"))
            except sqlite3.Error as exc:
                what = f"saving step '{step.step_id}' of execution '{execution_id}'"
                raise write_error(self.path, what, exc) from exc

    def load(self, execution_id: str) -> ExecutionState | None:
        """The execution with all its steps, or None if unknown."""
        with self._lock:
            self._flush_for_read()
            head = self._read(f"{SELECT_EXECUTION} WHERE execution_id = ?", (execution_id,))
            if not head:
                return None
            log = self._read(SELECT_STEP_LOG, (execution_id,))
        return ExecutionState(execution_record(head[0]), step_records(log))

    def delete(self, execution_id: str) -> None:
        """Forget the execution and its steps; unknown ids are ignored."""
        with self._lock:
            self._check_writable()
            self._flush_locked()
            try:
                with self._transaction() as conn:
                    conn.execute("DELETE FROM step_log WHERE execution_id = ?", (execution_id,))
                    conn.execute("DELETE FROM executions WHERE execution_id = ?", (execution_id,))
            except sqlite3.Error as exc:
                raise write_error(self.path, f"deleting execution '{execution_id}'", exc) from exc
            self._known.discard(execution_id)

    def execution_ids(
        self, status: ExecutionStatus | Iterable[ExecutionStatus] | None = None
    ) -> builtins.list[str]:
        """Ids of stored executions, oldest first; only those in ``status`` if given.

        Crash recovery asks for the unfinished ones: Pending, Running and Paused.
        """
        clauses, params = _status_clause(status)
        where = f" WHERE {clauses[0]}" if clauses else ""
        sql = f"SELECT execution_id FROM executions{where} ORDER BY created_at, execution_id"
        with self._lock:
            self._flush_for_read()
            return [r[0] for r in self._read(sql, params)]

    # ------------------------------------------------------------------ ExecutionRepository

    def store(self, record: ExecutionRecord) -> None:
        """Insert or replace the record with the same execution id."""
        row = execution_row(record)
        with self._lock:
            self._check_writable()
            if self._batching and self._defer():
                self._executions[record.execution_id] = row
            else:
                self._commit_now([row], [], f"storing execution '{record.execution_id}'")
            self._remember(record)

    def get(self, execution_id: str) -> ExecutionRecord | None:
        """The record, or None if unknown."""
        with self._lock:
            self._flush_for_read()
            rows = self._read(f"{SELECT_EXECUTION} WHERE execution_id = ?", (execution_id,))
        return execution_record(rows[0]) if rows else None

    def get_by_idempotency_key(self, key: str) -> ExecutionRecord | None:
        """The execution stored with this idempotency key, or None."""
        with self._lock:
            self._flush_for_read()
            rows = self._read(f"{SELECT_EXECUTION} WHERE idempotency_key = ?", (key,))
        return execution_record(rows[0]) if rows else None

    # ------------------------------------------------------------------ DeadLetterStore

    def add_dead_letter(self, letter: DeadLetter) -> None:
        """Record a dead letter (committed at once: it is off the dispatch path)."""
        self._write_now(
            f"INSERT OR REPLACE INTO dead_letters ({DEAD_LETTER_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(letter),
            f"queueing dead letter '{letter.execution_id}'",
        )

    def get_dead_letter(self, execution_id: str) -> DeadLetter | None:
        """The dead letter of an execution, or None."""
        with self._lock:
            rows = self._read(
                f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE execution_id = ?",
                (execution_id,),
            )
        return DeadLetter(*rows[0]) if rows else None

    def dead_letters(self, *, include_replayed: bool = False) -> builtins.list[DeadLetter]:
        """Dead letters, oldest first; replayed ones only when asked."""
        where = "" if include_replayed else " WHERE replayed_by IS NULL"
        with self._lock:
            rows = self._read(
                f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters{where} "
                "ORDER BY failed_at, execution_id"
            )
        return [DeadLetter(*row) for row in rows]

    def mark_dead_letter_replayed(self, execution_id: str, replayed_by: str) -> None:
        """Record that ``replayed_by`` replays the execution's dead letter."""
        self._write_now(
            "UPDATE dead_letters SET replayed_by = ? WHERE execution_id = ?",
            (replayed_by, execution_id),
            f"marking dead letter '{execution_id}' replayed",
        )

    def _write_now(self, sql: str, params: tuple[Any, ...], what: str) -> None:
        with self._lock:
            self._check_writable()
            self._flush_locked()
            try:
                with self._transaction() as conn:
                    conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise write_error(self.path, what, exc) from exc

    # ------------------------------------------------------------------ commits and lifecycle

    async def committed(self) -> None:
        """Wait until every write made so far is committed; raise if that commit failed.

        Returns at once in ``"save"`` mode, and in ``"tick"`` mode when nothing is
        pending, so awaiting it costs nothing when there is nothing to wait for.
        """
        tick = self._tick
        if tick is not None:
            await asyncio.shield(tick)
        if self._failure is not None:
            raise self._failure

    def write_failure(self) -> StoreError | None:
        """The error of a failed deferred commit, or None while every commit succeeded.

        The engine asks before each attempt of a step: in ``"tick"`` mode the commit of
        a step's Running record runs before the step's task starts, but it can fail, and
        then the action must not act on a transition that was never recorded.
        """
        return self._failure

    def flush(self) -> None:
        """Commit the open tick's writes now; raises :class:`StoreError` if that fails."""
        with self._lock:
            self._check_writable()
            self._flush_locked()

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._lock:
            self._check_open()
            return schema_version(self._conn)

    def close(self) -> None:
        """Commit what is pending and close the file; the store is unusable afterwards.

        A pending commit that fails is raised after the file is closed.
        """
        with self._lock:
            if self._closed:
                return
            try:
                if self._failure is None:
                    self._flush_locked()
            finally:
                self._closed = True
                # Best effort: a full or read-only disk must not stop the file closing.
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA optimize")
                self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r}, commit={self.commit!r})"

    # ------------------------------------------------------------------ internals (lock held)

    def _defer(self) -> bool:
        """Join (or open) this loop iteration's batch; False when the caller must commit now.

        Only the loop that opened the batch may join it. A write from another thread
        commits the batch first (its writes came earlier), then its own.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        tick = self._tick
        if loop is not None:
            if tick is None:
                self._tick = tick = loop.create_future()
                loop.call_soon(self._end_tick, tick)
                return True
            if tick.get_loop() is loop:
                return True
        self._flush_locked()
        return False

    def _end_tick(self, tick: asyncio.Future[None]) -> None:
        with self._lock:
            if self._tick is tick:
                self._tick = None
            try:
                if not self._closed:
                    self._flush_locked()
            except StoreError as exc:
                tick.set_exception(exc)
                tick.exception()  # retrieved: it is raised by committed() and later writes
                return
        tick.set_result(None)

    def _flush_locked(self) -> None:
        if not (self._executions or self._steps):
            return
        executions = list(self._executions.values())
        log = [(eid, _joined(entries.values())) for eid, entries in self._steps.items()]
        count = len(executions) + sum(len(entries) for entries in self._steps.values())
        self._executions.clear()
        self._steps.clear()
        try:
            self._commit_now(executions, log, f"committing {count} buffered writes")
        except StoreError as exc:
            self._failure = StoreError(
                f"{exc}; the store now refuses writes (the failed commit's transitions were "
                "not recorded, so the executions they belong to cannot go on safely): "
                "restart the engine on the store once the cause is fixed"
            )
            raise self._failure from exc

    def _flush_for_read(self) -> None:
        # A read sees every write made before it; committing early is always safe.
        if self._failure is None and not self._closed:
            self._flush_locked()

    def _commit_now(
        self,
        executions: builtins.list[Any],
        log: builtins.list[tuple[str, str]],
        what: str,
    ) -> None:
        if not (executions or log):
            return
        try:
            with self._transaction() as conn:
                if executions:
                    conn.executemany(UPSERT_EXECUTION, executions)
                if log:
                    conn.executemany(APPEND_STEPS, log)
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"{what} in the store {self.path} broke an integrity rule ({exc}); nothing of "
                "it was stored: an idempotency key can belong to one execution only"
            ) from exc
        except sqlite3.Error as exc:
            raise write_error(self.path, what, exc) from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self._failure is not None:
            raise self._failure

    def _remember(self, record: ExecutionRecord) -> None:
        # Finished executions are forgotten so the set stays as small as the active ones;
        # a late write to one is checked against the database instead.
        if record.status.terminal:
            self._known.discard(record.execution_id)
        else:
            self._known.add(record.execution_id)

    def _exists(self, execution_id: str) -> bool:
        if execution_id in self._known or execution_id in self._executions:
            return True
        if self._read("SELECT 1 FROM executions WHERE execution_id = ?", (execution_id,)):
            self._known.add(execution_id)
            return True
        return False

    def _read(self, sql: str, params: Iterable[Any] = ()) -> builtins.list[Any]:
        self._check_open()
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}; {CORRUPT_HINT}") from exc

    # Defined last: inside the class body, ``list`` names this method from here on.
    def list(
        self,
        *,
        workflow: str | None = None,
        status: ExecutionStatus | Iterable[ExecutionStatus] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> builtins.list[ExecutionRecord]:
        """Records matching every given filter, oldest first; ``limit`` keeps the first ones.

        ``since``/``until`` bound ``created_at`` (inclusive, exclusive).
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        clauses, params = _status_clause(status)
        if workflow is not None:
            clauses.append("workflow = ?")
            params.append(workflow)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("created_at < ?")
            params.append(until)
        sql = SELECT_EXECUTION
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, execution_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            self._flush_for_read()
            rows = self._read(sql, params)
        return [execution_record(r) for r in rows]


class SqliteDeadLetters:
    """The dead-letter queue of a :class:`SqliteStore`, as a ``DeadLetterStore``.

    A separate object because the protocol's ``get`` and ``list`` would clash with the
    execution repository's methods of the same names on the store itself.
    """

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def add(self, letter: DeadLetter) -> None:
        """Record a dead letter."""
        self.store.add_dead_letter(letter)

    def get(self, execution_id: str) -> DeadLetter | None:
        """The letter of an execution, or None."""
        return self.store.get_dead_letter(execution_id)

    def list(self, *, include_replayed: bool = False) -> builtins.list[DeadLetter]:
        """Letters, oldest first."""
        return self.store.dead_letters(include_replayed=include_replayed)

    def mark_replayed(self, execution_id: str, replayed_by: str) -> None:
        """Record the replay on the letter."""
        self.store.mark_dead_letter_replayed(execution_id, replayed_by)


def _status_clause(
    status: ExecutionStatus | Iterable[ExecutionStatus] | None,
) -> tuple[list[str], list[Any]]:
    if status is None:
        return [], []
    wanted = [status] if isinstance(status, ExecutionStatus) else [*status]
    if not wanted:
        return ["0"], []
    return [f"status IN ({', '.join('?' * len(wanted))})"], [s.value for s in wanted]


def _joined(entries: Iterable[str]) -> str:
    """Step-log entries as the JSON array one ``step_log`` row holds."""
    return f"[{','.join(entries)}]"


def _never_saved(execution_id: str, step_id: str | None) -> KeyError:
    what = f"step '{step_id}' of execution" if step_id else "steps of execution"
    return KeyError(f"cannot save {what} '{execution_id}': its execution record was never saved")
