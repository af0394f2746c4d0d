"""The app factory: an :class:`engine.Engine` as a Starlette application.

::

    app = create_app(engine, token="s3cret")
    # uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8080)).serve()

The app runs on the engine's event loop (serve it from the loop the engine runs on).
It holds no state of its own beyond the template catalogue (persisted through its
:class:`ServiceStore`) and the event hub; everything about executions is read from the
engine and its stores, so a restarted service on the same stores answers the same.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from engine.compiled import CompiledWorkflow
from engine.engine import Engine
from engine.metrics import EngineMetrics
from engine.service.auth import BearerAuth
from engine.service.catalog import TemplateCatalog
from engine.service.cloudevents import CloudEventFactory
from engine.service.context import ReadyCheck, Register, ServiceContext
from engine.service.event_routes import EventRoutes
from engine.service.execution_routes import ExecutionRoutes
from engine.service.openapi import openapi_document
from engine.service.ops_routes import OpsRoutes
from engine.service.problems import exception_handlers
from engine.service.streams import DEFAULT_HEARTBEAT, EventHub
from engine.service.template_routes import TemplateRoutes
from engine.template import WorkflowTemplate

DEFAULT_MAX_BODY_BYTES = 1_048_576


def create_app(
    engine: Engine,
    *,
    token: str | None,
    ready_check: ReadyCheck | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    catalog: TemplateCatalog | None = None,
    register: Register | None = None,
    metrics: EngineMetrics | None = None,
    heartbeat: float = DEFAULT_HEARTBEAT,
) -> Starlette:
    """The HTTP API of ``engine``.

    ``token`` is the bearer token every route but ``/healthz`` and ``/readyz`` requires;
    None serves without authentication (local development only: the CLI passes None
    only with ``--insecure-local``). ``ready_check`` returns the failing readiness
    checks beyond the engine's own. Bodies over ``max_body_bytes`` get 413.

    ``catalog`` lists (and persists) the templates registered through the service;
    ``register`` validates and registers one (default: ``engine.register``; the CLI
    adds the profile's defaults first); ``metrics`` is the engine's metrics if it has
    some already (else they are created here). The context is ``app.state.service``:
    call ``app.state.service.start_draining()`` when shutdown begins.
    """
    if token is not None and not token:
        raise ValueError("the bearer token must not be empty (None serves without one)")
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    factory = CloudEventFactory()

    def default_register(template: WorkflowTemplate) -> CompiledWorkflow:
        return engine.register(template)

    ctx = ServiceContext(
        engine=engine,
        catalog=catalog if catalog is not None else TemplateCatalog(),
        register=register if register is not None else default_register,
        metrics=metrics if metrics is not None else EngineMetrics(engine),
        hub=EventHub(engine.events, factory, heartbeat=heartbeat),
        cloudevents=factory,
        max_body_bytes=max_body_bytes,
        ready_check=ready_check,
    )
    openapi = openapi_document(secured=token is not None)
    routes = [
        *OpsRoutes(ctx, openapi).routes(),
        *TemplateRoutes(ctx).routes(),
        # Event routes first: ".../{id}/events" would otherwise be read as an id.
        *EventRoutes(ctx).routes(),
        *ExecutionRoutes(ctx).routes(),
    ]
    middleware = [] if token is None else [Middleware(BearerAuth, token=token)]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=exception_handlers())
    app.state.service = ctx
    return app
