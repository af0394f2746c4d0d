"""The engine as an HTTP service: part of the engine, so it imports nothing above it.

:func:`create_app` turns an :class:`engine.Engine` into a Starlette application
(templates, executions, dead letters, CloudEvents streams over SSE, health, readiness,
Prometheus metrics and the OpenAPI document), with bearer-token auth and RFC 9457
problem details for every error. Serving it (uvicorn, signals, building the engine)
is the caller's: ``windtunnel serve`` in ``harness/commands/serve.py`` does it on the
testbed. :func:`drain` and :func:`resume_drained` are the graceful shutdown and its
pick-up on the next start; :class:`SqliteServiceStore` keeps what a restart needs
beyond the engine's stores (the registered templates).
"""

from __future__ import annotations

from engine.service.app import DEFAULT_MAX_BODY_BYTES, create_app
from engine.service.catalog import TemplateCatalog
from engine.service.context import ServiceContext
from engine.service.drain import DrainReport, drain, resume_drained
from engine.service.openapi import openapi_document
from engine.service.problems import PROBLEM_JSON, ProblemError
from engine.service.service_store import (
    MemoryServiceStore,
    ServiceStore,
    SqliteServiceStore,
    service_store_path,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PROBLEM_JSON",
    "DrainReport",
    "MemoryServiceStore",
    "ProblemError",
    "ServiceContext",
    "ServiceStore",
    "SqliteServiceStore",
    "TemplateCatalog",
    "create_app",
    "drain",
    "openapi_document",
    "resume_drained",
    "service_store_path",
]
