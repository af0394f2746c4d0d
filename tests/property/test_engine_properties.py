"""Properties of the engine over generated DAGs (``engine.testing.strategies``).

Each example runs the real engine on the in-memory stores inside a fresh looptime event
loop, so sleeps, backoffs and timeouts cost no wall time and every run is reproducible
(execution ids are fixed: they seed the failure injection and the jitter). What is
observed: the event stream (in emission order, with loop times), the engine's running
count at each event, and the persisted state read back through ``engine.wait``.

The checks are written against the documented contract (engine/engine.py,
engine/trigger_rules.py, engine/retry.py), not against the engine's helpers: trigger
rules, backoff and ``when`` conditions are recomputed here independently.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import cel
import looptime
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from engine import (
    Engine,
    Event,
    EventKind,
    ExecutionState,
    ExecutionStatus,
    FailurePolicy,
    RetryPolicy,
    StepRecord,
    StepSpec,
    StepStatus,
    TriggerRule,
    WorkflowTemplate,
)
from engine.testing.strategies import workflow_inputs, workflow_templates
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

T = TypeVar("T")

EPS = 1e-6
FAILED = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT})
RAN = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.TIMED_OUT})
DEFAULT_INPUTS = {"flag": False, "n": 0}

# --------------------------------------------------------------------------- running


def run_virtually(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` to completion on a fresh event loop with virtual time.

    ``end`` turns a run that never stops advancing loop time into an error, and
    ``idle_timeout`` turns a deadlock (nothing scheduled, nothing to wait for) into an
    error after a fraction of a real second instead of a hang.
    """
    loop = looptime.new_event_loop(end=100_000.0, idle_timeout=0.5, idle_step=0.01)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@dataclass(frozen=True)
class Run:
    """One execution as observed: its template, inputs, events and persisted state."""

    template: WorkflowTemplate
    inputs: Mapping[str, Any]
    state: ExecutionState
    events: tuple[Event, ...]

    @property
    def specs(self) -> dict[str, StepSpec]:
        return {s.id: s for s in self.template.steps}

    def step(self, step_id: str) -> StepRecord:
        return self.state.step(step_id)

    def policy(self, step_id: str) -> RetryPolicy:
        return self.specs[step_id].retry or self.template.retry

    def started(self) -> set[str]:
        return {e.step_id for e in self.events if e.kind is EventKind.STEP_STARTED and e.step_id}

    @property
    def workflow_timed_out(self) -> bool:
        return "workflow timeout" in (self.state.execution.error or "")

    @property
    def stopped(self) -> bool:
        """Whether the run stopped early: a counted failure under fail_fast, or its deadline."""
        fail_fast = self.template.failure_policy is FailurePolicy.FAIL_FAST
        return self.workflow_timed_out or (fail_fast and bool(counted_failures(self)))


@dataclass(frozen=True)
class Trace:
    """Everything one engine did: its runs, all events, and the peak running count."""

    runs: tuple[Run, ...]
    events: tuple[Event, ...]
    peak_running: int


def execute(
    templates: Sequence[tuple[WorkflowTemplate, Mapping[str, Any]]],
    *,
    seed: int = 0,
    max_concurrency: int | None = None,
) -> Trace:
    """Submit every (template, inputs) at once to one fresh engine and wait for all."""

    async def main() -> Trace:
        engine = Engine(
            state_storage=InMemoryStateStorage(),
            repository=InMemoryExecutionRepository(),
            max_concurrency=max_concurrency,
            seed=seed,
        )
        events: list[Event] = []
        peak = 0

        def record(event: Event) -> None:
            nonlocal peak
            events.append(event)
            peak = max(peak, engine.running_steps)

        engine.events.subscribe(record)
        ids = [
            await engine.submit(template, inputs, execution_id=f"run-{i}")
            for i, (template, inputs) in enumerate(templates)
        ]
        states = [await engine.wait(execution_id) for execution_id in ids]
        await engine.aclose()
        assert engine.events.errors == []
        runs = tuple(
            Run(template, inputs, state, tuple(e for e in events if e.execution_id == eid))
            for (template, inputs), state, eid in zip(templates, states, ids, strict=True)
        )
        return Trace(runs, tuple(events), peak)

    trace = run_virtually(main)
    if currently_in_test_context():
        # Printed only for the failing example: what happened, in order, at which time.
        note(timeline(trace.events))
    return trace


