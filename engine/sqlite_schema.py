"""The SQLite stores' schema, its ordered migrations, and opening a database safely.

Schema changes are ordered migrations (:data:`MIGRATIONS`), each applied once in its own
transaction and recorded in the ``schema_version`` table. To add version 3, append a
:class:`Migration` (never edit one that has shipped)::

    Migration(3, "executions carry an owner", (
        "ALTER TABLE executions ADD COLUMN owner TEXT",
        "CREATE INDEX executions_by_owner ON executions (owner)",
    ))

and teach :mod:`engine.sqlite_rows` the new column. A database at an older version is
upgraded when it is next opened (version 2 folded version 1's step rows into the step
log); a database whose version is newer than the code's latest migration is refused,
because an old engine must not write rows a newer one would misread.

Opening also rejects what is not a windtunnel store (a non-database file, a truncated or
corrupt one, someone else's database) with :class:`engine.storage.StoreError` before
anything is written to it.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from engine.storage import StoreError

SCHEMA_VERSION_TABLE = "schema_version"

CORRUPT_HINT = (
    "the file is not a windtunnel SQLite store, or it is truncated or corrupt; restore it "
    "from a backup or move it aside to start with an empty store"
)


class Migration(NamedTuple):
    """One schema version: the statements that take the previous version to this one."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "executions and steps",
        (
            """
            CREATE TABLE executions (
                execution_id TEXT PRIMARY KEY,
                workflow TEXT NOT NULL,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                inputs TEXT NOT NULL,
                created_at REAL NOT NULL,
                priority INTEGER NOT NULL,
                started_at REAL,
                finished_at REAL,
                error TEXT,
                idempotency_key TEXT,
                dry_run INTEGER NOT NULL DEFAULT 0,
                replay_of TEXT,
                parent_id TEXT
            )
            """,
            "CREATE INDEX executions_by_created ON executions (created_at, execution_id)",
            "CREATE INDEX executions_by_workflow ON executions (workflow, created_at)",
            "CREATE INDEX executions_by_status ON executions (status, created_at)",
            # NULLs are distinct in a unique index: executions without a key never clash.
            "CREATE UNIQUE INDEX executions_by_idempotency_key ON executions (idempotency_key)",
            """
            CREATE TABLE steps (
                execution_id TEXT NOT NULL
                    REFERENCES executions (execution_id) ON DELETE CASCADE,
                step_id TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts TEXT NOT NULL,
                outputs TEXT,
                error TEXT,
                reason TEXT,
                started_at REAL,
                finished_at REAL,
                compensation TEXT,
                warnings TEXT NOT NULL DEFAULT '[]',
                PRIMARY KEY (execution_id, step_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE dead_letters (
                execution_id TEXT PRIMARY KEY,
                workflow TEXT NOT NULL,
                version INTEGER NOT NULL,
                step_id TEXT NOT NULL,
                error TEXT,
                attempts INTEGER NOT NULL,
                failed_at REAL NOT NULL,
                replayed_by TEXT
            )
            """,
        ),
    ),
    Migration(
        2,
        "steps as a log of records, with a steps view",
        (
            # A row per commit and execution instead of a row per step transition: SQLite's
            # cost is mostly per row, and every step is written twice while it runs. No
            # foreign key: the store checks that the execution exists and deletes its log.
            """
            CREATE TABLE step_log (
                id INTEGER PRIMARY KEY,
                execution_id TEXT NOT NULL,
                entries TEXT NOT NULL
            )
            """,
            "CREATE INDEX step_log_by_execution ON step_log (execution_id, id)",
            """
            INSERT INTO step_log (execution_id, entries)
            SELECT execution_id, json_group_array(json_array(step_id, status, json_object(
                'attempts', json(attempts), 'outputs', json(outputs), 'error', error,
                'reason', reason, 'started_at', started_at, 'finished_at', finished_at,
                'compensation', json(compensation), 'warnings', json(warnings))))
            FROM steps GROUP BY execution_id
            """,
            "DROP TABLE steps",
            # Each step's latest entry, for people and tools reading the file with SQL.
            """
            CREATE VIEW steps AS
            SELECT execution_id, step_id, status, record FROM (
                SELECT log.execution_id AS execution_id,
                    json_extract(entry.value, '$[0]') AS step_id,
                    json_extract(entry.value, '$[1]') AS status,
                    json_extract(entry.value, '$[2]') AS record,
                    row_number() OVER (
                        PARTITION BY log.execution_id, json_extract(entry.value, '$[0]')
                        ORDER BY log.id DESC
                    ) AS newest
                FROM step_log AS log, json_each(log.entries) AS entry
            ) WHERE newest = 1
            """,
        ),
    ),
)
"""Every schema version in order; the last one is what this code reads and writes."""


