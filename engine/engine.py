"""The engine: registers templates, runs executions, persists every transition.

How an execution moves:

1. ``submit`` validates inputs, writes the execution and all its steps as Pending, then
   marks it Running and resolves its root steps.
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
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from engine.actions import ActionContext, ActionFn, ActionRegistry
from engine.admission import Admission, Demand
from engine.builtin_actions import default_registry
from engine.circuit_breaker import BreakerRegistry, BreakerState, breaker_event
from engine.compensation import compensable, compensate_step, roll_back
from engine.compiled import CompiledStep, CompiledWorkflow
from engine.dead_letters import DeadLetterQueue, DeadLetterStore
from engine.errors import EngineError, StepTimeoutError, UnknownExecutionError
from engine.events import Event, EventBus, EventKind
from engine.expressions import ExpressionError
from engine.records import AttemptRecord, DeadLetter, ExecutionState, StepRecord
from engine.recovery import UNFINISHED, missing_templates, rebuild
from engine.retry import backoff_delay, is_retryable, jitter_rng, retry_after
from engine.run_state import RunState, StepState
from engine.status import ExecutionStatus, StepStatus
from engine.storage import ExecutionRepository, StateStorage
from engine.template import FailurePolicy, WorkflowTemplate
from engine.trigger_rules import TriggerRule
from engine.validation import compile_template

_CANCELLED = StepStatus.CANCELLED
_RUNNING = StepStatus.RUNNING
_SUCCEEDED = StepStatus.SUCCEEDED
# Builds a named tuple without its Python-level __new__: used on the per-step hot path.
_new_tuple = tuple.__new__


def _preview(action: str) -> ActionFn:
    """The dry-run stand-in for an action without a dry-run path: it reports the call."""

    async def preview(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"dry_run": True, "action": action, "params": dict(params)}

    return preview


class Engine:
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
        # Stores that commit in batches expose ``committed()``: awaited before acting.
        self._committed: Callable[[], Awaitable[None]] | None = getattr(
            state_storage, "committed", None
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
        self._retrying = False
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
        if type(loop).time is asyncio.BaseEventLoop.time:
            # The stock loop's time() is a Python-level wrapper of time.monotonic(); read
            # the same clock directly (two calls per step). Loops that bend time, such as
            # looptime's, override time() and keep their own.
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
        execution_id = execution_id or str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        if execution_id in self._runs or self.repository.get(execution_id) is not None:
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

    # ------------------------------------------------------------------ execution flow

    def _start(self, run: RunState, loop: asyncio.AbstractEventLoop) -> None:
        run.status = ExecutionStatus.RUNNING
        run.started_at = run.clock()
        self._arm_deadline(run)
        self._save_execution(run)
        self._emit_execution(run, EventKind.EXECUTION_STARTED)
        try:
            # The worklist is a stack: reversed, the roots start in document order.
            self._resolve_all(run, list(reversed(run.compiled.roots)))
            self._pump()
            self._maybe_finish(run)
        except Exception as exc:  # the store refused a write: the execution cannot go on
            self._abort(run, None, exc)
            raise

    def _arm_deadline(self, run: RunState) -> None:
        """Schedule the workflow timeout, counted from when the execution started."""
        timeout = run.compiled.template.timeout
        if timeout is not None and run.started_at is not None:
            left = run.started_at + timeout - run.clock()
            run.deadline_handle = run.loop.call_later(max(left, 0.0), self._on_deadline, run)

    def _resolve_all(self, run: RunState, worklist: list[int]) -> None:
        """Decide, for each step whose dependencies are all terminal, whether it runs.

        Steps skipped here are terminal at once, so their dependents join the worklist;
        a worklist (not recursion) keeps long chains of skips off the call stack.
        """
        steps = run.compiled.steps
        unsucceeded = run.unsucceeded
        while worklist:
            index = worklist.pop()
            if run.stopping:
                # Never started: left Pending here and marked Cancelled when the run ends.
                continue
            step = steps[index]
            # The common case (default rule met, no condition) needs no look at anything.
            outcome = None if step.plain and not unsucceeded[index] else self._decide(run, step)
            if outcome is None:
                if (
                    not self._heap
                    and not run.ready
                    and self._running < self._limit
                    and run.running < run.max_running
                    and not (run.paused or run.stopping)
                ):
                    self._dispatch(run, index)
                else:
                    run.ready.append(index)
                continue
            self._settle_unstarted(run, index, *outcome)
            self._settled(run, index, worklist)
        if run.ready and not run.in_heap and run.dispatchable:
            self._enqueue(run)

    def _settle_unstarted(
        self, run: RunState, index: int, status: StepStatus, reason: str, error: str | None
    ) -> None:
        """Record a terminal status for a step that never started (skipped, refused)."""
        state = run.state(index)
        state.status = status
        state.reason = reason
        state.error = error
        state.started_at = state.finished_at = run.clock()
        self.state.save_step(run.execution_id, state.record())
        if self.events.active:
            self.emit_step(run, EventKind.STEP_FINISHED, state)

    def _decide(
        self, run: RunState, step: CompiledStep
    ) -> tuple[StepStatus, str, str | None] | None:
        """None if the step may run, else (status, reason, error) to settle it with."""
        if step.deps and not (
            step.trigger_rule is TriggerRule.ALL_SUCCEEDED and not run.unsucceeded[step.index]
        ):
            deps = [run.state(d) for d in step.deps]
            if not step.trigger_rule.satisfied([d.status for d in deps]):
                blockers = ", ".join(f"{d.step_id}={d.status}" for d in deps)
                return (
                    StepStatus.SKIPPED,
                    f"trigger rule {step.trigger_rule} not met ({blockers})",
                    None,
                )
        if step.when is not None:
            try:
                value = step.when.evaluate(self.expression_context(run, step))
            except ExpressionError as exc:
                return StepStatus.FAILED, "condition could not be evaluated", str(exc)
            if not isinstance(value, bool):
                return (
                    StepStatus.FAILED,
                    "condition could not be evaluated",
                    f"condition {step.when.source!r} gave {value!r}, not a boolean",
                )
            if not value:
                return StepStatus.SKIPPED, f"condition is false: {step.when.source}", None
        return None

    def expression_context(
        self, run: RunState, step: CompiledStep, *, include_self: bool = False
    ) -> dict[str, Any]:
        """What the step's expressions see: inputs, vars and the steps they read."""
        refs: frozenset[int] | set[int] | None = step.step_refs
        if refs is None:
            refs = run.compiled.ancestors(step.index)
        if include_self:
            refs = {*refs, step.index}
        views = (run.state(i) for i in refs)
        return {
            "inputs": run.inputs,
            "vars": run.vars,
            "steps": {state.step_id: state.view() for state in views},
        }

    def _settled(self, run: RunState, index: int, worklist: list[int]) -> None:
        """Book a step that reached a terminal status and find dependents now resolvable."""
        run.unfinished -= 1
        state: StepState = run.steps[index]  # type: ignore[assignment]  # settled: it exists
        step = run.compiled.steps[index]
        status = state.status
        if status is not _SUCCEEDED:
            if status.failed and not step.spec.allow_failure:
                run.failures += 1
                policy = run.compiled.template.failure_policy
                if policy is FailurePolicy.FAIL_FAST and not run.stopping:
                    run.stopping = True
                    run.error = f"step '{state.step_id}' {status}: {state.error or state.reason}"
            unsucceeded = run.unsucceeded
            for dependent in step.dependents:
                unsucceeded[dependent] += 1
        waiting = run.waiting
        for dependent in reversed(step.dependents):  # popped in document order
            left = waiting[dependent] - 1
            waiting[dependent] = left
            if not left:
                worklist.append(dependent)

    # ------------------------------------------------------------------ dispatch

    def _enqueue(self, run: RunState) -> None:
        run.in_heap = True
        heapq.heappush(self._heap, (-run.priority, run.seq, run))

    def _pump(self) -> None:
        """Start ready steps, highest priority first, while the limits allow."""
        heap = self._heap
        while heap and self._running < self._limit:
            run = heap[0][2]
            if not run.ready or not run.dispatchable or run.running >= run.max_running:
                heapq.heappop(heap)
                run.in_heap = False
                continue
            self._dispatch(run, run.ready.popleft())

    def _dispatch(self, run: RunState, index: int) -> None:
        """Start step ``index``: record it Running, then create its task.

        The Running record is written here, before the task exists, so that a store
        which commits a loop tick's writes in one transaction (scheduled at the tick's
        first write) has committed it before the task's first step, and so before the
        action does anything.
        """
        if run.compiled.steps[index].resources is not None and not self._admit(run, index):
            return
        previous = run.steps[index]
        state = run.steps[index] = StepState(run.compiled.steps[index].spec.id)
        if previous is not None:  # rerun after recovery: keep the interrupted attempts
            state.attempts = previous.attempts
        state.status = _RUNNING
        state.started_at = run.clock()
        self._save_step(run.execution_id, state.record())
        run.running += 1
        self._running += 1
        run.tasks[index] = run.loop.create_task(self._execute(run, index, state))
        if self.events.active:
            self.emit_step(run, EventKind.STEP_STARTED, state)

    def _admit(self, run: RunState, index: int) -> bool:
        """Reserve the step's declared resources; False if it must not start now.

        A step that does not fit waits in the throttled queue (``on_insufficient:
        queue``) until room is released or re-measured, or fails at once (``fail``).
        """
        if self.admission is None:
            return True
        step = run.compiled.steps[index]
        template = step.resources
        assert template is not None
        try:
            values = template.constant
            if values is None:
                values = template.resolve(self.expression_context(run, step))
            demand = Demand.parse(values)
        except Exception as exc:
            self._refuse(run, index, "resources could not be resolved", f"{exc}")
            return False
        key = f"{run.execution_id}/{step.id}"
        reason = self.admission.try_reserve(key, demand)
        if reason is None:
            run.reservations[index] = key
            return True
        if step.spec.on_insufficient == "fail":
            self._refuse(run, index, "insufficient resources", f"{demand.describe()}: {reason}")
            return False
        self._throttled.append((run, index))
        if index in run.throttled:
            return False  # still waiting: one event per wait, not one per re-check
        run.throttled.add(index)
        if self.events.active:
            self.events.emit(
                Event(
                    EventKind.STEP_THROTTLED,
                    run.execution_id,
                    run.clock(),
                    run.compiled.name,
                    step_id=step.id,
                    status=str(StepStatus.PENDING),
                    data={"reason": reason, "demand": demand.describe()},
                )
            )
        return False

    def _refuse(self, run: RunState, index: int, reason: str, error: str) -> None:
        """Fail a step that cannot start, and let its dependents and the run move on."""
        self._settle_unstarted(run, index, StepStatus.FAILED, reason, error)
        worklist: list[int] = []
        self._settled(run, index, worklist)
        if worklist:
            self._resolve_all(run, worklist)
        run.loop.call_soon(self._maybe_finish, run)

    def _room_changed(self) -> None:
        """Capacity may have grown: give throttled steps, best priority first, a new try."""
        if not self._throttled or self._retrying:
            return
        self._retrying = True
        try:
            waiting, self._throttled = self._throttled, []
            waiting.sort(key=lambda item: (-item[0].priority, item[0].seq, item[1]))
            for run, index in waiting:
                if run.status.terminal or run.stopping:
                    continue
                run.ready.append(index)
                if not run.in_heap and run.dispatchable:
                    self._enqueue(run)
            self._pump()
        finally:
            self._retrying = False

    def _release(self, run: RunState, index: int) -> None:
        key = run.reservations.pop(index, None)
        if key is not None and self.admission is not None:
            self.admission.release(key)

    async def _execute(self, run: RunState, index: int, state: StepState) -> None:
        """Run one step to a terminal status, then settle it. One Task per started step.

        The attempt loop is inlined (not a nested coroutine) because this is the engine's
        hottest path; the rare branches live in plain helper methods.
        """
        step = run.compiled.steps[index]
        clock = run.clock
        step_started: float = state.started_at  # type: ignore[assignment]  # set by _dispatch
        started = step_started  # the current attempt's start
        if run.stopping:
            # Stopped between dispatch and this task's first step: it never acted.
            state.status = _CANCELLED
            state.reason = self._stop_reason(run)
        else:
            params = step.params.constant
            if params is None or step.action.params_model is not None:
                params = self._resolve_params(run, step, state, started)
            fn = step.action.fn
            if run.dry_run:
                fn = step.action.dry_run or _preview(step.action.name)
            timeout = step.spec.timeout
            breaker = (
                self.breakers.for_call(step.spec.action, params)
                if self.breakers is not None and params is not None and not run.dry_run
                else None
            )
            permit = None
            attempt = 0
            while params is not None:
                attempt += 1
                context = ActionContext(
                    run.execution_id,
                    state.step_id,
                    attempt,
                    run.inputs,
                    self.seed,
                    run.dry_run,
                    self,
                )
                try:
                    if breaker is not None:
                        permit = breaker.before_call()
                    if timeout is None:
                        outputs = await fn(context, params)
                    else:
                        async with asyncio.timeout(timeout) as scope:
                            outputs = await fn(context, params)
                except asyncio.CancelledError:
                    if permit is not None:
                        permit.release()  # a cancelled call says nothing about the target
                    self._cancelled(run, state, attempt, started, clock())
                    break
                except BaseException as exc:
                    if isinstance(exc, TimeoutError) and timeout is not None and scope.expired():
                        exc = StepTimeoutError(
                            f"attempt {attempt} exceeded the step timeout of {timeout}s"
                        )
                    elif not isinstance(exc, Exception):
                        if permit is not None:
                            permit.release()
                        raise
                    if permit is not None:
                        permit.record_failure()
                        permit = None
                    delay = self._failed_attempt(run, step, state, attempt, started, exc)
                    if delay is None:
                        break
                    try:
                        await asyncio.sleep(delay)
                    except asyncio.CancelledError:
                        self._cancelled(run, state, None, started, clock())
                        break
                    started = clock()
                else:
                    if permit is not None:
                        permit.record_success()
                    state.finished_at = now = clock()
                    state.attempts += (
                        _new_tuple(AttemptRecord, (attempt, started, now, None, None)),
                    )
                    state.outputs = outputs if outputs is not None else {}
                    if attempt > 1:
                        state.error = None  # earlier attempts' errors stay in the attempt log
                    state.status = _SUCCEEDED
                    if step.post_conditions and not self._post_conditions_hold(run, step, state):
                        self._save_step(run.execution_id, state.record())
                        await compensate_step(self, run, index)
                    break
        if state.finished_at is None:
            state.finished_at = clock()
        try:
            self._save_step(run.execution_id, state.record())
        except Exception as exc:
            self._abort(run, index, exc)
            return
        if self.events.active:
            self.emit_step(
                run,
                EventKind.STEP_FINISHED,
                state,
                {"duration": state.finished_at - step_started},  # backoffs included
            )
        del run.tasks[index]
        run.running -= 1
        self._running -= 1
        try:
            if run.reservations:
                self._release(run, index)
            worklist: list[int] = []
            self._settled(run, index, worklist)
            if worklist:
                self._resolve_all(run, worklist)
            elif run.ready and not run.in_heap and run.dispatchable:
                self._enqueue(run)
            if self._heap:
                self._pump()
            if run.running == 0:
                self._maybe_finish(run)
        except Exception as exc:  # a failed write while settling: same as above
            self._abort(run, None, exc)

    def _abort(self, run: RunState, index: int | None, error: Exception) -> None:
        """Stop an execution whose state could not be written, and fail it visibly.

        Running on without a record would break the promise that every transition is
        committed before the engine acts on it, so the execution stops: its other steps
        are cancelled, its slots freed, and ``wait()`` raises the error. The final
        status is written if the store takes it (best effort: it just failed).
        """
        if index is not None:
            del run.tasks[index]
            run.running -= 1
            self._running -= 1
            self._release(run, index)
        if run.store_error is None:
            run.store_error = error
            run.error = f"the execution's state could not be written: {error}"
            run.stopping = True
            self._cancel_tasks(run, run.error)
        if run.running or run.execution_id not in self._runs:
            return
        del self._runs[run.execution_id]
        if run.deadline_handle is not None:
            run.deadline_handle.cancel()
        run.status = ExecutionStatus.FAILED
        run.finished_at = run.clock()
        with contextlib.suppress(Exception):
            self.state.save(run.execution_id, run.record(), ())
            self.repository.store(run.record())
        self._emit_execution(run, EventKind.EXECUTION_FINISHED)
        if not run.done.done():
            run.done.set_exception(error)
            run.done.exception()  # retrieved here; wait() raises it again
        if self._heap:
            self._pump()

    def _post_conditions_hold(self, run: RunState, step: CompiledStep, state: StepState) -> bool:
        """Check the step's post-conditions; False (step now Failed) if a critical one broke."""
        context = self.expression_context(run, step)
        context["outputs"] = dict(state.outputs or {})
        warnings = []
        for expr, condition in step.post_conditions:
            label = condition.message or expr.source
            try:
                held = expr.evaluate(context) is True
            except ExpressionError as exc:
                held, label = False, f"{label} ({exc})"
            if held:
                continue
            if condition.critical:
                state.status = StepStatus.FAILED
                state.reason = "post-condition failed"
                state.error = f"post-condition failed: {label}"
                return False
            warnings.append(f"post-condition failed: {label}")
        state.warnings = tuple(warnings)
        return True

    def _resolve_params(
        self, run: RunState, step: CompiledStep, state: StepState, now: float
    ) -> Mapping[str, Any] | None:
        """The step's parameters with templates resolved, or None after failing the step."""
        try:
            params = step.params.constant
            if params is None:
                params = step.params.resolve(self.expression_context(run, step))
            if step.action.params_model is not None:
                params = step.action.parse_params(params)
        except Exception as exc:
            state.status = StepStatus.FAILED
            state.reason = "parameters could not be resolved"
            state.error = f"{type(exc).__name__}: {exc}"
            state.attempts = (AttemptRecord(1, now, now, state.error),)
            return None
        return params

    def _failed_attempt(
        self,
        run: RunState,
        step: CompiledStep,
        state: StepState,
        attempt: int,
        started: float,
        error: Exception,
    ) -> float | None:
        """Record a failed attempt; the backoff delay if the policy retries it, else None."""
        policy = step.retry
        now = run.clock()
        message = f"{type(error).__name__}: {error}"
        state.error = message
        if attempt < policy.max_attempts and is_retryable(policy, error, step.action.retryable):
            rng = (
                jitter_rng(self.seed, run.execution_id, state.step_id, attempt)
                if policy.jitter
                else None
            )
            delay = backoff_delay(policy, attempt, rng)
            # The target may have said when to come back (Retry-After, a cool-down).
            delay = max(delay, retry_after(error))
            state.attempts += (AttemptRecord(attempt, started, now, message, delay),)
            self.state.save_step(run.execution_id, state.record())
            if self.events.active:
                self.emit_step(
                    run, EventKind.STEP_RETRYING, state, {"delay": delay, "error": message}
                )
            return delay
        state.attempts += (AttemptRecord(attempt, started, now, message),)
        state.finished_at = now
        state.status = (
            StepStatus.TIMED_OUT if isinstance(error, StepTimeoutError) else StepStatus.FAILED
        )
        if attempt > 1:
            state.reason = f"gave up after {attempt} attempts"
        return None

    def _cancelled(
        self, run: RunState, state: StepState, attempt: int | None, started: float, now: float
    ) -> None:
        """Record a step cancelled mid-attempt (or mid-backoff when ``attempt`` is None)."""
        if attempt is not None:
            state.attempts += (AttemptRecord(attempt, started, now, "cancelled"),)
        state.finished_at = now
        if run.timed_out:
            state.status = StepStatus.TIMED_OUT
            state.error = "cancelled: the workflow timeout passed"
        else:
            state.status = _CANCELLED
            state.reason = self._stop_reason(run)

    # ------------------------------------------------------------------ stopping and finishing

    def _on_deadline(self, run: RunState) -> None:
        if run.status.terminal:
            return
        run.timed_out = True
        run.error = f"the workflow timeout of {run.compiled.template.timeout}s passed"
        self._stop(run, run.error)

    def _stop(self, run: RunState, reason: str) -> None:
        run.stopping = True
        if run.error is None and not run.cancel_requested:
            run.error = reason
        self._cancel_tasks(run, reason)
        self._maybe_finish(run)

    @staticmethod
    def _cancel_tasks(run: RunState, reason: str) -> None:
        """Cancel the execution's step tasks, each once it has begun.

        A task cancelled before its first step never enters ``_execute``, so its
        bookkeeping would be lost. Delivered with ``call_soon``, a cancellation comes
        after the first step of every task that exists now; those tasks see
        ``stopping`` and settle themselves, and no new task starts for a stopping run.
        """
        for task in run.tasks.values():
            run.loop.call_soon(task.cancel, reason)

    @staticmethod
    def _stop_reason(run: RunState) -> str:
        if run.cancel_requested:
            return "execution cancelled"
        return run.error or "execution stopped"

    def _maybe_finish(self, run: RunState) -> None:
        if run.status.terminal or run.running or run.rollback_task is not None:
            return
        if run.unfinished and not run.stopping:
            return
        now = run.clock()
        leftovers = []
        for state in run.states():
            if not state.status.terminal:
                state.status = _CANCELLED
                state.reason = self._stop_reason(run)
                state.finished_at = now
                leftovers.append(state.record())
                self.emit_step(run, EventKind.STEP_FINISHED, state, {"duration": 0.0})
        run.ready.clear()
        if run.deadline_handle is not None:
            run.deadline_handle.cancel()
        outcome = self._outcome(run)
        wants_rollback = (
            (outcome is ExecutionStatus.FAILED and run.compiled.template.rollback_on_failure)
            or (outcome is ExecutionStatus.CANCELLED and run.compensate_on_cancel)
            or run.resume_rollback
        )
        if wants_rollback and (compensable(run) or run.resume_rollback):
            run.status = ExecutionStatus.ROLLING_BACK
            self.state.save(run.execution_id, run.record(), leftovers)
            self.repository.store(run.record())
            self._emit_execution(run, EventKind.EXECUTION_ROLLING_BACK)
            run.rollback_task = run.loop.create_task(self._roll_back(run))
            return
        self.state.save(run.execution_id, None, leftovers)
        self._finalize(run, outcome)

    async def _roll_back(self, run: RunState) -> None:
        failed = await roll_back(self, run)
        if failed is None:
            self._finalize(run, ExecutionStatus.ROLLED_BACK)
            return
        cause = f"; it rolled back after: {run.error}" if run.error else ""
        run.error = f"compensation of step '{failed}' failed{cause}"
        self._finalize(run, ExecutionStatus.FAILED)

    def _finalize(self, run: RunState, status: ExecutionStatus) -> None:
        run.finished_at = run.clock()
        run.status = status
        record = run.record()
        self.state.save(run.execution_id, record, ())
        self.repository.store(record)
        del self._runs[run.execution_id]
        if self._throttled:
            self._throttled = [item for item in self._throttled if item[0] is not run]
        if status is ExecutionStatus.FAILED:
            self._dead_letter(run)
        self._emit_execution(run, EventKind.EXECUTION_FINISHED)
        if not run.done.done():
            run.done.set_result(None)

    def _dead_letter(self, run: RunState) -> None:
        """Queue an execution that failed because a step failed for good."""
        failed = [s for s in run.steps if s is not None and s.status.failed]
        if not failed or run.dry_run:
            return
        first = min(failed, key=lambda s: s.finished_at or 0.0)
        letter = DeadLetter(
            run.execution_id,
            run.compiled.name,
            run.compiled.version,
            first.step_id,
            first.error,
            len(first.attempts),
            run.finished_at or 0.0,
        )
        self.dead_letters.add(letter)
        if self.events.active:
            self.events.emit(
                Event(
                    EventKind.DEAD_LETTERED,
                    run.execution_id,
                    run.finished_at or 0.0,
                    run.compiled.name,
                    step_id=first.step_id,
                    status=str(run.status),
                    data={"error": first.error, "attempts": len(first.attempts)},
                )
            )

    def _outcome(self, run: RunState) -> ExecutionStatus:
        if run.store_error is not None:
            return ExecutionStatus.FAILED
        if run.cancel_requested:
            return ExecutionStatus.CANCELLED
        if run.timed_out:
            return ExecutionStatus.FAILED
        if run.failures == 0:
            return ExecutionStatus.SUCCEEDED
        policy = run.compiled.template.failure_policy
        if policy is FailurePolicy.CONTINUE and any(
            s is not None and s.status is StepStatus.SUCCEEDED for s in run.steps
        ):
            if run.error is None:
                run.error = f"{run.failures} step(s) failed"
            return ExecutionStatus.PARTIALLY_SUCCEEDED
        if run.error is None:
            failed = [s for s in run.steps if s is not None and s.status.failed]
            first = failed[0] if failed else None
            run.error = (
                f"step '{first.step_id}' {first.status}: {first.error or first.reason}"
                if first
                else "steps failed"
            )
        return ExecutionStatus.FAILED

    # ------------------------------------------------------------------ persistence and events

    def _save_execution(self, run: RunState) -> None:
        record = run.record()
        self.state.save(run.execution_id, record, ())
        self.repository.store(record)

    def _breaker_changed(self, key: str, old: BreakerState, new: BreakerState, reason: str) -> None:
        if self.events.active:
            now = asyncio.get_running_loop().time()
            self.events.emit(breaker_event(key, old, new, reason, time=now))

    def _emit_execution(self, run: RunState, kind: EventKind) -> None:
        if self.events.active:
            self.events.emit(
                Event(
                    kind,
                    run.execution_id,
                    run.clock(),
                    run.compiled.name,
                    status=str(run.status),
                    data={"error": run.error} if run.error else {},
                )
            )

    def emit_step(
        self,
        run: RunState,
        kind: EventKind,
        state: StepState,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.events.emit(
            Event(
                kind,
                run.execution_id,
                run.clock(),
                run.compiled.name,
                step_id=state.step_id,
                status=str(state.status),
                attempt=len(state.attempts),
                data={**(data or {}), **({"reason": state.reason} if state.reason else {})},
            )
        )
