"""Circuit breakers trip, fail fast, probe and close as their policy says, per target."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from engine import (
    ActionContext,
    ActionError,
    Engine,
    StepStatus,
    TransientError,
    WorkflowTemplate,
)
from engine.circuit_breaker import (
    BreakerPolicy,
    BreakerRegistry,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
    breaker_event,
    by_action,
    by_params,
)
from engine.events import EventKind
from engine.retry import is_retryable
from engine.template import RetryPolicy

CLOSED, HALF_OPEN, OPEN = BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN
Change = tuple[str, BreakerState, BreakerState, str]
WF = Callable[..., WorkflowTemplate]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def changes() -> list[Change]:
    return []


def make(
    clock: Clock, changes: list[Change] | None = None, key: str = "target", **policy: object
) -> CircuitBreaker:
    return CircuitBreaker(
        key,
        BreakerPolicy.model_validate(policy),
        clock=clock,
        on_change=None if changes is None else lambda *change: changes.append(change),
    )


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        breaker.record_failure(breaker.before_call())


def succeed(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        breaker.record_success(breaker.before_call())


# ---------------------------------------------------------------------- consecutive failures


def test_opens_after_n_consecutive_failures(clock: Clock, changes: list[Change]) -> None:
    breaker = make(clock, changes, failure_threshold=3)
    fail(breaker, 2)
    assert breaker.state is CLOSED
    fail(breaker)
    assert breaker.state is OPEN
    assert changes == [("target", CLOSED, OPEN, "3 consecutive failures")]


def test_a_success_resets_the_consecutive_count(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=3)
    fail(breaker, 2)
    succeed(breaker)
    fail(breaker, 2)
    assert breaker.state is CLOSED
    assert breaker.snapshot().consecutive_failures == 2


def test_open_breaker_fails_fast_with_the_time_left(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1, cool_down=30)
    fail(breaker)
    clock.advance(10)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    error = caught.value
    assert error.key == "target"
    assert error.retry_after == pytest.approx(20)
    assert breaker.retry_after() == pytest.approx(20)
    assert str(error) == (
        "circuit breaker 'target' is open (1 consecutive failure): a probe call is allowed in 20s"
    )


@pytest.mark.asyncio
async def test_an_open_breaker_does_not_call_the_action(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1)
    calls = 0

    async def action() -> str:
        nonlocal calls
        calls += 1
        raise TransientError("503")

    with pytest.raises(TransientError, match="503"):
        await breaker.call(action)
    with pytest.raises(CircuitOpenError):
        await breaker.call(action)
    assert calls == 1


def test_circuit_open_error_is_a_retryable_transient_error() -> None:
    error = CircuitOpenError("scale:default/web", 12.5, "5 consecutive failures")
    assert isinstance(error, TransientError)
    assert isinstance(error, ActionError)
    assert error.retryable
    assert is_retryable(RetryPolicy(max_attempts=3), error, ())
    again = pickle.loads(pickle.dumps(error))
    assert (again.key, again.retry_after, str(again)) == (error.key, 12.5, str(error))


# ---------------------------------------------------------------------- cool-down and probes


def test_cool_down_then_half_open_then_closed_on_a_successful_probe(
    clock: Clock, changes: list[Change]
) -> None:
    breaker = make(clock, changes, failure_threshold=2, cool_down=30)
    fail(breaker, 2)
    clock.advance(29.999)
    assert breaker.state is OPEN
    clock.advance(0.001)
    assert breaker.state is HALF_OPEN
    assert breaker.retry_after() == 0
    succeed(breaker)
    assert breaker.state is CLOSED
    assert changes == [
        ("target", CLOSED, OPEN, "2 consecutive failures"),
        ("target", OPEN, HALF_OPEN, "cool-down passed"),
        ("target", HALF_OPEN, CLOSED, "probe call succeeded"),
    ]
    # Closed afresh: the failures from before count no more.
    fail(breaker)
    assert breaker.state is CLOSED


def test_failed_probe_reopens_for_a_new_cool_down(clock: Clock, changes: list[Change]) -> None:
    breaker = make(clock, changes, failure_threshold=5, cool_down=30)
    fail(breaker, 5)
    clock.advance(30)
    fail(breaker)  # the probe: one failure is enough to re-open
    assert breaker.state is OPEN
    assert breaker.retry_after() == pytest.approx(30)
    assert changes[-1] == ("target", HALF_OPEN, OPEN, "probe call failed")
    clock.advance(30)
    assert breaker.state is HALF_OPEN


def test_half_open_admits_only_the_allowed_number_of_probes(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1, cool_down=5, half_open_max_calls=2)
    fail(breaker)
    clock.advance(5)
    first, second = breaker.before_call(), breaker.before_call()
    assert first.probe
    assert second.probe
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == 0
    assert "probe calls are all in flight" in str(caught.value)
    # A finished probe frees its slot even if it takes more successes to close.
    breaker.record_success(first)
    assert breaker.state is CLOSED  # success_threshold defaults to 1


def test_success_threshold_needs_that_many_successful_probes(
    clock: Clock, changes: list[Change]
) -> None:
    breaker = make(clock, changes, failure_threshold=1, cool_down=5, success_threshold=3)
    fail(breaker)
    clock.advance(5)
    succeed(breaker, 2)
    assert breaker.state is HALF_OPEN
    succeed(breaker)
    assert breaker.state is CLOSED
    assert [c[2] for c in changes] == [OPEN, HALF_OPEN, CLOSED]


def test_released_probe_frees_its_slot_without_counting(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1, cool_down=5)
    fail(breaker)
    clock.advance(5)
    probe = breaker.before_call()
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    breaker.release(probe)
    assert breaker.state is HALF_OPEN
    succeed(breaker)
    assert breaker.state is CLOSED


def test_released_call_is_neither_a_success_nor_a_failure(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=2)
    fail(breaker)
    breaker.release(breaker.before_call())
    assert breaker.snapshot().consecutive_failures == 1
    fail(breaker)
    assert breaker.state is OPEN


def test_stale_outcomes_do_not_move_the_breaker(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1, cool_down=5)
    slow_success, slow_failure = breaker.before_call(), breaker.before_call()
    fail(breaker)
    clock.advance(5)
    assert breaker.state is HALF_OPEN
    # Admitted while closed, finished while half-open: neither closes nor re-opens it.
    breaker.record_success(slow_success)
    breaker.record_failure(slow_failure)
    assert breaker.state is HALF_OPEN


def test_a_permit_settles_once_on_its_own_breaker(clock: Clock) -> None:
    breaker = make(clock)
    permit = breaker.before_call()
    permit.record_success()
    with pytest.raises(RuntimeError, match="already settled"):
        breaker.record_failure(permit)
    with pytest.raises(ValueError, match="belongs to another breaker than 'other'"):
        make(clock, key="other").record_success(breaker.before_call())


def test_permit_methods_settle_on_their_breaker(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=2, cool_down=5)
    breaker.before_call().record_failure()
    breaker.before_call().release()
    breaker.before_call().record_failure()
    assert breaker.state is OPEN
    clock.advance(5)
    breaker.before_call().record_success()
    assert breaker.state is CLOSED


def test_zero_cool_down_goes_half_open_at_once(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1, cool_down=0)
    fail(breaker)
    assert breaker.state is HALF_OPEN


@pytest.mark.asyncio
async def test_concurrent_probes_one_slot(clock: Clock) -> None:
    """Many callers race for a half-open breaker: one probe runs, the rest fail fast."""
    breaker = make(clock, failure_threshold=1, cool_down=5)
    fail(breaker)
    clock.advance(5)
    gate = asyncio.Event()
    started = 0

    async def probe() -> str:
        nonlocal started
        started += 1
        await gate.wait()
        return "ok"

    tasks = [asyncio.create_task(breaker.call(probe)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert started == 1
    assert results.count("ok") == 1
    assert sum(isinstance(r, CircuitOpenError) for r in results) == 4
    assert breaker.state is CLOSED


@pytest.mark.asyncio
async def test_cancelled_probe_lets_the_next_one_in(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=1, cool_down=5)
    fail(breaker)
    clock.advance(5)

    async def hang() -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(breaker.call(hang))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.state is HALF_OPEN
    succeed(breaker)
    assert breaker.state is CLOSED


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_uses_the_event_loop_clock_by_default() -> None:
    breaker = CircuitBreaker("api", BreakerPolicy(failure_threshold=1, cool_down=300))
    breaker.record_failure(breaker.before_call())
    await asyncio.sleep(299)
    assert breaker.state is OPEN
    await asyncio.sleep(1)
    assert breaker.state is HALF_OPEN


# ---------------------------------------------------------------------- failure-rate window


def test_count_window_trips_on_rate_after_minimum_calls(
    clock: Clock, changes: list[Change]
) -> None:
    breaker = make(
        clock,
        changes,
        failure_threshold=None,
        failure_rate=0.5,
        window_size=10,
        minimum_calls=4,
    )
    fail(breaker)
    succeed(breaker)
    fail(breaker)  # 2 of 3: rate over the threshold, but too few calls to judge
    assert breaker.state is CLOSED
    succeed(breaker)  # 2 of 4 = 50%: judged on failures only
    assert breaker.state is CLOSED
    fail(breaker)  # 3 of 5 = 60%
    assert breaker.state is OPEN
    assert changes[0][3] == "failure rate 60% over the last 5 calls (threshold 50%)"


def test_count_window_slides(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=None, failure_rate=0.5, window_size=4, minimum_calls=4)
    fail(breaker)
    succeed(breaker, 3)  # window F S S S: 25%
    assert breaker.snapshot().window_failures == 1
    succeed(breaker)  # the failure slides out: S S S S
    snap = breaker.snapshot()
    assert (snap.window_calls, snap.window_failures) == (4, 0)
    fail(breaker)  # S S S F
    succeed(breaker)  # S S F S
    fail(breaker)  # S F S F: 50%
    assert breaker.state is OPEN


def test_time_window_forgets_old_calls(clock: Clock) -> None:
    breaker = make(
        clock,
        failure_threshold=None,
        failure_rate=0.5,
        window="time",
        window_seconds=60,
        minimum_calls=3,
    )
    fail(breaker, 2)
    clock.advance(61)
    assert breaker.snapshot().window_calls == 0
    succeed(breaker)
    fail(breaker)  # 1 of 2 within the last minute: too few
    assert breaker.state is CLOSED
    clock.advance(30)
    fail(breaker)  # 2 of 3
    assert breaker.state is OPEN


def test_rate_and_consecutive_rules_together(clock: Clock) -> None:
    breaker = make(clock, failure_threshold=3, failure_rate=0.9, window_size=100, minimum_calls=50)
    succeed(breaker, 10)
    fail(breaker, 3)
    assert breaker.state is OPEN


# ---------------------------------------------------------------------- policy validation


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"failure_threshold": 0}, "failure_threshold\n  Input should be greater than 0"),
        ({"failure_rate": 0}, "failure_rate\n  Input should be greater than 0"),
        ({"failure_rate": 1.5}, "failure_rate\n  Input should be less than or equal to 1"),
        ({"cool_down": -1}, "cool_down\n  Input should be greater than or equal to 0"),
        ({"window_seconds": 0}, "window_seconds\n  Input should be greater than 0"),
        ({"half_open_max_calls": 0}, "half_open_max_calls\n  Input should be greater than 0"),
        ({"window": "sliding"}, "window\n  Input should be 'count' or 'time'"),
        ({"cooldown": 5}, "cooldown\n  Extra inputs are not permitted"),
        (
            {"failure_threshold": None},
            "needs failure_threshold (consecutive failures) or failure_rate",
        ),
        (
            {"failure_rate": 0.5, "window_size": 5, "minimum_calls": 10},
            "minimum_calls (10) is larger than window_size (5)",
        ),
    ],
)
def test_invalid_policies_are_rejected_with_the_field_named(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        BreakerPolicy.model_validate(fields)
    assert message in str(caught.value)


def test_policy_is_frozen_and_has_working_defaults() -> None:
    policy = BreakerPolicy()
    assert (policy.failure_threshold, policy.cool_down, policy.half_open_max_calls) == (5, 30, 1)
    with pytest.raises(ValidationError):
        policy.cool_down = 1  # type: ignore[misc]


# ---------------------------------------------------------------------- registry and keys


def test_key_functions() -> None:
    params = {"namespace": "prod", "deployment": "web", "replicas": 3}
    assert by_action("scale", params) == "scale"
    assert by_params("deployment")("scale", params) == "scale:web"
    assert by_params("namespace", "deployment")("scale", params) == "scale:prod/web"
    assert by_params("namespace", "name")("scale", params) == "scale:prod/"
    with pytest.raises(ValueError, match="at least one parameter name"):
        by_params()


def test_breakers_are_per_key_and_isolated(clock: Clock) -> None:
    registry = BreakerRegistry(
        BreakerPolicy(failure_threshold=2), key=by_params("deployment"), clock=clock
    )
    web = registry.for_call("restart", {"deployment": "web"})
    db = registry.for_call("restart", {"deployment": "db"})
    assert web is not None
    assert db is not None
    assert web is not db
    assert registry.for_call("restart", {"deployment": "web"}) is web
    fail(web, 2)
    assert web.state is OPEN
    assert db.state is CLOSED
    assert [(s.key, s.state) for s in registry.snapshot()] == [
        ("restart:db", CLOSED),
        ("restart:web", OPEN),
    ]


def test_overrides_by_key_then_action_then_default(clock: Clock) -> None:
    strict = BreakerPolicy(failure_threshold=1)
    lenient = BreakerPolicy(failure_threshold=10)
    registry = BreakerRegistry(
        None,
        overrides={"scale:prod/web": strict, "scale": lenient},
        action_keys={"scale": by_params("namespace", "deployment")},
        clock=clock,
    )
    web = registry.for_call("scale", {"namespace": "prod", "deployment": "web"})
    api = registry.for_call("scale", {"namespace": "prod", "deployment": "api"})
    assert web is not None
    assert web.policy is strict
    assert api is not None
    assert api.policy is lenient
    # No default policy: other actions are not guarded and create nothing.
    assert registry.for_call("noop", {}) is None
    assert "noop" not in registry
    assert len(registry) == 2
    # get() always hands out a breaker, with a default policy when none is configured.
    assert registry.get("manual").policy == BreakerPolicy()


def test_registry_reports_changes_in_order(clock: Clock, changes: list[Change]) -> None:
    registry = BreakerRegistry(
        BreakerPolicy(failure_threshold=1, cool_down=10),
        clock=clock,
        on_change=lambda *change: changes.append(change),
    )
    a, b = registry.get("a"), registry.get("b")
    fail(a)
    fail(b)
    clock.advance(10)
    succeed(b)
    fail(a)
    assert changes == [
        ("a", CLOSED, OPEN, "1 consecutive failure"),
        ("b", CLOSED, OPEN, "1 consecutive failure"),
        ("b", OPEN, HALF_OPEN, "cool-down passed"),
        ("b", HALF_OPEN, CLOSED, "probe call succeeded"),
        ("a", OPEN, HALF_OPEN, "cool-down passed"),
        ("a", HALF_OPEN, OPEN, "probe call failed"),
    ]


def test_snapshot_tells_the_time_left(clock: Clock) -> None:
    registry = BreakerRegistry(BreakerPolicy(failure_threshold=1, cool_down=10), clock=clock)
    fail(registry.get("a"))
    clock.advance(4)
    assert registry.snapshot() == [BreakerSnapshot("a", OPEN, 1, 0, 0, 6.0)]


def test_breaker_event_shape() -> None:
    event = breaker_event("scale:web", CLOSED, OPEN, "3 consecutive failures", time=5.0)
    assert event.kind is EventKind.BREAKER_STATE_CHANGED
    assert (event.execution_id, event.workflow, event.status, event.time) == ("", "", "open", 5)
    assert event.data == {
        "key": "scale:web",
        "state": "open",
        "previous": "closed",
        "reason": "3 consecutive failures",
    }
    assert [s.level for s in BreakerState] == [0, 1, 2]


# ---------------------------------------------------------------------- through the engine


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_engine_retries_a_step_refused_by_an_open_breaker(engine: Engine, wf: WF) -> None:
    """A breaker applied by the action itself (by_params keys): retries honour its cool-down.

    The engine-owned path (``Engine(breakers=...)``) is tested in test_engine_breakers.py.
    """
    registry = BreakerRegistry(
        BreakerPolicy(failure_threshold=2, cool_down=60), key=by_params("deployment")
    )
    calls: list[float] = []
    loop = asyncio.get_running_loop()
    healthy_from = loop.time() + 30

    async def restart(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(loop.time())
        if loop.time() < healthy_from:
            raise TransientError("apiserver said 503")
        return {}

    async def guarded(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        breaker = registry.for_call("restart", params)
        assert breaker is not None
        return await breaker.call(lambda: restart(ctx, params))

    engine.actions.register("restart", guarded)
    result = await engine.run(
        wf(
            {
                "id": "web",
                "action": "restart",
                "params": {"deployment": "web"},
                "retry": {"max_attempts": 5, "delay": 20, "backoff": "fixed"},
            }
        )
    )
    step = result.step("web")
    assert step.status is StepStatus.SUCCEEDED
    # t=0 and t=20 fail and trip the breaker; t=40 is refused without a call (open until
    # t=80); t=60 too; t=80 is the probe, which succeeds and closes the breaker.
    assert calls == [0, 20, 80]
    assert [a.error for a in step.attempts][2].startswith(
        "CircuitOpenError: circuit breaker 'restart:web' is open (2 consecutive failures)"
    )
    assert registry.get("restart:web").state is CLOSED
