"""The dead-letter queue: executions that ended Failed because a step failed for good.

A dead letter keeps what an operator needs to decide on a replay: the failing step, its
last error and how many attempts it got. Replaying starts a *new* execution of the same
template version with the same inputs, linked to the original (``replay_of``), and the
letter records who replayed it, so a letter is never replayed twice by accident.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from engine.records import DeadLetter


@runtime_checkable
class DeadLetterStore(Protocol):
    """Where dead letters are kept."""

    def add(self, letter: DeadLetter) -> None:
        """Record a dead letter (one per execution; a second add replaces the first)."""

    def get(self, execution_id: str) -> DeadLetter | None:
        """The letter of an execution, or None."""

    def list(self, *, include_replayed: bool = False) -> list[DeadLetter]:
        """Letters, oldest first; replayed ones only when asked."""

    def mark_replayed(self, execution_id: str, replayed_by: str) -> None:
        """Record that ``replayed_by`` replays the execution's letter."""


class DeadLetterQueue:
    """An in-process :class:`DeadLetterStore`, safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._letters: dict[str, DeadLetter] = {}

    def add(self, letter: DeadLetter) -> None:
        """Record a dead letter."""
        with self._lock:
            self._letters[letter.execution_id] = letter

    def get(self, execution_id: str) -> DeadLetter | None:
        """The letter of an execution, or None."""
        with self._lock:
            return self._letters.get(execution_id)

    def list(self, *, include_replayed: bool = False) -> list[DeadLetter]:
        """Letters, oldest first."""
        with self._lock:
            letters = list(self._letters.values())
        letters.sort(key=lambda letter: (letter.failed_at, letter.execution_id))
        return [x for x in letters if include_replayed or x.replayed_by is None]

    def mark_replayed(self, execution_id: str, replayed_by: str) -> None:
        """Record the replay on the letter."""
        with self._lock:
            letter = self._letters[execution_id]
            self._letters[execution_id] = letter._replace(replayed_by=replayed_by)