def timeline(events: Iterable[Event]) -> str:
    lines = ["events (loop time, execution, kind, step, status, attempt):"]
    for e in events:
        step = f" {e.step_id}" if e.step_id else ""
        lines.append(f"  {e.time:9.3f} {e.execution_id} {e.kind}{step} {e.status} #{e.attempt}")
    return "\n".join(lines)


def execute_one(template: WorkflowTemplate, inputs: Mapping[str, Any], **kwargs: Any) -> Run:
    return execute([(template, inputs)], **kwargs).runs[0]


# --------------------------------------------------------------------------- oracles


def rule_holds(rule: TriggerRule, statuses: Sequence[StepStatus]) -> bool:
    """The trigger-rule table of engine/trigger_rules.py, written out independently."""
    if not statuses:
        return True
    succeeded = [s is StepStatus.SUCCEEDED for s in statuses]
    failed = [s in FAILED for s in statuses]
    table: dict[TriggerRule, bool] = {
        TriggerRule.ALL_SUCCEEDED: all(succeeded),
        TriggerRule.ALL_DONE: True,
        TriggerRule.ALL_FAILED: all(failed),
        TriggerRule.ONE_SUCCEEDED: any(succeeded),
        TriggerRule.ONE_FAILED: any(failed),
        TriggerRule.NONE_FAILED: not any(failed),
        TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS: not any(failed) and any(succeeded),
    }
    return table[rule]


def ancestors(run: Run, step_id: str) -> set[str]:
    specs = run.specs
    seen: set[str] = set()
    stack = list(specs[step_id].depends_on)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(specs[current].depends_on)
    return seen


def condition_value(run: Run, step_id: str) -> bool:
    """The step's ``when`` evaluated here with CEL over its ancestors' final records."""
    source = run.specs[step_id].when
    if source is None:
        return True
    views = {}
    for aid in ancestors(run, step_id):
        rec = run.step(aid)
        views[aid] = {
            "status": str(rec.status),
            "outputs": dict(rec.outputs or {}),
            "attempts": len(rec.attempts),
            "error": rec.error,
        }
    context = {"inputs": {**DEFAULT_INPUTS, **run.inputs}, "vars": {}, "steps": views}
    value = cel.compile(source).execute(context)
    assert isinstance(value, bool), (source, value)
    return value


def expected_delay_range(policy: RetryPolicy, failures: int) -> tuple[float, float]:
    """Bounds of the wait after the ``failures``-th failure, per the RetryPolicy docs."""
    if policy.backoff == "fixed":
        base = policy.delay
    elif policy.backoff == "linear":
        base = policy.delay * failures
    else:
        base = policy.delay * policy.multiplier ** (failures - 1)
    base = min(base, policy.max_delay)
    return base * (1 - policy.jitter), min(base * (1 + policy.jitter), policy.max_delay)


def failure_is_retried(spec: StepSpec, policy: RetryPolicy, error: str) -> bool:
    """Whether the policy retries a failure with this recorded error message."""
    if "any" in policy.retry_on:
        return True
    if error.startswith("StepTimeoutError"):
        return "timeout" in policy.retry_on
    if error.startswith("TransientError"):
        return "retryable" in policy.retry_on
    assert error.startswith("PermanentError"), error
    return False


def cut_by_deadline(run: Run, rec: StepRecord) -> bool:
    """Whether the workflow timeout cancelled this step while it ran (or waited to retry)."""
    return run.workflow_timed_out and "workflow timeout" in (rec.error or "")


