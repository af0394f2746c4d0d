"""The HTTP Locust user: the engine's service as a client sees it.

Per the service contract (engine/service/): the first user of a process registers the
mix's templates (``POST /v1/templates``, request type ``register``); then every task
submits an execution (``POST /v1/executions``, request type ``submit``) and follows it
to its end on its event stream (``GET /v1/executions/{id}/events``, server-sent
CloudEvents; the stream replays the end of an execution that already finished and
closes after it), reported as ``completion`` with the time from the submit to the
terminal event. No polling: one stream per execution.
"""

from __future__ import annotations

import time
from typing import Any

import gevent.lock
from locust import FastHttpUser, task

from loadtests.mix import MixEntry, WorkflowMix
from loadtests.plan import TOKEN_OPTION
from loadtests.reporting import outcome, plan_of, user_seed
from loadtests.sse import SseParser, cloud_event, terminal_status
from loadtests.stats import COMPLETION, REGISTER, SUBMIT

_REGISTERED: set[str] = set()
_REGISTERING = gevent.lock.Semaphore()


class ServiceError(Exception):
    """The service answered something the contract does not allow here."""


class HttpEngineUser(FastHttpUser):
    """See the module docstring."""

    network_timeout = 300.0
    connection_timeout = 10.0
    concurrency = 2

    def on_start(self) -> None:
        plan = plan_of(self.environment)
        self._think = plan.think_time()
        options = self.environment.parsed_options
        token = getattr(options, TOKEN_OPTION.removeprefix("--").replace("-", "_"), None)
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}
        self._mix = WorkflowMix.of(plan.profile())
        self._pick = self._mix.picker(user_seed(plan, self.environment))
        with _REGISTERING:
            if self.host not in _REGISTERED:
                for entry in self._mix.entries:
                    self._register(entry)
                _REGISTERED.add(str(self.host))

    def wait_time(self) -> float:
        return self._think

    def _register(self, entry: MixEntry) -> None:
        with self.client.post(
            "/v1/templates",
            json=entry.template_json(),
            headers=self._auth,
            name=entry.name,
            catch_response=True,
        ) as resp:
            resp.request_meta["request_type"] = REGISTER
            if resp.status_code not in (200, 201):
                resp.failure(ServiceError(_problem(resp, "registering the template")))

    @task
    def one_execution(self) -> None:
        entry = self._pick()
        started = time.perf_counter()
        body: dict[str, Any] = {"template": entry.name, "version": entry.version}
        if entry.inputs:
            body["inputs"] = dict(entry.inputs)
        execution_id = None
        with self.client.post(
            "/v1/executions", json=body, headers=self._auth, name=entry.name, catch_response=True
        ) as resp:
            resp.request_meta["request_type"] = SUBMIT
            if resp.status_code in (200, 201):
                try:
                    execution_id = str(resp.json()["execution_id"])
                except (ValueError, KeyError, TypeError):
                    resp.failure(ServiceError("the submit answer has no execution_id"))
            else:
                resp.failure(ServiceError(_problem(resp, "submitting")))
        if execution_id is not None:
            self._follow(entry, execution_id, started)

    def _follow(self, entry: MixEntry, execution_id: str, started: float) -> None:
        with self.client.get(
            f"/v1/executions/{execution_id}/events",
            headers={**self._auth, "Accept": "text/event-stream"},
            name=entry.name,
            stream=True,
            catch_response=True,
        ) as resp:
            resp.request_meta["request_type"] = COMPLETION
            if resp.status_code != 200:
                resp.failure(ServiceError(_problem(resp, "following the execution")))
                return
            status: str | None = None
            ended_at = None
            parser = SseParser()
            # Read to the end (the service closes after the terminal event) so the
            # connection is clean for the next request; the time is the event's.
            for chunk in resp.iter_content(chunk_size=4096):
                for event in parser.feed(chunk):
                    cloud = cloud_event(event)
                    found = terminal_status(cloud) if cloud is not None else None
                    if found is not None and status is None:
                        status, ended_at = found, time.perf_counter()
            resp.request_meta["response_time"] = ((ended_at or time.perf_counter()) - started) * 1e3
            if status is None:
                resp.failure(ServiceError("the event stream ended before the execution did"))
                return
            if status == "":
                status = self._status(execution_id)
            failure = outcome(status, entry.expect, entry.name)
            if failure is not None:
                resp.failure(failure)
            else:
                resp.success()

    def _status(self, execution_id: str) -> str:
        """The end status, when the terminal event did not carry one (one GET, no loop)."""
        resp = self.client.get(f"/v1/executions/{execution_id}", headers=self._auth, name="status")
        try:
            return str(resp.json()["status"])
        except (ValueError, KeyError, TypeError):
            return ""


def _problem(resp: Any, what: str) -> str:
    """The service's RFC 9457 problem, shortened, for a failure message."""
    detail = ""
    try:
        body = resp.json()
        detail = str(body.get("detail") or body.get("title") or "")
    except (ValueError, AttributeError, TypeError):
        detail = (resp.text or "")[:200] if hasattr(resp, "text") else ""
    return f"{what}: HTTP {resp.status_code} {detail}".strip()
