"""Fault injection, client-go reactor style: ordered, seeded rules plus an action log.

A :class:`FaultInjector` sits in the core router's reactor chain
(``fakes.kube.reactors``), so it sees every request from the in-process official
clients and from the HTTP front end. Its pure part is :meth:`FaultInjector.decide`:
``(RequestMeta, now) -> Outcome``; ``__call__`` adapts that to a ``Reaction``.

Rules are consulted in order. Every matching, active rule adds its latency; the
first one that decides to fail answers with its error (later rules are not
consulted, like client-go's "handled" reactors). A rule matches on verb, resource,
subresource, namespace and name (``None`` = any), may be limited to a loop-time
window ``[start, end)`` (an outage) and to its next ``times`` matches, and fires with
``probability`` drawn from its own seeded stream -- so a run is identical for a seed,
and adding a rule never changes another rule's draws.

Errors are real ``Status`` bodies: 500 InternalError, 503 ServiceUnavailable, 504
Timeout, 429 TooManyRequests with ``Retry-After`` (header and
``details.retryAfterSeconds``, which the official client surfaces), 409 Conflict.
``drop_watch_after`` ends matching watch streams that many seconds after they start,
on the clock their consumer waits on (the loop's, or the sync front end's timer).

Time for windows and the log is the bound (or running) event loop's; a sync-only
cluster with no loop passes its clock (``FaultInjector(clock=cluster.api.clock)``),
so a ``VirtualClock`` drives outage windows too. Injected latency is slept by the
router: awaited on the loop, or through the cluster clock's timer from a thread.

The action log (:attr:`FaultInjector.log`) records every request: loop time, verb,
resource, subresource, namespace, name, the status answered and which rule acted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes.kube.clock import sync_timer
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.clock import Clock
    from fakes.kube.messages import Request, Response

Latency = float | Callable[[random.Random], float] | Any
"""Seconds, a callable taking a seeded ``Random``, or anything with ``.sample(rng)``."""


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What a rule can match on."""

    verb: str
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(slots=True)
class Outcome:
    """What the injector decided for one request."""

    delay: float = 0.0
    error: ApiError | None = None
    drop_watch_after: float | None = None
    rules: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Action:
    """One logged request."""

    time: float
    verb: str
    resource: str
    subresource: str
    namespace: str
    name: str
    status: int | None = None
    delay: float = 0.0
    rules: tuple[str, ...] = ()

    @property
    def injected(self) -> bool:
        return bool(self.rules)


OBSERVER_HEADER = "X-Windtunnel-Observer"
"""A client that sends this header reads the cluster as a test's observer: fault rules
neither apply to its requests nor log them (a scenario's checks must see the cluster as
it is, not through the faults it injects into the system under test)."""
_OBSERVER = OBSERVER_HEADER.lower()


def _is_observer(headers: dict[str, str]) -> bool:
    # Two lookups, not a scan: this is on every request's path. Clients keep the name
    # as written; HTTP front ends may hand it on lower-cased.
    return OBSERVER_HEADER in headers or _OBSERVER in headers


def _matches(pattern: str | tuple[str, ...] | None, value: str) -> bool:
    if pattern is None or pattern == "*":
        return True
    if isinstance(pattern, tuple):
        return value in pattern
    return pattern == value


@dataclass
class Rule:
    """One fault rule (see module docstring)."""

    verb: str | tuple[str, ...] | None = None
    resource: str | tuple[str, ...] | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    latency: Latency = 0.0
    error: int | None = None
    probability: float = 1.0
    times: int | None = None
    retry_after: int | None = None
    message: str | None = None
    drop_watch_after: float | None = None
    start: float | None = None
    end: float | None = None
    label: str = ""
    hits: int = 0
    _rng: random.Random | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.error is not None and self.error not in _ERRORS:
            known = ", ".join(str(c) for c in sorted(_ERRORS))
            raise ValueError(
                f"Rule(error={self.error}) is not an injectable error; use one of {known}"
            )
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"Rule(probability={self.probability}) must be between 0 and 1")

    def matches(self, meta: RequestMeta, now: float) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.start is not None and now < self.start:
            return False
        if self.end is not None and now >= self.end:
            return False
        return (
            _matches(self.verb, meta.verb)
            and _matches(self.resource, meta.resource)
            and _matches(self.subresource, meta.subresource)
            and _matches(self.namespace, meta.namespace)
            and _matches(self.name, meta.name)
        )

    def sample_latency(self, rng: random.Random) -> float:
        lat = self.latency
        if isinstance(lat, int | float):
            return float(lat)
        if hasattr(lat, "sample"):
            return float(lat.sample(rng))
        return float(lat(rng))


