"""How users report to Locust: the request types of :mod:`loadtests.stats`, and outcomes.

Imported only in Locust's process (it takes Locust's environment), like the users.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any

from loadtests.plan import PLAN_OPTION, LoadPlan, PlanError

_USER_NUMBERS = itertools.count()


class UnexpectedEnd(Exception):
    """An execution ended in a status its mix entry does not count as a success."""


def plan_of(environment: Any) -> LoadPlan:
    """The run's plan, from the (master-forwarded) ``--windtunnel-plan`` option."""
    options = environment.parsed_options
    text = getattr(options, PLAN_OPTION.removeprefix("--").replace("-", "_"), None)
    if not text:
        raise PlanError(
            f"no {PLAN_OPTION}: run the load through 'windtunnel load', which passes it"
        )
    return LoadPlan.from_json(str(text))


def process_index(environment: Any) -> int:
    """This worker's index under a master (0 for a single process)."""
    return int(getattr(environment.runner, "worker_index", 0) or 0)


def user_seed(plan: LoadPlan, environment: Any) -> str:
    """A seed for one user: the plan's seed, the process, and the user's number in it."""
    return f"{plan.seed}:{process_index(environment)}:{next(_USER_NUMBERS)}"


def fire(
    environment: Any,
    request_type: str,
    name: str,
    started: float,
    start_time: float,
    exception: BaseException | None = None,
) -> None:
    """Report one request of ``request_type`` that began at ``started`` (perf_counter)."""
    environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=(time.perf_counter() - started) * 1000.0,
        response_length=0,
        exception=exception,
        context={},
        start_time=start_time,
        url=None,
    )


def outcome(status: str, expect: Iterable[str], name: str) -> UnexpectedEnd | None:
    expected = sorted(expect)
    if status in expected:
        return None
    return UnexpectedEnd(
        f"{name} ended {status or 'without a status'}, expected {'/'.join(expected)}"
    )
