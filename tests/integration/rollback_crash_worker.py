"""A real engine process killed in the middle of rollbacks, then recovered.

    python rollback_crash_worker.py start   DB LOG N  # N sagas that fail and roll back
    python rollback_crash_worker.py recover DB LOG N  # resume what the killed one left

Every saga runs a -> b -> c (each with a compensation) and then ``boom`` fails, so it
rolls back c, b, a. Compensations write "undo-start"/"undo-end" lines to LOG (flushed,
so they outlive a SIGKILL); the test reads them to check that no compensation recorded
as done ran again after the restart.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from typing import Any

from engine import ActionContext, Engine, EventKind, WorkflowTemplate
from engine.sqlite_store import SqliteDeadLetters, SqliteStore


def _step(sid: str, *deps: str) -> dict[str, Any]:
    return {
        "id": sid,
        "action": "work",
        "depends_on": list(deps),
        "compensation": {"action": "undo", "params": {"what": sid}},
    }


TEMPLATE = WorkflowTemplate.model_validate(
    {
        "name": "saga",
        "rollback_on_failure": True,
        "steps": [
            _step("a"),
            _step("b", "a"),
            _step("c", "b"),
            {
                "id": "boom",
                "action": "fail_with_probability",
                "params": {"probability": 1, "retryable": False},
                "depends_on": ["c"],
            },
        ],
    }
)


def build(db: str, log_path: str) -> tuple[Engine, SqliteStore, Any]:
    store = SqliteStore(db, commit="save")
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    async def work(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        await asyncio.sleep(ctx.rng.uniform(0.001, 0.005))
        return {"step": ctx.step_id}

    async def undo(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        log.write(f"undo-start {ctx.execution_id} {params['what']}\n")
        log.flush()
        await asyncio.sleep(ctx.rng.uniform(0.01, 0.05))
        log.write(f"undo-end {ctx.execution_id} {params['what']}\n")
        log.flush()
        return {"undone": params["what"]}

    engine = Engine(
        state_storage=store,
        repository=store,
        dead_letters=SqliteDeadLetters(store),
        max_concurrency=40,
        wall_clock=True,
    )
    engine.actions.register("work", work, idempotent=True)
    engine.actions.register("undo", undo, idempotent=True)
    engine.register(TEMPLATE)
    return engine, store, log


async def start(db: str, log_path: str, count: int) -> None:
    engine, _, _ = build(db, log_path)
    undone = 0

    def on_event(event: Any) -> None:
        nonlocal undone
        if event.kind is EventKind.COMPENSATION_FINISHED:
            undone += 1
            if undone == count:  # about a third of all compensations done: many mid-way
                print("KILL-ME", flush=True)

    engine.events.subscribe(on_event)
    for i in range(count):
        await engine.submit("saga", execution_id=f"s{i:04d}")
    print("SUBMITTED", flush=True)
    await asyncio.Event().wait()  # run until killed


async def recover(db: str, log_path: str, count: int) -> None:
    engine, store, log = build(db, log_path)
    ids = await engine.recover()
    for execution_id in ids:
        await engine.wait(execution_id)
    statuses = sorted({str(r.status) for r in store.list()})
    print(json.dumps({"recovered": len(ids), "statuses": statuses}))
    store.close()
    log.close()


if __name__ == "__main__":
    mode, db, log_file, n = sys.argv[1:5]
    asyncio.run({"start": start, "recover": recover}[mode](db, log_file, int(n)))
