"""Circuit breakers: stop hammering a target that keeps failing, and find out when it is back.

A breaker guards one *target* (an action, or an action against one deployment) and moves
through three states:

* **closed**: calls go through; outcomes are counted. It trips to *open* after
  ``failure_threshold`` consecutive failures, or when the failure rate over a sliding
  window (the last ``window_size`` calls, or the calls of the last ``window_seconds``)
  reaches ``failure_rate`` once the window holds at least ``minimum_calls`` calls.
* **open**: calls fail fast with :class:`CircuitOpenError` without reaching the target,
  for ``cool_down`` seconds.
* **half-open**: after the cool-down, up to ``half_open_max_calls`` probe calls run at
  once. ``success_threshold`` successful probes close the breaker; one failed probe
  re-opens it for another cool-down.

The caller brackets every call with a :class:`Permit` (whose methods settle it on its
breaker, too)::

    permit = breaker.before_call()          # raises CircuitOpenError while open
    try:
        result = await call()
    except asyncio.CancelledError:
        breaker.release(permit)             # neither success nor failure
        raise
    except Exception:
        breaker.record_failure(permit)
        raise
    breaker.record_success(permit)

A permit remembers the state it was granted in: an outcome that arrives after the
breaker has moved on (a slow call admitted while closed that ends after the breaker
opened) is ignored, so that stale results cannot close or re-open a breaker.

The move from open to half-open is made when the breaker is next looked at
(:meth:`CircuitBreaker.before_call`, :attr:`CircuitBreaker.state`,
:meth:`BreakerRegistry.snapshot`), so it needs no timer. Time is read from the running
event loop, or from an injected ``clock``: under a virtual clock a cool-down of minutes
passes in no real time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import TransientError
from engine.events import Event, EventKind

Clock = Callable[[], float]
KeyFn = Callable[[str, Mapping[str, Any]], str]
T = TypeVar("T")


class BreakerState(StrEnum):
    """Where a breaker stands. ``level`` is the value exported as a metric."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"

    @property
    def level(self) -> int:
        """0 closed, 1 half-open, 2 open: higher is worse."""
        return _LEVELS[self]


_LEVELS = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}

StateChange = Callable[[str, BreakerState, BreakerState, str], None]
"""``on_change(key, old_state, new_state, reason)``, called after each transition."""


