"""Crash recovery for real: hundreds of executions in flight, SIGKILL, restart.

The engine runs in a subprocess on a SQLite store. It is killed with SIGKILL (no
cleanup of any kind) while executions are in flight, then a new process recovers from
the same file. Every execution must reach a terminal status, none may be lost, and no
step recorded as completed may run again; interrupted steps rerun only if idempotent;
no action ever started before its step's Running record was committed. Both commit
policies are killed: per write, and per loop tick (whose ordering argument this tests).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine import StepStatus
from engine.sqlite_store import SqliteStore

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
COUNT = 300
IDEMPOTENT = {"a": True, "b": False, "c": True, "d": False}


def starts(log: Path) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for line in log.read_text().splitlines():
        kind, execution_id, step_id = line.split()
        if kind == "start":
            counts[(execution_id, step_id)] += 1
    return counts


def worker(mode: str, db: Path, log: Path, commit: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(db), str(log), str(COUNT), commit],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.slow
@pytest.mark.parametrize("commit", ["tick", "save"])
def test_sigkill_mid_flight_then_recover(tmp_path: Path, commit: str) -> None:
    db, log = tmp_path / "engine.db", tmp_path / "actions.log"
    first = worker("start", db, log, commit)
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
    starts_before = starts(log)
    assert len(before) == COUNT  # every submission was committed before submit returned
    unfinished = [e for e, s in before.items() if s is not None and not s.status.terminal]
    running = {
        (e, sid)
        for e, state in before.items()
        if state is not None
        for sid, rec in state.steps.items()
        if rec.status is StepStatus.RUNNING
    }
    assert unfinished
    assert running
    for execution_id, state in before.items():
        assert state is not None
        for step_id in IDEMPOTENT:
            record = state.steps.get(step_id)
            if record is None or record.status is StepStatus.PENDING:
                # Its action cannot have started: Running is committed first.
                assert starts_before[(execution_id, step_id)] == 0, (execution_id, step_id)

    second = worker("recover", db, log, commit)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary == {"recovered": len(unfinished), "terminal": COUNT}

    starts_after = starts(log)
    with SqliteStore(db) as store:
        after = {r.execution_id: store.load(r.execution_id) for r in store.list()}
    assert set(after) == set(before)
    for execution_id, state in after.items():
        assert state is not None, execution_id
        assert state.status.terminal, execution_id
        previous = before[execution_id]
        assert previous is not None
        for step_id, record in previous.steps.items():
            key = (execution_id, step_id)
            if record.status.terminal:  # completed before the kill: never again
                assert starts_after[key] == starts_before[key], key
                assert state.steps[step_id].status is record.status
            elif record.status is StepStatus.RUNNING and not IDEMPOTENT[step_id]:
                assert state.steps[step_id].status is StepStatus.FAILED, key
                assert state.steps[step_id].reason == "interrupted"
                assert starts_after[key] == starts_before[key], key
            elif record.status is StepStatus.RUNNING:
                assert state.steps[step_id].status is StepStatus.SUCCEEDED, key
                assert starts_after[key] == starts_before[key] + 1, key
            else:  # pending: runs at most once, after the recovery
                assert starts_after[key] <= 1, key
    assert max(starts_after.values()) <= 2
