"""The run history: one JSON line per run, so a requirement's recent record can be read.

Every :func:`harness.report.write_reports` appends one line to
``<out_dir>/history/runs.jsonl``::

    {"run_id": "...", "finished_at": "...", "git_commit": "...", "profile": "...",
     "statuses": {"BR-WORKFLOW-001": "passed", ...}}

``statuses`` holds each requirement's *current-run* status (never ``flaky``), so
flakiness is always judged on what runs actually proved.

The file is append-only and written by processes that can be killed, so a reader must
survive a truncated or corrupt line: :func:`read_history` skips any line that is not a
well-formed record (and says which), keeps every other, and keeps the last record of a
run id that appears twice. :func:`append_run` first ends an unterminated last line, so
a line a crash cut short never swallows the next run's record.

Flaky: a requirement whose window (:func:`window`) holds both a ``passed`` and a
``failed``. The window is the last ``size`` runs *of the same profile*, this one
included: a profile that injects faults failing where the default one passes is a
difference of experiment, not flakiness.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, TypeGuard

from harness.report.model import CurrentStatus

_CURRENT_STATUSES = frozenset({"passed", "failed", "skipped", "uncovered"})


class HistoryRun(TypedDict):
    """One line of ``runs.jsonl``."""

    run_id: str
    finished_at: str
    git_commit: str | None
    profile: str | None
    statuses: dict[str, CurrentStatus]


@dataclass(frozen=True)
class History:
    """The readable runs, oldest first, and the line numbers that were not readable."""

    runs: list[HistoryRun] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)


def history_path(out_dir: Path) -> Path:
    """Where the history of reports written into ``out_dir`` lives."""
    return out_dir / "history" / "runs.jsonl"


def read_history(path: Path) -> History:
    """Every well-formed run of ``path``, oldest first; a missing file is no history."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return History()
    by_id: dict[str, HistoryRun] = {}
    skipped: list[int] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            skipped.append(number)
            continue
        if not _is_run(data):
            skipped.append(number)
            continue
        # A rewritten run moves to where its last record stands.
        by_id.pop(data["run_id"], None)
        by_id[data["run_id"]] = data
    return History(list(by_id.values()), skipped)


def append_run(path: Path, run: HistoryRun) -> None:
    """Add ``run`` as the last line of ``path``, creating the file and its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(run, sort_keys=True, separators=(",", ":")) + "\n"
    with path.open("ab") as handle:
        if handle.tell() > 0 and not _ends_with_newline(path):
            line = "\n" + line
        # One write of one line: concurrent appenders interleave whole lines.
        handle.write(line.encode("utf-8"))


def window(previous: Sequence[HistoryRun], current: HistoryRun, size: int) -> list[HistoryRun]:
    """The last ``size`` runs of ``current``'s profile, oldest first, ending with ``current``.

    A previous record with ``current``'s run id is replaced by ``current``.
    """
    if size < 1:
        raise ValueError(f"history_size must be at least 1 (this run itself), not {size}")
    same = [
        run
        for run in previous
        if run["profile"] == current["profile"] and run["run_id"] != current["run_id"]
    ]
    kept = same[max(0, len(same) - (size - 1)) :]
    return [*kept, current]


def is_flaky(statuses: Iterable[CurrentStatus | None]) -> bool:
    """True when the statuses hold both a pass and a failure."""
    seen = set(statuses)
    return "passed" in seen and "failed" in seen


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _is_run(data: Any) -> TypeGuard[HistoryRun]:
    if not isinstance(data, dict):
        return False
    statuses = data.get("statuses")
    return (
        isinstance(data.get("run_id"), str)
        and isinstance(data.get("finished_at"), str)
        and isinstance(data.get("git_commit", 0), str | None)
        and isinstance(data.get("profile", 0), str | None)
        and isinstance(statuses, dict)
        and all(isinstance(k, str) and v in _CURRENT_STATUSES for k, v in statuses.items())
    )
