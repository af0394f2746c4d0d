"""``/v1/executions/{id}/events`` and ``/v1/events``: follow executions without polling.

Both answer ``text/event-stream``; each event's ``data`` is one CloudEvents 1.0 JSON
object (see :mod:`engine.service.cloudevents`) and its SSE ``id`` is the CloudEvent's.
The per-execution stream subscribes *before* it reads the execution, so an execution
that ends between a client's submit and its subscription is not missed: its terminal
state is sent (``data.replayed`` is true) and the stream ends; otherwise the stream
ends after the execution's ``io.windtunnel.execution_finished``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.service.context import ServiceContext
from engine.service.problems import ProblemError
from engine.service.streams import EventStream


class EventRoutes:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Route]:
        return [
            Route("/v1/events", self.all_events, methods=["GET"]),
            Route(
                "/v1/executions/{execution_id:path}/events", self.execution_events, methods=["GET"]
            ),
        ]

    async def all_events(self, request: Request) -> Response:
        if request.query_params:
            raise ProblemError(400, "this endpoint takes no query parameters")
        hub = self.ctx.hub
        return EventStream(hub, hub.listen(None))

    async def execution_events(self, request: Request) -> Response:
        if request.query_params:
            raise ProblemError(400, "this endpoint takes no query parameters")
        execution_id = request.path_params["execution_id"]
        hub = self.ctx.hub
        listener = hub.listen(execution_id)
        try:
            record = self.ctx.engine.repository.get(execution_id)
            if record is None:
                raise ProblemError(404, f"no execution with id {execution_id!r}")
        except BaseException:
            hub.forget(listener)
            raise
        if record.status.terminal and not listener.finished:
            hub.replay_terminal(listener, self.ctx.cloudevents.terminal(record))
        return EventStream(hub, listener)
