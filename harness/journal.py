"""A record of every write the engine makes to its state storage, in order.

The stores keep the latest record of each execution and step; a scenario that proves
"every transition is stored" needs the writes themselves. :class:`JournalingStorage`
wraps the engine's :class:`engine.StateStorage` and appends each status it is handed to
a :class:`Journal` the testbed owns, so the journal also spans an engine restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine import ExecutionRecord, ExecutionState, StepRecord


@dataclass
class Journal:
    """(execution id, step id or None for the execution, status) per write, in order."""

    writes: list[tuple[str, str | None, str]] = field(default_factory=list)

    def statuses(self, execution_id: str, step_id: str | None = None) -> list[str]:
        """The statuses written for one step (or the execution), consecutive repeats merged."""
        out: list[str] = []
        for eid, sid, status in self.writes:
            if eid == execution_id and sid == step_id and (not out or out[-1] != status):
                out.append(status)
        return out


class JournalingStorage:
    """A state storage that passes every call on and journals the statuses written."""

    def __init__(self, inner: Any, journal: Journal) -> None:
        self.inner = inner
        self.journal = journal

    def save(
        self, execution_id: str, execution: ExecutionRecord | None, steps: Iterable[StepRecord]
    ) -> None:
        steps = list(steps)
        self.inner.save(execution_id, execution, steps)
        if execution is not None:
            self.journal.writes.append((execution_id, None, str(execution.status)))
        for step in steps:
            self.journal.writes.append((execution_id, step.step_id, str(step.status)))

    def save_step(self, execution_id: str, step: StepRecord) -> None:
        self.inner.save_step(execution_id, step)
        self.journal.writes.append((execution_id, step.step_id, str(step.status)))

    def load(self, execution_id: str) -> ExecutionState | None:
        result: ExecutionState | None = self.inner.load(execution_id)
        return result

    def delete(self, execution_id: str) -> None:
        self.inner.delete(execution_id)

    def __getattr__(self, name: str) -> Any:
        # committed(), write_failure(), execution_ids(), ...: whatever the store offers.
        return getattr(self.inner, name)
