"""``/v1/executions`` and ``/v1/dead-letters``: submit, read, list, control, replay.

Status codes a client can rely on:

* submit: 201 with a new execution; 200 with the execution an ``idempotency_key``
  already started (409 if that was another template); 422 for an unknown template or
  version and for inputs the template does not declare, lacks or types otherwise;
  503 while the service drains or when the store cannot record the execution;
* cancel, pause, resume: 202 with the status after the request; 404 for an unknown
  id; 409 once the execution has finished;
* replay: 201 with the new execution; 404 for an execution that is not a dead letter;
  409 when it was replayed already.

Execution ids may hold ``/`` (a subflow's child is ``<parent>/<step>/<attempt>``), so
the routes match the id as a path.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.errors import EngineError, InputError, UnknownExecutionError
from engine.expressions import ExpressionError
from engine.records import ExecutionState
from engine.service.bodies import read_model
from engine.service.context import ServiceContext
from engine.service.listing import page, parse_query
from engine.service.problems import ProblemError, template_errors
from engine.service.schemas import CancelRequest, SubmitRequest
from engine.service.views import JSON, dead_letter_view, execution_detail, execution_summary
from engine.status import ExecutionStatus
from engine.storage import StoreError


class ExecutionRoutes:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Route]:
        return [
            Route("/v1/executions", self.submit, methods=["POST"]),
            Route("/v1/executions", self.list, methods=["GET"]),
            Route("/v1/executions/{execution_id:path}/cancel", self.cancel, methods=["POST"]),
            Route("/v1/executions/{execution_id:path}/pause", self.pause, methods=["POST"]),
            Route("/v1/executions/{execution_id:path}/resume", self.resume, methods=["POST"]),
            Route("/v1/executions/{execution_id:path}", self.get, methods=["GET"]),
            Route("/v1/dead-letters", self.dead_letters, methods=["GET"]),
            Route("/v1/dead-letters/{execution_id:path}/replay", self.replay, methods=["POST"]),
        ]

    # ------------------------------------------------------------------ submit

    async def submit(self, request: Request) -> Response:
        ctx = self.ctx
        ctx.refuse_if_draining()
        body = await read_model(request, SubmitRequest, ctx.max_body_bytes)
        engine = ctx.engine
        try:
            compiled = engine.template(body.template, body.version)
        except EngineError as exc:
            raise ProblemError(
                422,
                f"{exc}: register it with POST /v1/templates first",
                errors=[{"field": "version" if body.version else "template", "message": str(exc)}],
            ) from None
        key = body.idempotency_key
        if key is not None:
            existing = engine.repository.get_by_idempotency_key(key)
            if existing is not None:
                if existing.workflow != compiled.name:
                    raise ProblemError(
                        409,
                        f"idempotency key {key!r} was used for template {existing.workflow!r}, "
                        f"not {compiled.name!r}: use a new key",
                    )
                return JSON(
                    {"execution_id": existing.execution_id, "status": str(existing.status)},
                    status_code=200,
                )
        try:
            execution_id = await engine.submit(
                compiled,
                body.inputs,
                priority=body.priority,
                idempotency_key=key,
                dry_run=body.dry_run,
            )
        except InputError as exc:
            raise ProblemError(422, str(exc), errors=template_errors(exc.problems)) from None
        except ExpressionError as exc:
            raise ProblemError(
                422,
                f"the inputs do not work with the template's vars: {exc}",
                errors=[{"field": "inputs", "message": str(exc)}],
            ) from None
        except StoreError as exc:
            raise ProblemError(503, f"the execution could not be recorded: {exc}") from None
        except EngineError as exc:
            raise ProblemError(503, f"the engine takes no new executions: {exc}") from None
        # A new execution is Running once submit returns, unless it ended at once (every
        # step skipped, say); the store is read only then: on SQLite a read commits the
        # loop tick's pending writes early, which would cost every submit a commit.
        active = execution_id in engine.active_executions()
        status = str(ExecutionStatus.RUNNING) if active else self._status(execution_id)
        return JSON({"execution_id": execution_id, "status": status}, status_code=201)

    def _status(self, execution_id: str) -> str:
        record = self.ctx.engine.repository.get(execution_id)
        return "Pending" if record is None else str(record.status)

    # ------------------------------------------------------------------ read

    async def get(self, request: Request) -> Response:
        execution_id = request.path_params["execution_id"]
        if request.query_params:
            raise ProblemError(400, "this endpoint takes no query parameters")
        state = self._state(execution_id)
        return JSON(execution_detail(state.execution, self._ordered_steps(state)))

    def _state(self, execution_id: str) -> ExecutionState:
        try:
            return self.ctx.engine.get(execution_id)
        except UnknownExecutionError:
            raise ProblemError(404, f"no execution with id {execution_id!r}") from None

    def _ordered_steps(self, state: ExecutionState) -> list[Any]:
        record = state.execution
        try:
            compiled = self.ctx.engine.template(record.workflow, record.version)
        except EngineError:
            return list(state.steps.values())
        order = [step.id for step in compiled.steps]
        known = [state.steps[s] for s in order if s in state.steps]
        return known + [rec for sid, rec in state.steps.items() if sid not in set(order)]

    async def list(self, request: Request) -> Response:
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        query = parse_query(params)
        items, cursor = page(self.ctx.engine.repository, query)
        return JSON({"items": [execution_summary(r) for r in items], "next_cursor": cursor})

    # ------------------------------------------------------------------ control

    async def cancel(self, request: Request) -> Response:
        body = await read_model(request, CancelRequest, self.ctx.max_body_bytes, empty={})
        execution_id = request.path_params["execution_id"]
        return self._control(
            execution_id, lambda: self.ctx.engine.cancel(execution_id, compensate=body.compensate)
        )

    async def pause(self, request: Request) -> Response:
        execution_id = request.path_params["execution_id"]
        return self._control(execution_id, lambda: self.ctx.engine.pause(execution_id))

    async def resume(self, request: Request) -> Response:
        self.ctx.refuse_if_draining()
        execution_id = request.path_params["execution_id"]
        return self._control(execution_id, lambda: self.ctx.engine.resume(execution_id))

    def _control(self, execution_id: str, action: Any) -> Response:
        try:
            action()
        except UnknownExecutionError:
            raise ProblemError(404, f"no execution with id {execution_id!r}") from None
        except StoreError as exc:
            raise ProblemError(503, f"the change could not be recorded: {exc}") from None
        except EngineError as exc:
            raise ProblemError(409, str(exc)) from None
        return JSON(
            {"execution_id": execution_id, "status": self._status(execution_id)}, status_code=202
        )

    # ------------------------------------------------------------------ dead letters

    async def dead_letters(self, request: Request) -> Response:
        params = request.query_params
        unknown = sorted(set(params) - {"include_replayed"})
        raw = params.getlist("include_replayed")
        if unknown or len(raw) > 1 or (raw and raw[0] not in ("true", "false")):
            raise ProblemError(
                400,
                "the only parameter is include_replayed=true|false",
                errors=[{"field": name, "message": "unknown parameter"} for name in unknown]
                or [{"field": "include_replayed", "message": "true or false, once"}],
            )
        letters = self.ctx.engine.dead_letters.list(include_replayed=raw == ["true"])
        return JSON({"items": [dead_letter_view(letter) for letter in letters]})

    async def replay(self, request: Request) -> Response:
        ctx = self.ctx
        ctx.refuse_if_draining()
        execution_id = request.path_params["execution_id"]
        letter = ctx.engine.dead_letters.get(execution_id)
        if letter is None:
            raise ProblemError(404, f"execution {execution_id!r} is not in the dead-letter queue")
        if letter.replayed_by is not None:
            raise ProblemError(
                409, f"execution {execution_id!r} was already replayed by {letter.replayed_by!r}"
            )
        try:
            new_id = await ctx.engine.replay(execution_id)
        except StoreError as exc:
            raise ProblemError(503, f"the replay could not be recorded: {exc}") from None
        except EngineError as exc:
            raise ProblemError(409, str(exc)) from None
        return JSON({"execution_id": new_id}, status_code=201)
