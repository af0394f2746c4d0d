"""What the service keeps beside the engine's stores, so that a restart picks up its work.

The engine's stores hold executions, not templates: after a restart the service must
register every template an unfinished execution uses before ``engine.recover()`` can
resume it. So the service records each template version it registers (as registered,
the profile's defaults applied: what the executions ran), and, while it drains on
SIGTERM, the executions it paused, which the next start resumes.

:class:`SqliteServiceStore` keeps both in a small SQLite file of its own next to the
engine's (``engine.sqlite`` -> ``engine.service.sqlite``), committed before the
registration is answered, so a template a client was told is registered survives a
SIGKILL. :class:`MemoryServiceStore` is for in-memory engines, whose executions do not
survive a restart either.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from engine.storage import StoreError

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS service_templates (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        document TEXT NOT NULL,
        UNIQUE (name, version)
    )""",
    "CREATE TABLE IF NOT EXISTS service_drained (execution_id TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS service_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
)


class ServiceStore(Protocol):
    """Templates the service registered, and executions it paused to drain."""

    def templates(self) -> list[dict[str, Any]]:
        """Every template document recorded, in registration order."""

    def add_template(self, name: str, version: int, document: dict[str, Any]) -> None:
        """Record a template version (a version already recorded is left as it is)."""

    def drained(self) -> list[str]:
        """Executions paused by the last drain, to resume on start."""

    def set_drained(self, execution_ids: Iterable[str]) -> None:
        """Replace the drained set (before pausing them, so a crash mid-drain loses none)."""

    def probe(self) -> str | None:
        """None if a write can be committed now, else what is wrong (for /readyz)."""

    def close(self) -> None:
        """Release the store."""


class MemoryServiceStore:
    """A :class:`ServiceStore` in memory, for engines whose stores are in memory too."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, int], dict[str, Any]] = {}
        self._drained: list[str] = []

    def templates(self) -> list[dict[str, Any]]:
        return list(self._templates.values())

    def add_template(self, name: str, version: int, document: dict[str, Any]) -> None:
        self._templates.setdefault((name, version), document)

    def drained(self) -> list[str]:
        return list(self._drained)

    def set_drained(self, execution_ids: Iterable[str]) -> None:
        self._drained = list(execution_ids)

    def probe(self) -> str | None:
        return None

    def close(self) -> None:
        pass


def service_store_path(engine_store: str | os.PathLike[str]) -> Path:
    """Where the service file of an engine store lives: ``x.sqlite`` -> ``x.service.sqlite``."""
    path = Path(engine_store)
    return path.with_name(f"{path.stem}.service{path.suffix or '.sqlite'}")


class SqliteServiceStore:
    """A :class:`ServiceStore` in one SQLite file (WAL, fully synchronous commits)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the service store {self.path}: {exc}; it is not a windtunnel "
                "service store, or it is corrupt: move it aside to start without its templates"
            ) from exc

    def templates(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT document FROM service_templates ORDER BY seq"
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def add_template(self, name: str, version: int, document: dict[str, Any]) -> None:
        self._write(
            "INSERT OR IGNORE INTO service_templates (name, version, document) VALUES (?, ?, ?)",
            [(name, version, json.dumps(document, sort_keys=True))],
            f"recording template '{name}' version {version}",
        )

    def drained(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT execution_id FROM service_drained").fetchall()
        return [row[0] for row in rows]

    def set_drained(self, execution_ids: Iterable[str]) -> None:
        ids = [(eid,) for eid in execution_ids]
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute("DELETE FROM service_drained")
                self._conn.executemany(
                    "INSERT OR IGNORE INTO service_drained (execution_id) VALUES (?)", ids
                )
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(
                    f"cannot record the drained executions in {self.path}: {exc}"
                ) from exc

    def probe(self) -> str | None:
        try:
            self._write(
                "INSERT INTO service_probe (id, n) VALUES (1, 1) "
                "ON CONFLICT (id) DO UPDATE SET n = n + 1",
                [()],
                "probing",
            )
        except StoreError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, rows: list[tuple[Any, ...]], what: str) -> None:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(sql, rows)
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"{what} in the service store {self.path} failed: {exc}") from exc