def counted_failures(run: Run) -> list[str]:
    """Steps that failed and count as failures (no ``allow_failure``)."""
    specs = run.specs
    return [
        sid
        for sid, rec in run.state.steps.items()
        if rec.status in FAILED and not specs[sid].allow_failure
    ]


def first_counted_failure(run: Run) -> int | None:
    """Index in ``run.events`` of the first finished event of a counted failure."""
    specs = run.specs
    for i, event in enumerate(run.events):
        if (
            event.kind is EventKind.STEP_FINISHED
            and event.status in {str(s) for s in FAILED}
            and event.step_id is not None
            and not specs[event.step_id].allow_failure
        ):
            return i
    return None


# --------------------------------------------------------------------------- checks


def check_terminal(run: Run) -> None:
    assert run.state.status.terminal, run.state.execution
    assert set(run.state.steps) == set(run.specs)
    for sid, rec in run.state.steps.items():
        assert rec.status.terminal, (sid, rec)
    finished = [e for e in run.events if e.kind is EventKind.EXECUTION_FINISHED]
    assert len(finished) == 1
    assert finished[0].status == str(run.state.status)
    assert finished[0] is run.events[-1]


def check_dependencies_first(run: Run) -> None:
    """No step starts before each of its dependencies has finished."""
    finished_at: dict[str, tuple[int, float]] = {}
    for i, event in enumerate(run.events):
        if event.kind is EventKind.STEP_FINISHED and event.step_id is not None:
            finished_at.setdefault(event.step_id, (i, event.time))
        elif event.kind is EventKind.STEP_STARTED:
            assert event.step_id is not None
            for dep in run.specs[event.step_id].depends_on:
                assert dep in finished_at, f"{event.step_id} started before {dep} finished"
                assert finished_at[dep][1] <= event.time
    for sid in run.started():
        rec = run.step(sid)
        assert rec.started_at is not None
        for dep in run.specs[sid].depends_on:
            dep_finished = run.step(dep).finished_at
            assert dep_finished is not None
            assert dep_finished <= rec.started_at


def check_attempts(run: Run) -> None:
    """At most max_attempts attempts, each retry announced once, delays as documented."""
    starts = [e.step_id for e in run.events if e.kind is EventKind.STEP_STARTED]
    assert len(starts) == len(set(starts)), "a step started twice"
    retrying: dict[str, int] = {}
    for e in run.events:
        if e.kind is EventKind.STEP_RETRYING and e.step_id is not None:
            retrying[e.step_id] = retrying.get(e.step_id, 0) + 1
    for sid, rec in run.state.steps.items():
        policy = run.policy(sid)
        attempts = rec.attempts
        assert len(attempts) <= policy.max_attempts, (sid, attempts)
        cut = cut_by_deadline(run, rec)
        # A step cut by the deadline while waiting to retry has announced one more retry.
        waiting = cut and bool(attempts) and attempts[-1].retry_delay is not None
        expected_retries = len(attempts) if waiting else max(0, len(attempts) - 1)
        assert retrying.get(sid, 0) == expected_retries, (sid, attempts)
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
        for k, (attempt, following) in enumerate(itertools.pairwise(attempts), 1):
            assert attempt.error is not None
            assert attempt.retry_delay is not None
            low, high = expected_delay_range(policy, k)
            assert low - EPS <= attempt.retry_delay <= high + EPS, (sid, k, attempt, policy)
            assert following.started_at == pytest.approx(
                attempt.finished_at + attempt.retry_delay, abs=EPS
            )
        if attempts and not waiting:
            assert attempts[-1].retry_delay is None
            assert attempts[0].started_at >= (rec.started_at or 0) - EPS


