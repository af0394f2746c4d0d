"""A SIGKILL in the middle of rollbacks: the restarted engine finishes every rollback
without running again any compensation the store had recorded as done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine import ExecutionStatus
from engine.sqlite_store import SqliteStore

WORKER = Path(__file__).with_name("rollback_crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
COUNT = 60


def undo_starts(log: Path) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for line in log.read_text().splitlines():
        kind, execution_id, step_id = line.split()
        if kind == "undo-start":
            counts[(execution_id, step_id)] += 1
    return counts


def worker(mode: str, db: Path, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(db), str(log), str(COUNT)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )


@pytest.mark.slow
def test_sigkill_mid_rollback_then_recover(tmp_path: Path) -> None:
    db, log = tmp_path / "engine.db", tmp_path / "undo.log"
    first = worker("start", db, log)
    assert first.stdout is not None
    try:
        lines = []
        for line in first.stdout:
            lines.append(line.strip())
            if line.strip() == "KILL-ME":
                break
        assert lines[-1] == "KILL-ME", lines
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=60)
        first.stdout.close()
    assert first.returncode == -signal.SIGKILL

    with SqliteStore(db) as store:
        before = {r.execution_id: store.load(r.execution_id) for r in store.list()}
    done_before = {
        (e, sid)
        for e, state in before.items()
        if state is not None
        for sid, rec in state.steps.items()
        if (rec.compensation or {}).get("status") == "Succeeded"
    }
    rolling = [
        e for e, s in before.items() if s is not None and s.status is ExecutionStatus.ROLLING_BACK
    ]
    assert rolling, "the kill came after every rollback had ended; nothing was tested"
    assert done_before
    starts_before = undo_starts(log)

    second = worker("recover", db, log)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["statuses"] == ["RolledBack"]
    assert summary["recovered"] >= len(rolling)

    starts_after = undo_starts(log)
    with SqliteStore(db) as store:
        after = {r.execution_id: store.load(r.execution_id) for r in store.list()}
    assert len(after) == COUNT
    for key in done_before:  # recorded as done before the kill: never run again
        assert starts_after[key] == starts_before[key] == 1, key
    for execution_id, state in after.items():
        assert state is not None
        assert state.status is ExecutionStatus.ROLLED_BACK, execution_id
        for sid in ("a", "b", "c"):
            assert (state.steps[sid].compensation or {}).get("status") == "Succeeded"
            assert 1 <= starts_after[(execution_id, sid)] <= 2  # at most one rerun, if cut off
