"""The locustfile of ``windtunnel load`` (``locust -f loadtests/locustfile.py``).

It offers the two users (:class:`HttpEngineUser`, :class:`InProcessEngineUser`; the
command line picks one), the shape class of the plan's kind, the run's options
(``--windtunnel-plan``, ``--windtunnel-token``; Locust forwards both to workers), a
progress line on stdout every two seconds from the master, and, in each process that
ran in-process users, the drain of its engine when the test stops.

Run it through ``windtunnel load``, which writes the plan; by hand::

    WINDTUNNEL_LOAD_PLAN="$(cat reports/load/RUN/plan.json)" \\
        locust -f loadtests/locustfile.py --headless InProcessEngineUser
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests import shapes
from loadtests.bridge import current_runtime
from loadtests.http_user import HttpEngineUser
from loadtests.inprocess_user import InProcessEngineUser
from loadtests.plan import PLAN_OPTION, PROGRESS_MARK, TOKEN_ENV, TOKEN_OPTION, LoadPlan
from loadtests.reporting import plan_of
from loadtests.stats import COMPLETION, SUBMIT, percentile

PLAN_ENV = "WINDTUNNEL_LOAD_PLAN"
PROGRESS_EVERY = 2.0

__all__ = ["HttpEngineUser", "InProcessEngineUser"]

_plan_text = os.environ.get(PLAN_ENV)
if _plan_text:
    # Locust runs the one shape class it finds here: the plan's kind.
    ProfileShape = shapes.SHAPES[LoadPlan.from_json(_plan_text).shape().kind]


def _options(parser: Any) -> None:
    parser.add_argument(
        PLAN_OPTION,
        env_var=PLAN_ENV,
        default="",
        include_in_web_ui=False,
        help="The load plan (JSON) that windtunnel load writes.",
    )
    parser.add_argument(
        TOKEN_OPTION,
        env_var=TOKEN_ENV,
        default="",
        include_in_web_ui=False,
        is_secret=True,
        help="Bearer token of the engine's service (HTTP user).",
    )


_progress: list[Any] = []


def _start_progress(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or _progress:
        return
    started = time.time()

    def report() -> None:
        while True:
            gevent.sleep(PROGRESS_EVERY)
            _print_progress(environment, started)

    _progress.append(gevent.spawn(report))


def _final_progress(environment: Any, **_: Any) -> None:
    # At quitting, a master has its workers' last reports; at test_stop it may not.
    if not isinstance(environment.runner, WorkerRunner) and _progress:
        _print_progress(environment, None)


def _stop(environment: Any, **_: Any) -> None:
    for greenlet in _progress:
        greenlet.kill(block=False)
    runtime = current_runtime()
    if runtime is None or isinstance(environment.runner, MasterRunner):
        return
    plan = plan_of(environment)
    report = runtime.drain(plan.load().drain_seconds)
    line = {
        "drain": True,
        "pid": os.getpid(),
        "store": str(runtime.store_path),
        "running_at_stop": report.running_at_stop,
        "unfinished": len(report.unfinished),
    }
    print(PROGRESS_MARK + json.dumps(line), flush=True)


def _listen(hook: Any, *listeners: Any) -> None:
    for listener in listeners:
        hook.add_listener(listener)


_listen(events.init_command_line_parser, _options)
_listen(events.test_start, _start_progress)
_listen(events.quitting, _final_progress)
_listen(events.test_stop, _stop)


def _print_progress(environment: Any, started: float | None) -> None:
    stats = environment.stats
    submitted = terminal = failures = 0
    times: dict[int, int] = {}
    for entry in list(stats.entries.values()):
        if entry.method == SUBMIT:
            submitted += entry.num_requests - entry.num_failures
            failures += entry.num_failures
        elif entry.method == COMPLETION:
            terminal += entry.num_requests
            failures += entry.num_failures
            for key, count in entry.response_times.items():
                times[key] = times.get(key, 0) + count
    line = {
        "t": round(time.time() - started, 1) if started is not None else None,
        "users": environment.runner.user_count,
        "rps": round(stats.total.current_rps, 1),
        "p95_completion_ms": percentile(times, 0.95),
        "submitted": submitted,
        "terminal": terminal,
        "failures": failures,
    }
    print(PROGRESS_MARK + json.dumps(line), flush=True)
