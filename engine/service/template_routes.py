"""``/v1/templates``: register a template version, list them, read one back.

``POST`` takes a workflow template as JSON (the :class:`engine.WorkflowTemplate`
schema). A new version answers 201; the very same version again answers 200 (nothing
new was created); the same version with other content answers 409 (register it as a
new version); a schema violation or a template problem (a cycle, an unknown action, a
bad expression) answers 422 listing every problem. The template is recorded in the
service store before the answer, so an execution submitted after it survives a restart.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.errors import EngineError, TemplateError
from engine.service.bodies import check_json_media_type, read_body, validation_problem
from engine.service.context import ServiceContext
from engine.service.problems import ProblemError, template_errors
from engine.service.schemas import INT32_MAX
from engine.service.views import JSON
from engine.storage import StoreError
from engine.template import WorkflowTemplate


class TemplateRoutes:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Route]:
        return [
            Route("/v1/templates", self.register, methods=["POST"]),
            Route("/v1/templates", self.list, methods=["GET"]),
            Route("/v1/templates/{name:path}", self.get, methods=["GET"]),
        ]

    async def register(self, request: Request) -> Response:
        ctx = self.ctx
        ctx.refuse_if_draining()
        check_json_media_type(request)
        raw = await read_body(request, ctx.max_body_bytes)
        if not raw.strip():
            raise ProblemError(400, "the request needs a workflow template as its JSON body")
        try:
            template = WorkflowTemplate.model_validate_json(raw)
        except ValidationError as exc:
            raise validation_problem(exc) from None
        _check_storable(template)
        try:
            compiled = ctx.register(template)
        except TemplateError as exc:
            errors = template_errors(exc.problems)
            raise ProblemError(422, str(exc), errors=errors) from None
        except EngineError as exc:
            raise ProblemError(409, str(exc)) from None
        try:
            created = ctx.catalog.add(compiled)
        except StoreError as exc:
            raise ProblemError(503, f"the template could not be recorded: {exc}") from None
        body = {"name": compiled.name, "version": compiled.version}
        return JSON(body, status_code=201 if created else 200)

    async def list(self, request: Request) -> Response:
        _no_parameters(request)
        items = [{"name": n, "version": v} for n, v in self.ctx.catalog.refs()]
        return JSON({"items": items})

    async def get(self, request: Request) -> Response:
        name = request.path_params["name"]
        version = _version_parameter(request)
        compiled = self.ctx.catalog.get(name, version)
        if compiled is None:
            known = self.ctx.catalog.versions(name)
            if not known:
                raise ProblemError(404, f"no template named {name!r} is registered")
            raise ProblemError(
                404,
                f"template {name!r} has no version {version}; registered versions: "
                + ", ".join(map(str, known)),
            )
        return JSON(compiled.template.model_dump(mode="json"))


def _check_storable(template: WorkflowTemplate) -> None:
    """Numbers the stores keep must fit (the schema alone bounds them on one side)."""
    errors = []
    if template.version > INT32_MAX:
        errors.append({"field": "version", "message": f"must be at most {INT32_MAX}"})
    if not -INT32_MAX <= template.priority <= INT32_MAX:
        errors.append(
            {"field": "priority", "message": f"must be between {-INT32_MAX} and {INT32_MAX}"}
        )
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ProblemError(422, f"the template has out-of-range numbers: {summary}", errors=errors)


def _no_parameters(request: Request) -> None:
    unknown = sorted(set(request.query_params))
    if unknown:
        raise ProblemError(
            400,
            "this endpoint takes no query parameters, got: " + ", ".join(unknown),
            errors=[{"field": name, "message": "unknown parameter"} for name in unknown],
        )


def _version_parameter(request: Request) -> int | None:
    params = request.query_params
    unknown = sorted(set(params) - {"version"})
    if unknown:
        raise ProblemError(
            400,
            "unknown query parameters: " + ", ".join(unknown) + " (known: version)",
            errors=[{"field": name, "message": "unknown parameter"} for name in unknown],
        )
    raw = params.getlist("version")
    if not raw:
        return None
    if len(raw) > 1:
        raise ProblemError(
            400, "give 'version' once", errors=[{"field": "version", "message": "repeated"}]
        )
    try:
        version = int(raw[0])
    except ValueError:
        version = 0
    if not 1 <= version <= INT32_MAX:
        raise ProblemError(
            400,
            f"version must be a whole number from 1, got {raw[0]!r}",
            errors=[{"field": "version", "message": "a whole number from 1"}],
        )
    return version
