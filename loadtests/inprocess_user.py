"""The in-process Locust user: drives the engine directly, without HTTP.

Each user submits an execution of a template drawn from the profile's mix and waits
for its end, through this process's :class:`loadtests.bridge.EngineRuntime` (the
testbed's asyncio loop in a real OS thread); it waits on gevent ``AsyncResult`` s, so
hundreds of users share one loop. It reports the same request types as the HTTP user
(:mod:`loadtests.stats`): ``submit`` (until the engine stored the execution and
returned its id) and ``completion`` (submit to terminal status).
"""

from __future__ import annotations

import time
from typing import Any

from locust import User, task

from loadtests.bridge import runtime_for
from loadtests.mix import WorkflowMix
from loadtests.reporting import fire, outcome, plan_of, process_index, user_seed
from loadtests.stats import COMPLETION, SUBMIT


class InProcessEngineUser(User):
    """See the module docstring."""

    def on_start(self) -> None:
        plan = plan_of(self.environment)
        self._think = plan.think_time()
        self._runtime = runtime_for(plan, process_index(self.environment))
        self._pick = WorkflowMix.of(plan.profile()).picker(user_seed(plan, self.environment))

    def wait_time(self) -> float:
        return self._think

    @task
    def one_execution(self) -> None:
        entry = self._pick()
        env: Any = self.environment
        started, start_time = time.perf_counter(), time.time()
        submitted, ended = self._runtime.run(entry.name, entry.version, entry.inputs)
        try:
            submitted.get()
        except Exception as exc:
            fire(env, SUBMIT, entry.name, started, start_time, exc)
            return
        fire(env, SUBMIT, entry.name, started, start_time)
        try:
            record = ended.get()
        except Exception as exc:
            fire(env, COMPLETION, entry.name, started, start_time, exc)
            return
        status = "" if record is None else str(record.status)
        failure = outcome(status, entry.expect, entry.name)
        fire(env, COMPLETION, entry.name, started, start_time, failure)