def open_database(
    path: str,
    *,
    busy_timeout: float,
    max_bytes: int | None,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode with the schema at the latest version.

    ``synchronous=NORMAL``: see :mod:`engine.sqlite_store` for why that is the right
    durability for the engine. The connection is in autocommit mode (transactions are
    explicit) and may be used from any thread under the caller's lock.
    """
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(
            f"cannot open the store {path}: {exc}; check that the directory exists and is writable"
        ) from exc
    try:
        _configure(conn, path, max_bytes)
        _migrate(conn, path, migrations)
    except BaseException:
        conn.close()
        raise
    return conn


def _configure(conn: sqlite3.Connection, path: str, max_bytes: int | None) -> None:
    try:
        # Read and check the file before anything writes to it: a file that is not a
        # database fails here instead of being half-converted by the journal switch.
        result = conn.execute("PRAGMA quick_check").fetchall()
        if result != [("ok",)]:
            details = "; ".join(str(r[0]) for r in result[:5])
            raise StoreError(
                f"the store {path} failed its integrity check ({details}); {CORRUPT_HINT}"
            )
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = NORMAL")
        if max_bytes is not None:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {max(2, max_bytes // page_size)}")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the store {path}: {exc}; {CORRUPT_HINT}") from exc
    if path != ":memory:" and str(mode).lower() != "wal":
        raise StoreError(
            f"cannot open the store {path} in WAL mode (got {mode!r}); put it on a local "
            "file system that supports shared memory"
        )


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the database; 0 for a database without the table."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_VERSION_TABLE,)
    ).fetchone()
    if row is None:
        return 0
    return int(conn.execute(f"SELECT max(version) FROM {SCHEMA_VERSION_TABLE}").fetchone()[0] or 0)


def _migrate(conn: sqlite3.Connection, path: str, migrations: tuple[Migration, ...]) -> None:
    latest = migrations[-1].version
    try:
        current = schema_version(conn)
        if current == 0:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name != ? "
                    "ORDER BY name",
                    (SCHEMA_VERSION_TABLE,),
                )
            ]
            if tables:
                raise StoreError(
                    f"the store {path} is a SQLite database without a windtunnel schema "
                    f"version (tables: {', '.join(tables)}); point the engine at a new file "
                    "or at a windtunnel store"
                )
        if current > latest:
            raise StoreError(
                f"the store {path} has schema version {current}, newer than version "
                f"{latest} that this engine reads and writes; run a newer engine on it (or "
                "restore a backup made before the upgrade)"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} ("
                    "version INTEGER PRIMARY KEY, description TEXT NOT NULL)"
                )
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {SCHEMA_VERSION_TABLE} (version, description) VALUES (?, ?)",
                    (migration.version, migration.description),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorname", "")
        if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            raise StoreError(f"cannot open the store {path}: {exc}; {CORRUPT_HINT}") from exc
        raise write_error(path, "creating or upgrading the schema", exc) from exc


def write_error(path: str, what: str, exc: sqlite3.Error, *, lost: str = "") -> StoreError:
    """A :class:`StoreError` for a failed write, with the hint its SQLite error calls for."""
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith("SQLITE_FULL"):
        hint = "the disk (or the store's size cap) is full; free space, then restart the engine"
    elif code.startswith("SQLITE_READONLY"):
        hint = "the file or its directory is read-only; fix the permissions"
    elif code.startswith("SQLITE_BUSY"):
        hint = "another process holds a write lock on it; stop it or use another file"
    elif code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        hint = CORRUPT_HINT
    else:
        hint = "check the file and the disk it is on"
    kept = lost or "nothing of this write was stored; earlier writes are intact"
    return StoreError(f"{what} in the store {path} failed ({exc}); {kept}; {hint}")