class CircuitOpenError(TransientError):
    """A call was refused because the target's breaker is open (or its probes are busy).

    Retryable: the target may be back after ``retry_after`` seconds, when the breaker
    lets a probe through. A retry policy should wait at least that long.
    """

    retryable = True

    def __init__(self, key: str, retry_after: float, reason: str = "") -> None:
        self.key = key
        self.retry_after = retry_after
        self.reason = reason
        because = f" ({reason})" if reason else ""
        if retry_after > 0:
            when = f"a probe call is allowed in {retry_after:g}s"
        else:
            when = "its probe calls are all in flight; try again shortly"
        super().__init__(f"circuit breaker '{key}' is open{because}: {when}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key, self.retry_after, self.reason))


class BreakerPolicy(BaseModel):
    """When a breaker trips, how long it stays open and how it probes.

    At least one of ``failure_threshold`` and ``failure_rate`` must be set. The rate
    window counts calls (``window: count``, the last ``window_size`` calls) or time
    (``window: time``, the calls that ended in the last ``window_seconds``); the rate is
    judged only once the window holds ``minimum_calls`` calls.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_threshold: Annotated[int, Field(gt=0)] | None = 5
    failure_rate: Annotated[float, Field(gt=0, le=1)] | None = None
    window: Literal["count", "time"] = "count"
    window_size: Annotated[int, Field(gt=0)] = 20
    window_seconds: Annotated[float, Field(gt=0)] = 60.0
    minimum_calls: Annotated[int, Field(gt=0)] = 10
    cool_down: Annotated[float, Field(ge=0)] = 30.0
    half_open_max_calls: Annotated[int, Field(gt=0)] = 1
    success_threshold: Annotated[int, Field(gt=0)] = 1

    @model_validator(mode="after")
    def _check(self) -> BreakerPolicy:
        if self.failure_threshold is None and self.failure_rate is None:
            raise ValueError(
                "a breaker policy needs failure_threshold (consecutive failures) or "
                "failure_rate (a fraction in (0, 1]) to know when to trip; set at least one"
            )
        if (
            self.failure_rate is not None
            and self.window == "count"
            and self.minimum_calls > self.window_size
        ):
            raise ValueError(
                f"minimum_calls ({self.minimum_calls}) is larger than window_size "
                f"({self.window_size}): the failure rate would never be judged; "
                "lower minimum_calls or raise window_size"
            )
        return self


class Permit:
    """Leave to make one call, returned by :meth:`CircuitBreaker.before_call`.

    Settle it exactly once, on the breaker or on the permit itself (the same thing):
    ``record_success``, ``record_failure`` or ``release``.
    """

    __slots__ = ("breaker", "generation", "probe", "settled")

    def __init__(self, breaker: CircuitBreaker, generation: int, probe: bool) -> None:
        self.breaker = breaker
        self.generation = generation
        self.probe = probe
        self.settled = False

    def record_success(self) -> None:
        self.breaker.record_success(self)

    def record_failure(self) -> None:
        self.breaker.record_failure(self)

    def release(self) -> None:
        self.breaker.release(self)

    def __repr__(self) -> str:
        kind = "probe" if self.probe else "call"
        return (
            f"<Permit {kind} of {self.breaker.key!r} generation={self.generation} "
            f"settled={self.settled}>"
        )


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A breaker's state at one moment, for metrics, reports and assertions."""

    key: str
    state: BreakerState
    consecutive_failures: int
    window_calls: int
    window_failures: int
    retry_after: float


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class CircuitBreaker:
    """The breaker of one target. Not thread-safe: use it from one event loop."""

    def __init__(
        self,
        key: str,
        policy: BreakerPolicy | None = None,
        *,
        clock: Clock | None = None,
        on_change: StateChange | None = None,
    ) -> None:
        self.key = key
        self.policy = policy if policy is not None else BreakerPolicy()
        self._clock = clock if clock is not None else _loop_time
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        # Bumped on every transition; a permit from an older generation is stale.
        self._generation = 0
        self._consecutive = 0
        # Count window: outcomes (True = failed). Time window: (end time, failed).
        self._outcomes: deque[bool] = deque(maxlen=self.policy.window_size)
        self._timed: deque[tuple[float, bool]] = deque()
        self._window_failures = 0
        self._open_until = 0.0
        self._open_reason = ""
        self._probes = 0
        self._probe_successes = 0

    # ------------------------------------------------------------------ reading

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose cool-down has passed is half-open."""
        self._refresh(self._clock())
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through; 0 when not open."""
        now = self._clock()
        self._refresh(now)
        if self._state is BreakerState.OPEN:
            return max(self._open_until - now, 0.0)
        return 0.0

    def snapshot(self) -> BreakerSnapshot:
        now = self._clock()
        self._refresh(now)
        self._expire(now)
        calls = len(self._timed) if self.policy.window == "time" else len(self._outcomes)
        return BreakerSnapshot(
            self.key,
            self._state,
            self._consecutive,
            calls,
            self._window_failures,
            max(self._open_until - now, 0.0) if self._state is BreakerState.OPEN else 0.0,
        )

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.key!r} {self._state}>"

    # ------------------------------------------------------------------ calls

    def before_call(self) -> Permit:
        """A permit for one call, or :class:`CircuitOpenError` if the call must not be made.

        While half-open this reserves one of the ``half_open_max_calls`` probe slots.
        """
        state = self._state
        if state is BreakerState.CLOSED:
            return Permit(self, self._generation, False)
        now = self._clock()
        self._refresh(now)
        if self._state is BreakerState.OPEN:
            raise CircuitOpenError(self.key, self._open_until - now, self._open_reason)
        if self._probes >= self.policy.half_open_max_calls:
            raise CircuitOpenError(self.key, 0.0, "half-open, probe calls in flight")
        self._probes += 1
        return Permit(self, self._generation, True)

    def record_success(self, permit: Permit) -> None:
        """The call made under ``permit`` succeeded."""
        if not self._settle(permit):
            return
        if permit.probe:
            self._probes -= 1
            self._probe_successes += 1
            if self._probe_successes >= self.policy.success_threshold:
                self._transition(BreakerState.CLOSED, "probe call succeeded")
            return
        self._consecutive = 0
        self._add_outcome(self._clock(), False)

    def record_failure(self, permit: Permit) -> None:
        """The call made under ``permit`` failed (an error or a timeout of the target)."""
        if not self._settle(permit):
            return
        now = self._clock()
        if permit.probe:
            self._probes -= 1
            self._trip(now, "probe call failed")
            return
        self._consecutive += 1
        self._add_outcome(now, True)
        policy = self.policy
        if policy.failure_threshold is not None and self._consecutive >= policy.failure_threshold:
            count = self._consecutive
            self._trip(now, f"{count} consecutive failure{'s' if count > 1 else ''}")
            return
        if policy.failure_rate is not None:
            self._expire(now)
            calls = len(self._timed) if policy.window == "time" else len(self._outcomes)
            if calls >= policy.minimum_calls:
                rate = self._window_failures / calls
                if rate >= policy.failure_rate:
                    self._trip(
                        now,
                        f"failure rate {rate:.0%} over the last {calls} calls "
                        f"(threshold {policy.failure_rate:.0%})",
                    )

    def release(self, permit: Permit) -> None:
        """The call made under ``permit`` was cancelled: free its slot, count nothing."""
        if self._settle(permit) and permit.probe:
            self._probes -= 1

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` under the breaker: the bracket of the module docstring, packaged.

        Every :class:`Exception` counts as a failure; cancellation (or any other
        :class:`BaseException`) counts as nothing.
        """
        permit = self.before_call()
        try:
            result = await fn()
        except Exception:
            self.record_failure(permit)
            raise
        except BaseException:
            self.release(permit)
            raise
        self.record_success(permit)
        return result

    # ------------------------------------------------------------------ internals

    def _settle(self, permit: Permit) -> bool:
        """Mark the permit used; True if its outcome still concerns the current state."""
        if permit.breaker is not self:
            raise ValueError(f"{permit!r} belongs to another breaker than '{self.key}'")
        if permit.settled:
            raise RuntimeError(f"{permit!r} was already settled")
        permit.settled = True
        return permit.generation == self._generation

    def _refresh(self, now: float) -> None:
        if self._state is BreakerState.OPEN and now >= self._open_until:
            self._transition(BreakerState.HALF_OPEN, "cool-down passed")

    def _trip(self, now: float, reason: str) -> None:
        self._open_until = now + self.policy.cool_down
        self._open_reason = reason
        self._transition(BreakerState.OPEN, reason)

    def _transition(self, new: BreakerState, reason: str) -> None:
        old = self._state
        self._state = new
        self._generation += 1
        self._probes = 0
        self._probe_successes = 0
        if new is BreakerState.CLOSED:
            self._consecutive = 0
            self._outcomes.clear()
            self._timed.clear()
            self._window_failures = 0
        if self._on_change is not None:
            self._on_change(self.key, old, new, reason)

    def _add_outcome(self, now: float, failed: bool) -> None:
        if self.policy.failure_rate is None:
            return
        if self.policy.window == "time":
            self._timed.append((now, failed))
            self._window_failures += failed
            self._expire(now)
            return
        outcomes = self._outcomes
        if len(outcomes) == outcomes.maxlen:
            self._window_failures -= outcomes[0]
        outcomes.append(failed)
        self._window_failures += failed

    def _expire(self, now: float) -> None:
        timed = self._timed
        horizon = now - self.policy.window_seconds
        while timed and timed[0][0] <= horizon:
            self._window_failures -= timed.popleft()[1]


# ---------------------------------------------------------------------- keys


def by_action(action: str, params: Mapping[str, Any]) -> str:
    """One breaker per action name."""
    return action


def by_params(*names: str) -> KeyFn:
    """One breaker per action and value(s) of the named parameters.

    ``by_params("namespace", "deployment")`` keys ``scale_deployment`` against
    ``default/web`` as ``"scale_deployment:default/web"``. A missing parameter counts as
    the empty string, so calls without it share one breaker.
    """
    if not names:
        raise ValueError("by_params needs at least one parameter name")

    def key(action: str, params: Mapping[str, Any]) -> str:
        return action + ":" + "/".join(str(params.get(name, "")) for name in names)

    key.__name__ = f"by_params({', '.join(map(repr, names))})"
    return key


class BreakerRegistry:
    """The breakers of an engine, one per target key, created on first use.

    ``default`` applies to every action (None: only actions or keys named in
    ``overrides`` get a breaker). ``overrides`` maps a target key or an action name to
    its own policy; an exact key wins over its action. ``key`` turns (action name,
    resolved params) into the target key; ``action_keys`` overrides it per action. Every
    breaker reports its transitions to ``on_change``.
    """

    def __init__(
        self,
        default: BreakerPolicy | None = None,
        *,
        overrides: Mapping[str, BreakerPolicy] | None = None,
        key: KeyFn = by_action,
        action_keys: Mapping[str, KeyFn] | None = None,
        clock: Clock | None = None,
        on_change: StateChange | None = None,
    ) -> None:
        self.default = default
        self.overrides = dict(overrides or {})
        self.key = key
        self.action_keys = dict(action_keys or {})
        self.on_change = on_change
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def key_for(self, action: str, params: Mapping[str, Any]) -> str:
        """The target key of a call of ``action`` with ``params``."""
        return self.action_keys.get(action, self.key)(action, params)

    def policy_for(self, key: str, action: str | None = None) -> BreakerPolicy | None:
        """The policy a breaker for ``key`` gets, or None if the target is unguarded."""
        overrides = self.overrides
        if key in overrides:
            return overrides[key]
        if action is not None and action in overrides:
            return overrides[action]
        return self.default

    def for_call(self, action: str, params: Mapping[str, Any]) -> CircuitBreaker | None:
        """The breaker guarding a call of ``action`` with ``params``; None if unguarded."""
        key = self.key_for(action, params)
        breaker = self._breakers.get(key)
        if breaker is not None:
            return breaker
        policy = self.policy_for(key, action)
        return None if policy is None else self._create(key, policy)

    def get(self, key: str, action: str | None = None) -> CircuitBreaker:
        """The breaker of ``key``, created on first use (with the default policy if none)."""
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._create(key, self.policy_for(key, action) or BreakerPolicy())
        return breaker

    def snapshot(self) -> list[BreakerSnapshot]:
        """Every breaker's current state, sorted by key."""
        return [self._breakers[key].snapshot() for key in sorted(self._breakers)]

    def __contains__(self, key: object) -> bool:
        return key in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)

    def _create(self, key: str, policy: BreakerPolicy) -> CircuitBreaker:
        breaker = CircuitBreaker(key, policy, clock=self._clock, on_change=self._changed)
        self._breakers[key] = breaker
        return breaker

    def _changed(self, key: str, old: BreakerState, new: BreakerState, reason: str) -> None:
        if self.on_change is not None:
            self.on_change(key, old, new, reason)


# ---------------------------------------------------------------------- events


def breaker_event(
    key: str,
    old: BreakerState,
    new: BreakerState,
    reason: str,
    *,
    time: float,
    execution_id: str = "",
    workflow: str = "",
) -> Event:
    """The BREAKER_STATE_CHANGED event for a transition.

    Its ``data`` is ``{"key": str, "state": str, "previous": str, "reason": str}`` with
    states spelled as :class:`BreakerState` values (``closed``, ``half_open``, ``open``).
    A breaker is shared by executions, so ``execution_id`` and ``workflow`` name the one
    whose call caused the change when known, and are empty otherwise; ``status`` is the
    new state.
    """
    return Event(
        EventKind.BREAKER_STATE_CHANGED,
        execution_id,
        time,
        workflow,
        status=str(new),
        data={"key": key, "state": str(new), "previous": str(old), "reason": reason},
    )
