"""The reconcile loop every controller shares: a deduplicating work queue on the loop.

Store listeners run synchronously under the store lock and must not write, so a
controller's listener only maps a change to keys and :meth:`WorkQueue.add`\\ s them.
One worker task per controller drains the queue and calls :meth:`Controller.reconcile`
for each key, outside the listener. A 409 Conflict re-queues the key; any other
exception is recorded in :attr:`Context.failures` (the simulation's ``settle`` raises
it) so that controller bugs fail tests instead of hanging them.

Time comes only from the running loop (``loop.call_at``), so delayed re-queues follow
virtual time under looptime. ``Context.busy`` counts delayed work that must finish
before the cluster is "settled"; steady-state timers (crash-loop restarts, progress
deadlines) do not count.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Hashable

    from fakes.kube.controllers.access import Access
    from fakes.kube.controllers.config import SimulationConfig
    from fakes.kube.controllers.events import EventRecorder
    from fakes.kube.store import Change

JsonObj = dict[str, Any]


@dataclass
class Context:
    """What every controller shares: the object API, events, config, randomness."""

    access: Access
    recorder: EventRecorder
    config: SimulationConfig
    seed: int = 0
    failures: list[str] = field(default_factory=list)
    busy: int = 0
    not_ready_nodes: set[str] = field(default_factory=set)
    activity: asyncio.Event | None = None
    """Set whenever work is queued; ``settle`` waits on it instead of polling."""

    def rng(self, name: str) -> random.Random:
        """An independent seeded stream per consumer, so adding one never shifts another."""
        return random.Random(f"{self.seed}-{name}")


class WorkQueue:
    """Ordered, deduplicating set of keys; wakes one consumer on the loop."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, activity: asyncio.Event | None = None
    ) -> None:
        self.loop = loop
        self.activity = activity
        self._thread = threading.get_ident()
        self._keys: dict[Hashable, None] = {}
        self._event = asyncio.Event()
        self.processing = False

    def add(self, key: Hashable) -> None:
        if threading.get_ident() != self._thread:
            self.loop.call_soon_threadsafe(self.add, key)
            return
        self._keys[key] = None
        self._event.set()
        if self.activity is not None:
            self.activity.set()

    def add_after(self, key: Hashable, delay: float) -> asyncio.TimerHandle:
        return self.loop.call_at(self.loop.time() + max(delay, 0.0), self.add, key)

    def __len__(self) -> int:
        return len(self._keys)

    async def take_all(self) -> list[Hashable]:
        while not self._keys:
            self._event.clear()
            await self._event.wait()
        keys = list(self._keys)
        self._keys.clear()
        return keys


class Controller:
    """Base class: subclass, set ``name``, implement :meth:`setup` and :meth:`reconcile`."""

    name = "controller"
    batch_yield = 500

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.access = ctx.access
        self.recorder = ctx.recorder
        self.config = ctx.config
        self.queue: WorkQueue | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: list[Any] = []
        self._timers: dict[Hashable, tuple[asyncio.TimerHandle, bool]] = {}

    # -- to implement ------------------------------------------------------------

    def setup(self) -> None:
        """Subscribe to the kinds this controller follows (called on start)."""

    def resync(self) -> None:
        """Queue every existing object this controller owns (called on start)."""

    def reconcile(self, key: Any) -> None:
        raise NotImplementedError

    # -- plumbing ----------------------------------------------------------------

    def kind(self, name: str) -> Any:
        return self.access.registry.resolve(name)

    def watch(self, kind_name: str, listener: Any) -> None:
        self._unsubscribe.append(self.access.subscribe(self.kind(kind_name), listener))

    def enqueue(self, key: Hashable) -> None:
        if self.queue is not None:
            self.queue.add(key)

    def create_refused(
        self,
        owner: JsonObj,
        key: Hashable,
        error: ApiError,
        component: str,
        message: str | None = None,
    ) -> None:
        """A pod create the API refused: a Warning ``FailedCreate`` and a retry in 5 s.

        As kube's workload controllers do. A 403 (quota, limit range) is a steady
        state, not pending work, so ``settle`` does not wait on its retry.
        """
        self.recorder.record(
            owner,
            "FailedCreate",
            message or f"Error creating: {error.message}",
            "Warning",
            component=component,
        )
        self.enqueue_after(key, 5.0, counts=error.code != 403)

    def enqueue_after(self, key: Hashable, delay: float, counts: bool = True) -> None:
        """Reconcile ``key`` again after ``delay`` loop seconds (one timer per key).

        ``counts``: the simulation is not settled while this timer is armed.
        """
        if self.queue is None:
            return
        self.cancel_after(key)
        loop = self.queue.loop

        def fire() -> None:
            entry = self._timers.pop(key, None)
            if entry is not None and entry[1]:
                self.ctx.busy -= 1
            self.enqueue(key)

        handle = loop.call_at(loop.time() + max(delay, 0.0), fire)
        if counts:
            self.ctx.busy += 1
        self._timers[key] = (handle, counts)

    def cancel_after(self, key: Hashable) -> None:
        entry = self._timers.pop(key, None)
        if entry is not None:
            entry[0].cancel()
            if entry[1]:
                self.ctx.busy -= 1

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.ctx.activity is None:
            self.ctx.activity = asyncio.Event()
        self.queue = WorkQueue(loop, self.ctx.activity)
        self.setup()
        self.resync()
        self._task = loop.create_task(self._run(), name=f"windtunnel-{self.name}")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for key in list(self._timers):
            self.cancel_after(key)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def idle(self) -> bool:
        return self.queue is None or (not len(self.queue) and not self.queue.processing)

    async def _run(self) -> None:
        assert self.queue is not None
        queue = self.queue
        while True:
            keys = await queue.take_all()
            queue.processing = True
            try:
                for i, key in enumerate(keys):
                    self._reconcile_one(key)
                    if i % self.batch_yield == self.batch_yield - 1:
                        await asyncio.sleep(0)
            finally:
                queue.processing = False
            await asyncio.sleep(0)

    def _reconcile_one(self, key: Any) -> None:
        try:
            self.reconcile(key)
        except ApiError as exc:
            if exc.code in (409, 404):
                self.enqueue_after(key, 0.0)
            else:
                self.enqueue_after(key, 1.0)
        except Exception:
            self.ctx.failures.append(f"{self.name} failed on {key!r}:\n{traceback.format_exc()}")


def change_key(change: Change) -> tuple[str, str]:
    return (change.namespace, change.name)