def _error(rule: Rule, meta: RequestMeta) -> ApiError:
    code = rule.error
    assert code is not None
    reason, default = _ERRORS[code]
    message = rule.message or default
    headers: dict[str, str] = {}
    details: dict[str, Any] | None = None
    if code == 409:
        what = meta.resource or "resource"
        message = rule.message or (
            f'Operation cannot be fulfilled on {what} "{meta.name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )
        details = {"name": meta.name, "kind": meta.resource}
    elif code == 500:
        details = {"causes": [{"message": message}]}
    elif code in (429, 503, 504) and rule.retry_after is not None:
        headers["Retry-After"] = str(rule.retry_after)
        details = {"retryAfterSeconds": rule.retry_after}
        if code == 504:
            details = {
                "causes": [{"reason": "UnexpectedServerResponse", "message": message}],
                "retryAfterSeconds": rule.retry_after,
            }
    elif code == 504:
        details = {}
    return ApiError(code, reason, message, details, headers)


_ERRORS: dict[int, tuple[str, str]] = {
    409: ("Conflict", ""),
    429: (
        "TooManyRequests",
        "the server has received too many requests and has asked us to try again later",
    ),
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted, but may still be "
        "processing the request",
    ),
}


class FaultInjector:
    """Ordered rules, seeded draws, an action log; a reactor for the core router."""

    def __init__(self, seed: int = 0, record: bool = True, clock: Clock | None = None) -> None:
        self.seed = seed
        self.record = record
        self.clock = clock
        self.rules: list[Rule] = []
        self.log: list[Action] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._count = 0

    # -- building rules ----------------------------------------------------------

    def add(self, rule: Rule) -> Rule:
        self._count += 1
        if not rule.label:
            rule.label = f"rule-{self._count}"
        rule._rng = random.Random(f"{self.seed}-{rule.label}")
        self.rules.append(rule)
        return rule

    def error(
        self,
        code: int,
        *,
        times: int | None = None,
        probability: float = 1.0,
        retry_after: int | None = None,
        **match: Any,
    ) -> Rule:
        """Answer ``code`` to matching requests (the next ``times`` ones, or with a probability)."""
        return self.add(
            Rule(error=code, times=times, probability=probability, retry_after=retry_after, **match)
        )

    def latency(self, seconds: Latency, **match: Any) -> Rule:
        """Delay matching requests (seconds, or a distribution sampled per request)."""
        return self.add(Rule(latency=seconds, **match))

    def outage(
        self,
        start: float,
        end: float,
        code: int = 503,
        retry_after: int | None = None,
        **match: Any,
    ) -> Rule:
        """Every matching request between loop times ``start`` and ``end`` fails."""
        return self.add(Rule(error=code, start=start, end=end, retry_after=retry_after, **match))

    def drop_watches(self, after: float = 0.0, **match: Any) -> Rule:
        """Close matching watch streams ``after`` seconds after they open."""
        match.setdefault("verb", "watch")
        return self.add(Rule(drop_watch_after=after, **match))

    def remove(self, rule: Rule) -> None:
        self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use ``loop``'s clock (also from client threads)."""
        self._loop = loop

    def now(self) -> float:
        if self._loop is not None:
            return self._loop.time()
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return 0.0 if self.clock is None else sync_timer(self.clock).monotonic()

    # -- deciding ----------------------------------------------------------------

    def decide(self, meta: RequestMeta, now: float) -> Outcome:
        """The pure decision for one request at loop time ``now`` (updates rule hit counts)."""
        out = Outcome()
        for rule in self.rules:
            if not rule.matches(meta, now):
                continue
            rng = rule._rng or random.Random(f"{self.seed}-{rule.label}")
            if rule.probability < 1.0 and rng.random() >= rule.probability:
                continue
            rule.hits += 1
            out.rules.append(rule.label)
            out.delay += rule.sample_latency(rng)
            if rule.drop_watch_after is not None and meta.verb == "watch":
                out.drop_watch_after = rule.drop_watch_after
            if rule.error is not None:
                out.error = _error(rule, meta)
                break
        return out

    def __call__(self, request: Request) -> Any:
        from fakes.kube.messages import Response
        from fakes.kube.reactors import Reaction

        info = request.info
        if info is None or info.kind is None:
            return None
        if request.headers and _is_observer(request.headers):
            return None
        meta = RequestMeta(
            info.verb,
            info.kind.plural,
            info.subresource or "",
            info.namespace or "",
            info.name or "",
        )
        if not self.rules and not self.record:
            return None
        now = self.now()
        out = self.decide(meta, now) if self.rules else Outcome()
        action = Action(
            now,
            meta.verb,
            meta.resource,
            meta.subresource,
            meta.namespace,
            meta.name,
            delay=out.delay,
            rules=tuple(out.rules),
        )
        if self.record:
            self.log.append(action)
        if out.error is not None:
            action.status = out.error.code
            return Reaction(delay=out.delay, response=Response.error(out.error))
        drop = out.drop_watch_after

        def after(response: Response) -> Response:
            action.status = response.status
            if drop is not None and response.watch is not None:
                response.watch.end_after(drop)
            return response

        return Reaction(delay=out.delay, after=after)

    # -- assertions ----------------------------------------------------------------

    def actions(
        self,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        injected: bool | None = None,
    ) -> list[Action]:
        """The logged requests matching every given field."""
        return [
            a
            for a in self.log
            if (verb is None or a.verb == verb)
            and (resource is None or a.resource == resource)
            and (namespace is None or a.namespace == namespace)
            and (name is None or a.name == name)
            and (injected is None or a.injected == injected)
        ]
