"""The hook point for fault injection: an ordered list of reactors on the request path.

Modelled on client-go's fake ``ReactionChain``: every request that reaches the router
(from the in-process official clients or the HTTP front end) is offered to each
reactor in order, *after* it is parsed (so reactors can match verb, resource,
namespace and name) and *before* it is served. A reactor returns ``None`` to pass,
or a :class:`Reaction` that may

* ``delay`` the request (seconds; awaited on the running event loop's clock in the
  async path, so virtual time applies; delays of all reactors add up),
* answer instead of the server (``response``, e.g. a 503 or a 429 with
  ``Retry-After``; later reactors are not consulted), or
* ``after``: transform the server's response (e.g. close a watch stream early).

With no reactors the cost is one truthiness test per request. The fault-injection
rules (latency distributions, error rates, outage windows, the action log) are
reactors written elsewhere; this module only defines the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from fakes.kube.messages import Request, Response


@dataclass(slots=True)
class Reaction:
    """What a reactor wants done with a request (see module docstring)."""

    delay: float = 0.0
    response: Response | None = None
    after: Callable[[Response], Response] | None = None


class Reactor(Protocol):
    """Called with every parsed request; ``None`` lets it through untouched."""

    def __call__(self, request: Request) -> Reaction | None: ...


@dataclass(slots=True)
class Plan:
    """The combined reactions for one request."""

    delay: float
    response: Response | None
    after: list[Callable[[Response], Response]]


def plan(reactors: list[Reactor], request: Request) -> Plan | None:
    """Run the chain; ``None`` when no reactor reacted."""
    delay = 0.0
    after: list[Callable[[Response], Response]] = []
    reacted = False
    for reactor in reactors:
        reaction = reactor(request)
        if reaction is None:
            continue
        reacted = True
        delay += reaction.delay
        if reaction.after is not None:
            after.append(reaction.after)
        if reaction.response is not None:
            return Plan(delay, reaction.response, after)
    return Plan(delay, None, after) if reacted else None
