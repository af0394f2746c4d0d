"""Prometheus metrics of an engine, kept from its event stream.

:class:`EngineMetrics` subscribes to ``engine.events`` and keeps counters, gauges and a
histogram in a :class:`prometheus_client.CollectorRegistry` of its own (never the
process-global one unless passed in, so two engines, or two tests, never share
samples). Queue depths are read from the engine when the registry is scraped.

Metrics (``workflow_engine`` is the default ``namespace``):

===========================================  =========  ============================
name                                         type       labels
===========================================  =========  ============================
``workflow_engine_executions_total``         counter    workflow, status (terminal)
``workflow_engine_active_executions``        gauge      (read on scrape)
``workflow_engine_steps_total``              counter    workflow, status (terminal)
``workflow_engine_step_duration_seconds``    histogram  workflow, status
``workflow_engine_step_retries_total``       counter    workflow
``workflow_engine_ready_steps``              gauge      (read on scrape)
``workflow_engine_running_steps``            gauge      (read on scrape)
``workflow_engine_breaker_state``            gauge      key: 0 closed, 1 half-open, 2 open
``workflow_engine_breaker_transitions_total``  counter  key, state (the state entered)
``workflow_engine_dead_letters_total``       counter    workflow
``workflow_engine_steps_throttled_total``    counter    workflow (no room: admission)
===========================================  =========  ============================

Steps are counted when their STEP_FINISHED event arrives (skipped steps included); the
duration histogram only sees steps that started, whose event carries
``data["duration"]`` in seconds. Breaker gauges come from BREAKER_STATE_CHANGED events whose
``data`` holds ``key`` and ``state`` (see :func:`engine.circuit_breaker.breaker_event`);
a breaker that never changed state has no sample, which reads as closed.

Event callbacks run on the engine's event loop. A malformed event (say, a breaker event
without ``key``) is skipped and counted in ``malformed_events`` rather than raising,
because the event bus drops a subscriber that raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from engine.circuit_breaker import BreakerState
from engine.events import Event, EventBus, EventKind

# From 1 ms to 30 min: a no-op step to a rollout waiting for ready replicas.
DURATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1200.0,
    1800.0,
)


class MetricsSource(Protocol):
    """What :class:`EngineMetrics` needs of an engine (:class:`engine.Engine` has it)."""

    @property
    def events(self) -> EventBus: ...

    @property
    def ready_steps(self) -> int: ...

    @property
    def running_steps(self) -> int: ...

    def active_executions(self) -> list[str]: ...


class EngineMetrics:
    """Prometheus metrics for one engine; :meth:`render` gives the text exposition."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(
        self,
        engine: MetricsSource,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "workflow_engine",
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        ns, reg = namespace, self.registry

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, namespace=ns, registry=reg)

        def gauge(name: str, doc: str, *labels: str) -> Gauge:
            return Gauge(name, doc, labels, namespace=ns, registry=reg)

        self.executions = counter(
            "executions", "Executions that ended, by terminal status.", "workflow", "status"
        )
        self.active_executions = gauge(
            "active_executions", "Executions not terminal yet (pending, running, paused)."
        )
        self.active_executions.set_function(lambda: len(engine.active_executions()))
        self.steps = counter(
            "steps", "Steps that reached a terminal status, by status.", "workflow", "status"
        )
        self.step_duration = Histogram(
            "step_duration_seconds",
            "Step durations, as reported by step_finished events.",
            ["workflow", "status"],
            namespace=ns,
            registry=reg,
            buckets=DURATION_BUCKETS,
        )
        self.retries = counter(
            "step_retries", "Failed step attempts that will be tried again.", "workflow"
        )
        self.ready_steps = gauge(
            "ready_steps", "Steps ready to run, waiting for a free slot (ready-queue depth)."
        )
        self.ready_steps.set_function(lambda: engine.ready_steps)
        self.running_steps = gauge("running_steps", "Steps running now, across all executions.")
        self.running_steps.set_function(lambda: engine.running_steps)
        self.breaker_state = gauge(
            "breaker_state",
            "Circuit breaker state per target: 0 closed, 1 half-open, 2 open.",
            "key",
        )
        self.breaker_transitions = counter(
            "breaker_transitions",
            "Circuit breaker state changes, by the state entered.",
            "key",
            "state",
        )
        self.dead_letters = counter(
            "dead_letters", "Failed executions recorded in the dead-letter queue.", "workflow"
        )
        self.throttled = counter(
            "steps_throttled",
            "Times a step waited because its declared resources did not fit.",
            "workflow",
        )
        # Label children by label values: .labels() costs more than the increment itself,
        # and the step events arrive on the engine's hot path.
        self._children: dict[tuple[Any, ...], Any] = {}
        handlers: dict[EventKind, Callable[[Event], None]] = {
            EventKind.EXECUTION_FINISHED: self._execution_finished,
            EventKind.STEP_FINISHED: self._step_finished,
            EventKind.STEP_RETRYING: self._step_retrying,
            EventKind.BREAKER_STATE_CHANGED: self._breaker_changed,
            EventKind.DEAD_LETTERED: self._dead_lettered,
            EventKind.STEP_THROTTLED: self._step_throttled,
        }
        self._handlers = handlers
        self.malformed_events = 0
        self._unsubscribe: Callable[[], None] | None = engine.events.subscribe(self._on_event)

    def render(self) -> str:
        """The registry in the Prometheus text exposition format (serve as ``content_type``)."""
        return generate_latest(self.registry).decode("utf-8")

    def close(self) -> None:
        """Stop following the engine's events; the samples so far stay readable."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # ------------------------------------------------------------------ event handlers

    def _on_event(self, event: Event) -> None:
        handler = self._handlers.get(event.kind)
        if handler is not None:
            try:
                handler(event)
            except (KeyError, TypeError, ValueError):
                # Skipped and counted, rather than raising and being unsubscribed.
                self.malformed_events += 1

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def _execution_finished(self, event: Event) -> None:
        self._child(self.executions, event.workflow, event.status or "").inc()

    def _step_finished(self, event: Event) -> None:
        status = event.status or ""
        self._child(self.steps, event.workflow, status).inc()
        duration = event.data.get("duration")
        if duration is not None:
            self._child(self.step_duration, event.workflow, status).observe(float(duration))

    def _step_retrying(self, event: Event) -> None:
        self._child(self.retries, event.workflow).inc()

    def _breaker_changed(self, event: Event) -> None:
        key = str(event.data["key"])
        state = BreakerState(event.data["state"])
        self._child(self.breaker_state, key).set(state.level)
        self._child(self.breaker_transitions, key, str(state)).inc()

    def _dead_lettered(self, event: Event) -> None:
        self._child(self.dead_letters, event.workflow).inc()

    def _step_throttled(self, event: Event) -> None:
        self._child(self.throttled, event.workflow).inc()
