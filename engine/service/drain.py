"""Graceful shutdown of the engine behind the service, and picking up after it.

On SIGTERM the service stops accepting requests, then :func:`drain`: every active
execution that is not paused already is recorded in the :class:`ServiceStore` and
paused (the engine starts no new step of a paused execution), and the running steps
are let run to their end, so each one's outcome is persisted rather than cut off
mid-action. Then the process exits 0, leaving the executions Paused in the store
(never Cancelled: a rolling restart of the service must not cancel the work in flight).

On the next start, after ``engine.recover()``, :func:`resume_drained` resumes the
executions the drain paused, and only those: one a client paused stays paused. The
drained set is recorded *before* pausing, so a SIGKILL in the middle of a drain still
leaves a list to resume.

What a drain cannot wait for is bounded by ``timeout``: a step whose action outlasts it
(a rollout waiting minutes for ready replicas) is left Running in the store, and the
restarted engine treats it as interrupted (see :mod:`engine.recovery`). Steps of a
subflow's parent wait on a paused child, so they never end in a drain: they count as
such a step.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from engine.engine import Engine
from engine.errors import EngineError
from engine.events import Event
from engine.service.service_store import ServiceStore
from engine.status import ExecutionStatus


@dataclass(frozen=True, slots=True)
class DrainReport:
    paused: int
    """Executions the drain paused (to resume on the next start)."""
    left_running: int
    """Steps still running when the timeout passed (0 after a clean drain)."""


async def drain(engine: Engine, store: ServiceStore, *, timeout: float) -> DrainReport:
    """Pause every active execution and wait (at most ``timeout`` s) for running steps."""
    to_pause: list[str] = []
    for execution_id in engine.active_executions():
        record = engine.repository.get(execution_id)
        if record is not None and record.status is not ExecutionStatus.PAUSED:
            to_pause.append(execution_id)
    store.set_drained(to_pause)
    for execution_id in to_pause:
        with contextlib.suppress(EngineError):  # finished since it was listed
            engine.pause(execution_id)
    committed = getattr(engine.state, "committed", None)
    if committed is not None:
        await committed()
    await _steps_finished(engine, timeout)
    if committed is not None:
        await committed()
    return DrainReport(paused=len(to_pause), left_running=engine.running_steps)


async def _steps_finished(engine: Engine, timeout: float) -> None:
    """Return once no step runs, or after ``timeout`` seconds."""
    if engine.running_steps == 0:
        return
    loop = asyncio.get_running_loop()
    idle: asyncio.Future[None] = loop.create_future()

    def check() -> None:
        if engine.running_steps == 0 and not idle.done():
            idle.set_result(None)

    def on_event(_event: Event) -> None:
        # The engine counts a step out after its event: look once the event is handled.
        loop.call_soon(check)

    unsubscribe = engine.events.subscribe(on_event)
    try:
        check()
        async with asyncio.timeout(timeout):
            await idle
    except TimeoutError:
        pass
    finally:
        unsubscribe()


def resume_drained(engine: Engine, store: ServiceStore) -> list[str]:
    """Resume the executions the last drain paused (after ``engine.recover()``)."""
    resumed: list[str] = []
    for execution_id in store.drained():
        record = engine.repository.get(execution_id)
        if record is None or record.status is not ExecutionStatus.PAUSED:
            continue
        try:
            engine.resume(execution_id)
        except EngineError:
            continue
        resumed.append(execution_id)
    store.set_drained(())
    return resumed
