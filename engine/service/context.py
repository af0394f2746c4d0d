"""What every route of the service needs, in one object handed to each route group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engine.compiled import CompiledWorkflow
from engine.engine import Engine
from engine.metrics import EngineMetrics
from engine.service.catalog import TemplateCatalog
from engine.service.cloudevents import CloudEventFactory
from engine.service.problems import ProblemError
from engine.service.streams import EventHub
from engine.template import WorkflowTemplate

ReadyCheck = Callable[[], Awaitable[list[str]]]
Register = Callable[[WorkflowTemplate], CompiledWorkflow]


@dataclass
class ServiceContext:
    engine: Engine
    catalog: TemplateCatalog
    register: Register
    """Validates and registers a template on the engine (the CLI's adds profile defaults)."""
    metrics: EngineMetrics
    hub: EventHub
    cloudevents: CloudEventFactory
    max_body_bytes: int
    ready_check: ReadyCheck | None = None
    draining: bool = False
    """Set when shutdown begins: requests that would start work get 503."""
    ready_timeout: float = 5.0

    def refuse_if_draining(self) -> None:
        if self.draining:
            raise ProblemError(
                503,
                "the service is shutting down and starts no new work; retry on its successor",
                headers={"Retry-After": "5"},
            )

    def start_draining(self) -> None:
        """Refuse new work and end every event stream (the first step of a shutdown)."""
        self.draining = True
        self.hub.close()