def check_step_outcomes(run: Run) -> None:
    """Each step that ran ended as its action and retry policy say it must."""
    for sid, rec in run.state.steps.items():
        spec = run.specs[sid]
        policy = run.policy(sid)
        if rec.status not in RAN:
            continue
        assert rec.attempts, (sid, rec)
        for attempt in rec.attempts:
            if spec.timeout is not None:
                assert attempt.finished_at - attempt.started_at <= spec.timeout + EPS
        last = rec.attempts[-1]
        if rec.status is StepStatus.SUCCEEDED:
            assert last.error is None
            assert all(a.error is not None for a in rec.attempts[:-1])
        elif not cut_by_deadline(run, rec):
            assert last.error is not None
            gave_up = len(rec.attempts) == policy.max_attempts
            assert gave_up or not failure_is_retried(spec, policy, last.error), (sid, rec)
            assert (rec.status is StepStatus.TIMED_OUT) == last.error.startswith("StepTimeoutError")
        if run.workflow_timed_out:
            continue
        # Without a workflow deadline each action's outcome is fully predictable:
        if spec.action == "noop":
            assert rec.status is StepStatus.SUCCEEDED
            assert len(rec.attempts) == 1
            assert dict(rec.outputs or {}) == spec.params
        elif spec.action == "sleep":
            seconds = spec.params["seconds"]
            if spec.timeout is None or seconds < spec.timeout:
                assert rec.status is StepStatus.SUCCEEDED
                assert last.finished_at - last.started_at == pytest.approx(seconds, abs=EPS)
            elif seconds > spec.timeout:
                retried = failure_is_retried(spec, policy, "StepTimeoutError")
                assert rec.status is StepStatus.TIMED_OUT
                assert len(rec.attempts) == (policy.max_attempts if retried else 1)
        elif spec.params["probability"] == 0.0:
            assert rec.status is StepStatus.SUCCEEDED
            assert len(rec.attempts) == 1
        elif spec.params["probability"] == 1.0:
            error = "TransientError" if spec.params["retryable"] else "PermanentError"
            retried = failure_is_retried(spec, policy, error)
            assert rec.status is StepStatus.FAILED
            assert len(rec.attempts) == (policy.max_attempts if retried else 1)


def check_trigger_rules(run: Run) -> None:
    """A step runs iff its rule holds and its condition is true; otherwise it is Skipped.

    Cancelled is allowed only for a run that stopped early, and a step whose condition
    is false is never Failed.
    """
    started = run.started()
    for sid, rec in run.state.steps.items():
        spec = run.specs[sid]
        if rec.status is StepStatus.CANCELLED:
            assert run.stopped, (sid, rec, run.state.execution)
            assert not rec.attempts or run.workflow_timed_out
            continue
        dep_statuses = [run.step(d).status for d in spec.depends_on]
        holds = rule_holds(spec.trigger_rule, dep_statuses)
        should_run = holds and condition_value(run, sid)
        if should_run:
            assert rec.status in RAN, (sid, rec, dep_statuses)
            assert sid in started
        else:
            assert rec.status is StepStatus.SKIPPED, (sid, rec, spec.trigger_rule, dep_statuses)
            assert sid not in started
            assert not rec.attempts
    assert all(rec.reason != "condition could not be evaluated" for rec in run.state.steps.values())


def check_fail_fast(run: Run) -> None:
    """Under fail_fast nothing starts, and nothing is skipped, after the first failure."""
    if run.template.failure_policy is not FailurePolicy.FAIL_FAST:
        return
    first = first_counted_failure(run)
    if first is None:
        assert not counted_failures(run)
        return
    failed_at = run.events[first].time
    before = run.events[: first + 1]
    for event in run.events[first + 1 :]:
        assert event.kind is not EventKind.STEP_STARTED, (event, run.events[first])
        if event.kind is EventKind.STEP_FINISHED:
            assert event.status != str(StepStatus.SKIPPED), event
    started_before = {e.step_id for e in before if e.kind is EventKind.STEP_STARTED}
    settled_before = {e.step_id for e in before if e.kind is EventKind.STEP_FINISHED}
    for sid, rec in run.state.steps.items():
        if sid not in started_before and sid not in settled_before:
            assert rec.status is StepStatus.CANCELLED, (sid, rec)
        if rec.started_at is not None and rec.status is not StepStatus.CANCELLED:
            assert rec.started_at <= failed_at + EPS or sid in settled_before
    assert run.state.status is ExecutionStatus.FAILED


