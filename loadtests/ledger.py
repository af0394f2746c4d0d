"""The loss check: every execution the engine accepted reached a terminal status.

Counted from the engine's own SQLite stores after the run, never from Locust: Locust
only knows what its users saw, and a user stopped mid-wait sees nothing. In HTTP mode
that is the service's store; in-process, one store per Locust process under the run's
``stores/`` directory. An execution still Pending, Running, Paused or RollingBack
there after the drain is lost for the purpose of the check, and so is an execution
whose submit a user saw acknowledged but that no store holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine import ExecutionStatus, SqliteStore

UNFINISHED = tuple(s for s in ExecutionStatus if not s.terminal)
SHOWN = 20
"""How many unfinished ids a report lists."""


@dataclass(frozen=True)
class StoreCount:
    submitted: int
    terminal: int
    unfinished: tuple[str, ...]
    """The first :data:`SHOWN` ids that are not terminal."""
    stores: tuple[str, ...]

    @property
    def lost(self) -> int:
        return self.submitted - self.terminal

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lost": self.lost}


def count_stores(paths: Iterable[Path]) -> StoreCount:
    """Executions and terminal ones across the given store files."""
    submitted = terminal = 0
    unfinished: list[str] = []
    stores: list[str] = []
    for path in sorted(paths):
        with SqliteStore(path) as store:
            ids = store.execution_ids()
            open_ids = store.execution_ids(status=UNFINISHED)
        submitted += len(ids)
        terminal += len(ids) - len(open_ids)
        unfinished.extend(open_ids[: max(0, SHOWN - len(unfinished))])
        stores.append(str(path))
    return StoreCount(submitted, terminal, tuple(unfinished), tuple(stores))
