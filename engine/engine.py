"""The engine: registers templates, runs executions, persists every transition.

How an execution moves:

1. ``submit`` validates inputs, writes the execution (a step without a record is
   Pending), then marks it Running and resolves its root steps.
2. A step is *resolved* once every dependency is terminal: its trigger rule, then its
   ``when`` condition, decide whether it is Skipped or becomes ready.
3. Ready steps wait in their execution's queue; one engine-wide heap orders executions
   by (priority, submission order) and hands out slots while the engine-wide and
   per-execution limits allow. A step holds its slot from start to finish, backoff
   waits included, so the number of Running steps never exceeds either limit.
4. A running step makes attempts under its retry policy; each attempt gets the step's
   ``timeout``. When it ends, its dependents' counters drop and the ones at zero are
   resolved in turn.
5. When no step is left unfinished (or, after a failure under ``fail_fast``, when no
   step is running) the execution's outcome is computed and persisted.

Time is ``loop.time()`` of the running event loop throughout, so under a virtual clock a
workflow with minutes of backoff finishes in milliseconds with the same result.

Timeouts and retries: an attempt that runs past the step's ``timeout`` is cancelled and
counts as a ``timeout`` failure; the retry policy retries it when ``retry_on`` holds
``timeout`` (the default) and attempts remain. If the last attempt timed out the step
ends TimedOut, otherwise Failed. The workflow ``timeout`` bounds everything: when it
passes, running steps are cancelled and marked TimedOut, steps that never started are
Cancelled, and the execution ends Failed.

This module holds the public API; the machinery lives by concern in
:mod:`engine.dispatch` (resolving, queueing, admitting, starting steps),
:mod:`engine.step_task` (a started step's attempts) and :mod:`engine.finishing`
(stopping, rollback, outcome, dead letters, events), as methods of this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from engine.actions import ActionRegistry
from engine.admission import Admission
from engine.builtin_actions import default_registry
from engine.circuit_breaker import BreakerRegistry
from engine.compiled import CompiledWorkflow
from engine.dead_letters import DeadLetterQueue, DeadLetterStore
from engine.dispatch import DispatchMixin
from engine.errors import EngineError, UnknownExecutionError
from engine.events import EventBus, EventKind
from engine.finishing import FinishingMixin
from engine.records import ExecutionRecord, ExecutionState, StepRecord
from engine.recovery import UNFINISHED, missing_templates, rebuild
from engine.run_state import RunState
from engine.status import ExecutionStatus, StepStatus
from engine.step_task import StepTaskMixin
from engine.storage import ExecutionRepository, StateStorage
from engine.template import WorkflowTemplate
from engine.validation import compile_template


class Engine(DispatchMixin, StepTaskMixin, FinishingMixin):
    """Runs workflow executions on the current asyncio event loop.

    ``max_concurrency`` caps running steps across all executions; a template's
    ``max_concurrency`` caps them within one execution. ``seed`` makes retry jitter and
    the actions' random generators reproducible.
    """

    def __init__(
        self,
        *,
        state_storage: StateStorage,
        repository: ExecutionRepository,
        actions: ActionRegistry | None = None,
        max_concurrency: int | None = None,
        seed: int = 0,
        dead_letters: DeadLetterStore | None = None,
        wall_clock: bool = False,
        breakers: BreakerRegistry | None = None,
        admission: Admission | None = None,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.actions = actions if actions is not None else default_registry()
        self.state = state_storage
        self._save_step = state_storage.save_step  # bound once: called twice per step
        # Stores that commit a loop tick's writes together expose ``committed()``: submit
        # awaits it before handing out an id (steps need no wait: see _dispatch).
        self._committed: Callable[[], Awaitable[None]] | None = getattr(
            state_storage, "committed", None
        )
        # Such stores learn of a failed commit only after the writes it held were made:
        # ``write_failure()`` tells a step about to act that its Running record was lost.
        self._write_failure: Callable[[], Exception | None] | None = getattr(
            state_storage, "write_failure", None
        )
        self.repository = repository
        self.dead_letters: DeadLetterStore = (
            dead_letters if dead_letters is not None else DeadLetterQueue()
        )
        self.max_concurrency = max_concurrency
        self.seed = seed
        self.events = EventBus()
        self.breakers = breakers
        if breakers is not None:
            breakers.on_change = self._breaker_changed
        self.admission = admission
        self._throttled: list[tuple[RunState, int]] = []
        self._retrying: bool = False
        if admission is not None:
            admission.subscribe(self._room_changed)
        self._templates: dict[tuple[str, int], CompiledWorkflow] = {}
        self._latest: dict[str, int] = {}
        self._runs: dict[str, RunState] = {}
        self._heap: list[tuple[int, int, RunState]] = []
        self._limit = max_concurrency if max_concurrency is not None else float("inf")
        self._running = 0
        self._seq = itertools.count()
        # Execution ids come from the seed too, so that everything keyed by them (action
        # randomness, retry jitter) repeats exactly in a rerun with the same seed.
        self._ids = random.Random(f"execution-ids:{seed}")
        self._closed = False
        self.wall_clock = wall_clock

    def _clock(self, loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
        """The time source of records and deadlines: loop time, shifted to the epoch.

        Loop time is what virtual time speeds up, but it starts anywhere and differs
        between processes; a durable engine (``wall_clock=True``) adds the offset to
        Unix time measured now, so timestamps survive a restart and mean something to
        a person. Tests keep the bare loop clock.
        """
        loop_time: Callable[[], float] = loop.time
        if getattr(loop_time, "__func__", None) is asyncio.BaseEventLoop.time:
            # The stock loop's time() is a Python-level wrapper of time.monotonic(); read
            # the same clock directly (two calls per step). Loops that bend time keep
            # their own: looptime's overrides time() in its class, and a loop may also
            # have time replaced on the instance (then loop.time is no bound method of
            # BaseEventLoop.time, so the check above sees it).
            loop_time = time.monotonic
        if not self.wall_clock:
            return loop_time
        offset = time.time() - loop_time()
        return lambda: loop_time() + offset

    # ------------------------------------------------------------------ templates

    def register(self, template: WorkflowTemplate | CompiledWorkflow) -> CompiledWorkflow:
        """Validate and register a template version; the same version twice must be equal."""
        compiled = (
            template
            if isinstance(template, CompiledWorkflow)
            else compile_template(template, self.actions)
        )
        key = (compiled.name, compiled.version)
        existing = self._templates.get(key)
        if existing is not None:
            if existing.template != compiled.template:
                raise EngineError(
                    f"template '{compiled.name}' version {compiled.version} is already "
                    "registered with different content; register it as a new version"
                )
            return existing
        self._templates[key] = compiled
        if compiled.version > self._latest.get(compiled.name, 0):
            self._latest[compiled.name] = compiled.version
        return compiled

    def template(self, name: str, version: int | None = None) -> CompiledWorkflow:
        """A registered template; the latest version unless ``version`` is given."""
        if version is None:
            if name not in self._latest:
                known = ", ".join(sorted(self._latest)) or "none"
                raise EngineError(f"no template named '{name}' is registered (registered: {known})")
            version = self._latest[name]
        try:
            return self._templates[(name, version)]
        except KeyError:
            raise EngineError(f"template '{name}' has no version {version}") from None

    # ------------------------------------------------------------------ lifecycle API

    async def submit(
        self,
        template: WorkflowTemplate | CompiledWorkflow | str,
        inputs: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        execution_id: str | None = None,
        priority: int | None = None,
        idempotency_key: str | None = None,
        dry_run: bool = False,
        replay_of: str | None = None,
        parent_id: str | None = None,
    ) -> str:
        """Start an execution and return its id; the execution runs in the background.

        With an ``idempotency_key`` seen before, nothing new starts: the id of the
        execution submitted with that key is returned (it must be of the same workflow).
        A ``dry_run`` execution validates every step and calls only the actions' dry-run
        paths, so nothing is mutated; its step outputs say what would have happened.
        """
        if self._closed:
            raise EngineError("the engine is closed")
        compiled = (
            self.template(template, version)
            if isinstance(template, str)
            else self.register(template)
        )
        if idempotency_key is not None:
            existing = self.repository.get_by_idempotency_key(idempotency_key)
            if existing is not None:
                if existing.workflow != compiled.name:
                    raise EngineError(
                        f"idempotency key '{idempotency_key}' was used for workflow "
                        f"'{existing.workflow}', not '{compiled.name}'"
                    )
                return existing.execution_id
        bound = compiled.bind_inputs(inputs)
        variables = compiled.vars.resolve({"inputs": bound})
        loop = asyncio.get_running_loop()
        clock = self._clock(loop)
        if execution_id is None:
            execution_id = self._new_id()
        elif execution_id in self._runs or self.repository.get(execution_id) is not None:
            raise EngineError(f"an execution with id '{execution_id}' already exists")
        run = RunState(
            execution_id=execution_id,
            compiled=compiled,
            inputs=bound,
            variables=variables,
            priority=compiled.template.priority if priority is None else priority,
            seq=next(self._seq),
            created_at=clock(),
            done=loop.create_future(),
            loop=loop,
            clock=clock,
            idempotency_key=idempotency_key,
            dry_run=dry_run,
            replay_of=replay_of,
            parent_id=parent_id,
        )
        record = run.record()
        self.repository.store(record)
        # Steps without a saved record are Pending: nothing to write for them yet.
        self.state.save(execution_id, record, ())
        self._runs[execution_id] = run
        self._emit_execution(run, EventKind.EXECUTION_SUBMITTED)
        self._start(run, loop)
        if self._committed is not None:
            await self._committed()  # the id is handed out only once it is durable
        return execution_id

    def _new_id(self) -> str:
        """The next seeded id not yet used: a restart on a durable store with the same seed
        replays the sequence, and skips the ids the store already holds."""
        while True:
            candidate = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
            if candidate not in self._runs and self.repository.get(candidate) is None:
                return candidate

    async def recover(self) -> list[str]:
        """Resume every unfinished execution found in the stores; returns their ids.

        Register the templates (every version in use) first. See
        :mod:`engine.recovery` for what is guaranteed about each step.
        """
        missing = missing_templates(self)
        if missing:
            raise EngineError(
                "cannot recover before these templates are registered: " + ", ".join(missing)
            )
        loop = asyncio.get_running_loop()
        clock = self._clock(loop)
        recovered: list[RunState] = []
        for record in self.repository.list(status=UNFINISHED):
            if record.execution_id in self._runs:
                continue
            run, ready = rebuild(
                self, record.execution_id, seq=next(self._seq), loop=loop, clock=clock
            )
            self._runs[run.execution_id] = run
            recovered.append(run)
            self._save_execution(run)
            self._arm_deadline(run)
            self._emit_execution(run, EventKind.EXECUTION_RESUMED)
            self._resolve_all(run, ready)
        self._pump()
        for run in recovered:
            self._maybe_finish(run)
        return [run.execution_id for run in recovered]

    async def replay(self, execution_id: str) -> str:
        """Start a new execution from a dead letter: same template version and inputs."""
        letter = self.dead_letters.get(execution_id)
        if letter is None:
            raise EngineError(f"execution '{execution_id}' is not in the dead-letter queue")
        if letter.replayed_by is not None:
            raise EngineError(
                f"execution '{execution_id}' was already replayed by '{letter.replayed_by}'"
            )
        original = self.get(execution_id).execution
        new_id = await self.submit(
            original.workflow,
            original.inputs,
            version=original.version,
            priority=original.priority,
            replay_of=execution_id,
        )
        self.dead_letters.mark_replayed(execution_id, new_id)
        return new_id

    async def wait(self, execution_id: str) -> ExecutionState:
        """Wait until the execution is terminal and return its persisted state."""
        run = self._runs.get(execution_id)
        if run is not None:
            await asyncio.shield(run.done)
        return self.get(execution_id)

    async def finished(self, execution_id: str) -> ExecutionRecord:
        """Wait until the execution is terminal and return its record, without its steps.

        For callers that only need the outcome (load tests, benchmarks): it skips
        loading every step's record, which for a large workflow costs more than a step.
        """
        run = self._runs.get(execution_id)
        if run is not None:
            await asyncio.shield(run.done)
        record = self.repository.get(execution_id)
        if record is None:
            raise UnknownExecutionError(execution_id)
        return record

    async def run(
        self,
        template: WorkflowTemplate | CompiledWorkflow | str,
        inputs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ExecutionState:
        """Submit and wait: the persisted final state of a new execution."""
        return await self.wait(await self.submit(template, inputs, **kwargs))

    def get(self, execution_id: str) -> ExecutionState:
        """The execution's current persisted state, every step of its template included.

        A step the stores hold no record of has not started: it is reported Pending.
        """
        state = self.state.load(execution_id)
        if state is None:
            raise UnknownExecutionError(execution_id)
        record = state.execution
        compiled = self._templates.get((record.workflow, record.version))
        if compiled is None or len(state.steps) == len(compiled.steps):
            return state
        steps = {
            s.id: state.steps.get(s.id) or StepRecord(s.id, StepStatus.PENDING)
            for s in compiled.steps
        }
        return ExecutionState(record, steps)

    def pause(self, execution_id: str) -> None:
        """Start no new steps of the execution; running ones finish."""
        run = self._active(execution_id)
        if run.paused or run.stopping:
            return
        run.paused = True
        run.status = ExecutionStatus.PAUSED
        self._save_execution(run)
        self._emit_execution(run, EventKind.EXECUTION_PAUSED)

    def resume(self, execution_id: str) -> None:
        """Let a paused execution start steps again."""
        run = self._active(execution_id)
        if not run.paused:
            return
        run.paused = False
        run.status = ExecutionStatus.RUNNING
        self._save_execution(run)
        self._emit_execution(run, EventKind.EXECUTION_RESUMED)
        if run.ready:
            self._enqueue(run)
        self._pump()
        self._maybe_finish(run)

    def cancel(self, execution_id: str, *, compensate: bool = False) -> None:
        """Cancel running steps now and mark the rest Cancelled.

        The execution ends Cancelled, or, with ``compensate``, RolledBack after the
        compensations of its completed steps ran (Failed if one of them failed).
        """
        run = self._active(execution_id)
        if run.stopping and run.cancel_requested:
            return
        run.cancel_requested = True
        run.compensate_on_cancel = compensate
        self._stop(run, "execution cancelled")

    async def aclose(self) -> None:
        """Cancel every active execution and wait until each is terminal."""
        self._closed = True
        runs = list(self._runs.values())
        for run in runs:
            self.cancel(run.execution_id)
        for run in runs:
            await asyncio.shield(run.done)

    @contextlib.contextmanager
    def slot_released(self) -> Iterator[None]:
        """While in this block, the calling step does not hold an engine-wide slot.

        For a step that only waits on other executions (the ``subflow`` action): its
        child's steps queue for the same slots, so holding one while waiting would
        deadlock at ``max_concurrency=1``, or with N such steps at a limit of N. As Argo
        and Temporal do for child workflows, the waiting parent step gives its slot back
        and takes it again when the wait ends (which may briefly exceed the limit by the
        steps that were waiting, never by a step that runs an action). The step stays
        Running for its own execution and still counts against the template's
        ``max_concurrency``.
        """
        self._running -= 1
        if self._heap:
            self._pump()
        try:
            yield
        finally:
            self._running += 1

    @property
    def running_steps(self) -> int:
        """Steps running right now, across all executions."""
        return self._running

    @property
    def ready_steps(self) -> int:
        """Steps ready to run but waiting for a free slot (the ready-queue depth)."""
        return sum(len(run.ready) for _, _, run in self._heap)

    @property
    def throttled_steps(self) -> int:
        """Steps waiting for cluster room (resource-aware admission)."""
        return len(self._throttled)

    def active_executions(self) -> list[str]:
        """Ids of executions that are not terminal yet."""
        return list(self._runs)

    def _active(self, execution_id: str) -> RunState:
        run = self._runs.get(execution_id)
        if run is None:
            if self.state.load(execution_id) is None:
                raise UnknownExecutionError(execution_id)
            raise EngineError(f"execution '{execution_id}' has already finished")
        return run

    # ------------------------------------------------------------------ dispatch

    # ------------------------------------------------------------------ persistence and events