def check_outcome(run: Run) -> None:
    """Succeeded iff nothing counted failed; PartiallySucceeded only under continue."""
    status = run.state.status
    failures = counted_failures(run)
    if status is ExecutionStatus.PARTIALLY_SUCCEEDED:
        assert run.template.failure_policy is FailurePolicy.CONTINUE
    if failures:
        assert status is not ExecutionStatus.SUCCEEDED
    if run.workflow_timed_out:
        assert status is ExecutionStatus.FAILED
        return
    if not failures:
        assert status is ExecutionStatus.SUCCEEDED, (status, run.state.execution)
    elif run.template.failure_policy is FailurePolicy.FAIL_FAST:
        assert status is ExecutionStatus.FAILED
    else:
        any_ok = any(r.status is StepStatus.SUCCEEDED for r in run.state.steps.values())
        expected = ExecutionStatus.PARTIALLY_SUCCEEDED if any_ok else ExecutionStatus.FAILED
        assert status is expected
        assert all(r.status is not StepStatus.CANCELLED for r in run.state.steps.values())


def check_workflow_deadline(run: Run) -> None:
    """A run never outlives its workflow timeout; at the deadline nothing is left running."""
    timeout = run.template.timeout
    execution = run.state.execution
    assert execution.started_at is not None
    assert execution.finished_at is not None
    if timeout is None:
        assert not run.workflow_timed_out
        return
    elapsed = execution.finished_at - execution.started_at
    assert elapsed <= timeout + EPS, (elapsed, timeout)
    if run.workflow_timed_out:
        assert elapsed == pytest.approx(timeout, abs=EPS)
        deadline = execution.started_at + timeout
        for event in run.events:
            if event.kind is EventKind.STEP_STARTED:
                assert event.time <= deadline + EPS


def check_run(run: Run) -> None:
    check_terminal(run)
    check_dependencies_first(run)
    check_attempts(run)
    check_step_outcomes(run)
    check_trigger_rules(run)
    check_fail_fast(run)
    check_outcome(run)
    check_workflow_deadline(run)


def running_peaks(events: Iterable[Event]) -> tuple[int, dict[str, int]]:
    """Peak running steps overall and per execution, counted from start/finish events."""
    running: set[tuple[str, str]] = set()
    peak = 0
    per_run: dict[str, int] = {}
    for event in events:
        key = (event.execution_id, event.step_id or "")
        if event.kind is EventKind.STEP_STARTED:
            running.add(key)
        elif event.kind is EventKind.STEP_FINISHED:
            running.discard(key)
        else:
            continue
        peak = max(peak, len(running))
        count = sum(1 for eid, _ in running if eid == event.execution_id)
        per_run[event.execution_id] = max(per_run.get(event.execution_id, 0), count)
    return peak, per_run


def check_limits(trace: Trace, engine_limit: int | None) -> None:
    peak, per_run = running_peaks(trace.events)
    if engine_limit is not None:
        assert peak <= engine_limit
        assert trace.peak_running <= engine_limit
    for run in trace.runs:
        limit = run.template.max_concurrency
        if limit is not None:
            assert per_run.get(run.state.execution.execution_id, 0) <= limit


# --------------------------------------------------------------------------- properties

templates = workflow_templates(max_steps=16)
inputs = workflow_inputs()
seeds = st.integers(0, 3)


