"""The in-process users' engine: one asyncio loop per process, in a real OS thread.

Locust users are greenlets on gevent's hub; the engine is asyncio code. Running
``asyncio.run()`` inside a task does not work once several users run at once (each
would want its own loop, and a loop blocks the hub while it runs), so each Locust
process gets one :class:`EngineRuntime`: a native thread (started with the original,
unpatched ``_thread.start_new_thread``) that runs an asyncio loop on the original
epoll selector, with a :class:`harness.testbed.Testbed` on it (the profile's simulated
cluster, real time, a SQLite store of its own under the run's store directory).

The two sides talk through two queues, each with one wake-up per batch:

* a user calls :meth:`EngineRuntime.run` and gets two ``gevent.event.AsyncResult`` s
  (the submit's and the end's); the call is queued and the loop woken with
  ``call_soon_threadsafe`` (one wake-up for everything queued since the last);
* the loop runs it as a task; when the task ends its outcome is queued for the hub and
  the hub woken through a gevent *async watcher* (the thread-safe way into a gevent
  loop; an ``AsyncResult`` must only be set on its hub's thread), whose callback sets
  the results.

The runtime is made lazily, on a user's first call, for ``os.getpid()``: with
``--processes N`` Locust forks its workers after importing the locustfile, and a
thread does not survive a fork, so each worker process builds its own.

At the end (:meth:`EngineRuntime.drain`) running executions get ``drain_seconds`` to
end; then the testbed stops. Executions that did not end are left as they are in the
store, never cancelled, so the loss check (``loadtests.ledger``) counts them.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import os
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.monkey
from gevent.event import AsyncResult

from engine import ExecutionRecord
from harness.testbed import Testbed, TestbedOptions
from loadtests.mix import WorkflowMix
from loadtests.plan import STORE_ROOT_ENV, STORE_TAG_ENV, LoadPlan


@dataclass(frozen=True)
class DrainReport:
    """What was still running when the load stopped, and what did not end in time."""

    running_at_stop: int
    unfinished: tuple[str, ...]


class EngineStoppedError(RuntimeError):
    """The in-process engine was used after the load run stopped it."""


class EngineRuntime:
    """See the module docstring. Use :func:`runtime_for`; one per process."""

    def __init__(self, plan: LoadPlan, index: int) -> None:
        self.plan = plan
        self.index = index
        tag = os.environ.get(STORE_TAG_ENV) or socket.gethostname()
        self.store_path = plan.store_path(tag, os.getpid(), os.environ.get(STORE_ROOT_ENV))
        self.mix = WorkflowMix.of(plan.profile())
        self.bed: Testbed | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._to_loop: collections.deque[tuple[Callable[[], Coroutine[Any, Any, Any]], Any]] = (
            collections.deque()
        )
        self._to_hub: collections.deque[tuple[AsyncResult[Any], bool, Any]] = collections.deque()
        self._loop_woken = False
        self._watcher: Any = None
        self._ready: AsyncResult[None] | None = None
        self._stopped = False
        self._drained: DrainReport | None = None

    # -- greenlet side -------------------------------------------------------------

    def start(self) -> None:
        """Start the thread and wait (cooperatively) until its testbed runs."""
        if self._ready is not None:
            self._ready.get()
            return
        self._ready = AsyncResult()
        hub = gevent.get_hub()
        self._watcher = hub.loop.async_()
        self._watcher.ref = False  # the watcher alone does not keep the process alive
        self._watcher.start(self._deliver)
        self.store_path.parent.mkdir(parents=True, exist_ok=True)
        start_thread = gevent.monkey.get_original("_thread", "start_new_thread")
        start_thread(self._thread_main, ())
        self._ready.get()

    def run(
        self, name: str, version: int, inputs: Mapping[str, Any]
    ) -> tuple[AsyncResult[str], AsyncResult[ExecutionRecord]]:
        """Submit an execution and follow it: the results of its id and of its end.

        The id's result is set as soon as the engine has stored the execution (what a
        submit returns), the end's when it is terminal; one trip into the loop for both.
        """
        submitted: AsyncResult[str] = AsyncResult()

        async def submit_and_follow() -> ExecutionRecord:
            engine = self._engine()
            try:
                execution_id = await engine.submit(name, dict(inputs), version=version)
            except BaseException as exc:
                self._post(submitted, False, exc)
                raise
            self._post(submitted, True, execution_id)
            record: ExecutionRecord = await engine.finished(execution_id)
            return record

        return submitted, self._call(submit_and_follow)

    def finished(self, execution_id: str) -> AsyncResult[ExecutionRecord]:
        """An ``AsyncResult`` of the execution's record once it is terminal."""
        return self._call(lambda: self._engine().finished(execution_id))

    def drain(self, timeout: float) -> DrainReport:
        """Wait up to ``timeout`` s for running executions, then stop the testbed."""
        if self._drained is not None:
            return self._drained
        if self._ready is None or self._stopped:
            self._drained = DrainReport(0, ())
            return self._drained
        report = self._call(lambda: self._drain(timeout)).get()
        assert isinstance(report, DrainReport)
        self._stopped = True
        self._drained = report
        return report

    def _call(self, factory: Callable[[], Coroutine[Any, Any, Any]]) -> AsyncResult[Any]:
        if self._stopped:
            raise EngineStoppedError("the in-process engine has stopped (the load run is over)")
        result: AsyncResult[Any] = AsyncResult()
        self._to_loop.append((factory, result))
        # Order matters: the loop clears the flag before it empties the queue, so a call
        # queued after that sees the flag down and wakes the loop itself.
        if not self._loop_woken:
            self._loop_woken = True
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._run_queued)
        return result

    def _deliver(self) -> None:
        """Hub thread: set the results the loop finished since the last wake-up."""
        queue = self._to_hub
        while queue:
            result, ok, value = queue.popleft()
            if ok:
                result.set(value)
            else:
                result.set_exception(value)

    # -- loop thread ---------------------------------------------------------------

    def _thread_main(self) -> None:
        ready = self._ready
        assert ready is not None
        selector = gevent.monkey.get_original("selectors", "DefaultSelector")()
        loop = asyncio.SelectorEventLoop(selector)
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._start_bed())
        except BaseException as exc:
            self._post(ready, False, exc)
            loop.close()
            return
        self._post(ready, True, None)
        try:
            loop.run_forever()
        finally:
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.wait(left, timeout=5.0))
            loop.close()

    async def _start_bed(self) -> None:
        seed = self.plan.seed + 7919 * self.index
        options = TestbedOptions(
            store="sqlite", sqlite_path=self.store_path, seed=seed, real_time=True, record=False
        )
        bed = Testbed(self.plan.profile(), options)
        await bed.start()
        for entry in self.mix.entries:
            bed.template(entry.template)
        self.bed = bed

    def _engine(self) -> Any:
        assert self.bed is not None
        return self.bed.engine

    def _post(self, result: AsyncResult[Any], ok: bool, value: Any) -> None:
        self._to_hub.append((result, ok, value))
        self._watcher.send()

    def _run_queued(self) -> None:
        self._loop_woken = False
        loop = self._loop
        assert loop is not None
        queue = self._to_loop
        while queue:
            factory, result = queue.popleft()
            try:
                task: asyncio.Task[Any] = loop.create_task(factory())
            except BaseException as exc:
                self._post(result, False, exc)
                continue
            task.add_done_callback(functools.partial(self._settled, result))

    def _settled(self, result: AsyncResult[Any], task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self._post(result, False, EngineStoppedError("the in-process engine stopped"))
            return
        exc = task.exception()
        if exc is not None:
            self._post(result, False, exc)
        else:
            self._post(result, True, task.result())

    async def _drain(self, timeout: float) -> DrainReport:
        bed = self.bed
        assert bed is not None
        assert self._loop is not None
        engine = bed.engine
        running = engine.active_executions()
        if running:
            waits = [asyncio.ensure_future(engine.finished(e)) for e in running]
            _, pending = await asyncio.wait(waits, timeout=timeout)
            for w in pending:
                w.cancel()
        unfinished = tuple(engine.active_executions())
        # Leave what did not end as the store holds it: cancelling would make it
        # terminal and hide the loss.
        await bed.stop(cancel=False)
        self._loop.call_soon(self._loop.stop)
        return DrainReport(len(running), unfinished)


_RUNTIMES: dict[int, EngineRuntime] = {}


def runtime_for(plan: LoadPlan, index: int) -> EngineRuntime:
    """This process's runtime, made and started on first use (see module docstring)."""
    pid = os.getpid()
    runtime = _RUNTIMES.get(pid)
    if runtime is None:
        runtime = EngineRuntime(plan, index)
        _RUNTIMES[pid] = runtime
    runtime.start()
    return runtime


def current_runtime() -> EngineRuntime | None:
    """This process's runtime, if a user made one."""
    return _RUNTIMES.get(os.getpid())
