"""``ProfileError``: everything wrong with a scenario profile, each problem at file:line.

Problems are :class:`engine.errors.Problem` values (the same shape workflow templates
use), so a profile error reads like a template error: ``file:line field 'x': message``.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.errors import Problem


class ProfileError(ValueError):
    """A scenario profile (or a block it uses) is invalid; ``problems`` in file order."""

    def __init__(self, problems: Iterable[Problem], *, name: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.source or "", p.line is None, p.line or 0))
        )
        self.name = name
        head = f"scenario profile '{name}'" if name else "scenario profile"
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head} is invalid ({count} {noun}):\n{lines}")
