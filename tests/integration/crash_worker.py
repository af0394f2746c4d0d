"""A real engine process for the crash-recovery test: run it, SIGKILL it, recover it.

    python crash_worker.py start   DB LOG N COMMIT  # submit N executions, say KILL-ME, run on
    python crash_worker.py recover DB LOG N COMMIT  # resume what the killed process left

COMMIT is the store's commit policy, ``tick`` or ``save``.

Every action writes "start"/"end" lines to LOG (flushed, so they outlive a SIGKILL),
which is how the test checks that no completed step ever runs twice.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from typing import Any

from engine import ActionContext, Engine, EventKind, ExecutionStatus, WorkflowTemplate
from engine.sqlite_store import CommitPolicy, SqliteDeadLetters, SqliteStore

TEMPLATE = WorkflowTemplate.model_validate(
    {
        "name": "crashy",
        "failure_policy": "continue",
        "steps": [
            {"id": "a", "action": "work"},
            {"id": "b", "action": "work_once", "depends_on": ["a"]},
            {"id": "c", "action": "work", "depends_on": ["b"], "trigger_rule": "all_done"},
            {"id": "d", "action": "work_once", "depends_on": ["a"]},
        ],
    }
)
TERMINAL = {s for s in ExecutionStatus if s.terminal}


def build(db: str, log_path: str, commit: CommitPolicy) -> tuple[Engine, SqliteStore, Any]:
    store = SqliteStore(db, commit=commit)
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    async def work(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        log.write(f"start {ctx.execution_id} {ctx.step_id}\n")
        log.flush()
        await asyncio.sleep(ctx.rng.uniform(0.005, 0.04))
        log.write(f"end {ctx.execution_id} {ctx.step_id}\n")
        log.flush()
        return {"step": ctx.step_id}

    engine = Engine(
        state_storage=store,
        repository=store,
        dead_letters=SqliteDeadLetters(store),
        max_concurrency=40,
        wall_clock=True,
    )
    engine.actions.register("work", work, idempotent=True)
    engine.actions.register("work_once", work, idempotent=False)
    engine.register(TEMPLATE)
    return engine, store, log


async def start(db: str, log_path: str, count: int, commit: CommitPolicy) -> None:
    engine, _, _ = build(db, log_path, commit)
    finished = 0
    submitted = False

    def ready_to_die() -> None:
        # Every submission acknowledged and a quarter finished: the rest are in flight.
        if submitted and finished == count // 4:
            print("KILL-ME", flush=True)

    def on_event(event: Any) -> None:
        nonlocal finished
        if event.kind is EventKind.EXECUTION_FINISHED:
            finished += 1
            ready_to_die()

    engine.events.subscribe(on_event)
    for i in range(count):
        await engine.submit("crashy", execution_id=f"x{i:04d}")
    submitted = True
    print("SUBMITTED", flush=True)
    if finished >= count // 4:
        print("KILL-ME", flush=True)
    await asyncio.Event().wait()  # run until killed


async def recover(db: str, log_path: str, count: int, commit: CommitPolicy) -> None:
    engine, store, log = build(db, log_path, commit)
    ids = await engine.recover()
    for execution_id in ids:
        await engine.wait(execution_id)
    statuses = [r.status for r in store.list()]
    print(json.dumps({"recovered": len(ids), "terminal": sum(s in TERMINAL for s in statuses)}))
    store.close()
    log.close()


if __name__ == "__main__":
    mode, db, log_file, n, policy = sys.argv[1:6]
    if policy not in ("tick", "save"):
        sys.exit(f"COMMIT must be tick or save, got {policy!r}")
    commit: CommitPolicy = "tick" if policy == "tick" else "save"
    asyncio.run({"start": start, "recover": recover}[mode](db, log_file, int(n), commit))