class TestOrdering:
    @given(templates, inputs, seeds)
    def test_no_step_starts_before_its_dependencies_finish(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], seed: int
    ) -> None:
        run = execute_one(template, given_inputs, seed=seed)
        check_dependencies_first(run)

    @given(templates, inputs)
    def test_every_run_ends_in_a_terminal_status(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any]
    ) -> None:
        run = execute_one(template, given_inputs)
        check_terminal(run)


class TestRetriesAndTimeouts:
    @given(templates, inputs, seeds)
    def test_attempts_are_bounded_and_delays_follow_the_policy(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], seed: int
    ) -> None:
        run = execute_one(template, given_inputs, seed=seed)
        check_attempts(run)

    @given(templates, inputs, seeds)
    def test_each_step_ends_as_its_action_and_policy_dictate(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], seed: int
    ) -> None:
        run = execute_one(template, given_inputs, seed=seed)
        check_step_outcomes(run)

    @given(workflow_templates(max_steps=12, workflow_timeout=True), inputs)
    def test_workflow_timeout_bounds_the_run(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any]
    ) -> None:
        run = execute_one(template, given_inputs)
        check_run(run)


class TestConcurrencyLimits:
    @given(templates, inputs, st.none() | st.integers(1, 3))
    def test_engine_and_template_limits_are_never_exceeded(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], limit: int | None
    ) -> None:
        trace = execute([(template, given_inputs)], max_concurrency=limit)
        check_limits(trace, limit)

    @given(
        st.lists(st.tuples(workflow_templates(max_steps=10), inputs), min_size=2, max_size=3),
        st.none() | st.integers(1, 4),
    )
    def test_concurrent_executions_share_the_engine_limit(
        self,
        drawn: list[tuple[WorkflowTemplate, dict[str, Any]]],
        limit: int | None,
    ) -> None:
        named = [
            (template.model_copy(update={"name": f"generated-{i}"}), given_inputs)
            for i, (template, given_inputs) in enumerate(drawn)
        ]
        trace = execute(named, max_concurrency=limit)
        check_limits(trace, limit)
        for run in trace.runs:
            check_run(run)


class TestTriggerRulesAndOutcome:
    @given(templates, inputs, seeds)
    def test_statuses_obey_trigger_rules_and_conditions(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], seed: int
    ) -> None:
        run = execute_one(template, given_inputs, seed=seed)
        check_trigger_rules(run)

    @given(workflow_templates(max_steps=16, failure_policies=[FailurePolicy.FAIL_FAST]), inputs)
    def test_fail_fast_starts_nothing_after_the_first_failure(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any]
    ) -> None:
        run = execute_one(template, given_inputs)
        check_fail_fast(run)

    @given(templates, inputs, seeds)
    def test_outcome_follows_the_step_statuses(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], seed: int
    ) -> None:
        run = execute_one(template, given_inputs, seed=seed)
        check_outcome(run)


class TestDeterminism:
    @given(workflow_templates(max_steps=16, workflow_timeout=True), inputs, seeds)
    def test_same_template_and_seed_give_the_same_run(
        self, template: WorkflowTemplate, given_inputs: dict[str, Any], seed: int
    ) -> None:
        first, second = (execute_one(template, given_inputs, seed=seed) for _ in range(2))
        assert first.state == second.state
        assert [
            (e.kind, e.step_id, e.time, e.status, e.attempt, dict(e.data)) for e in first.events
        ] == [(e.kind, e.step_id, e.time, e.status, e.attempt, dict(e.data)) for e in second.events]


def test_virtual_time_is_used() -> None:
    """A workflow with minutes of sleep finishes at once in wall time, at that loop time."""
    template = WorkflowTemplate(
        name="long", steps=(StepSpec(id="a", action="sleep", params={"seconds": 600}),)
    )

    run = execute_one(template, {})
    a = run.step("a")
    assert a.finished_at is not None
    assert a.started_at is not None
    assert a.finished_at - a.started_at == pytest.approx(600)
