"""The DAG workflow engine: the system under test.

It imports nothing from the harness, the fakes or the scenarios: it knows only its own
protocols (state storage, execution repository) and, for its Kubernetes actions, the
official client. The public API is re-exported here.
"""

from __future__ import annotations

from engine.actions import ActionContext, ActionRegistry, ActionSpec
from engine.builtin_actions import default_registry, register_builtin_actions
from engine.circuit_breaker import (
    BreakerPolicy,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
)
from engine.compiled import CompiledWorkflow
from engine.engine import Engine
from engine.errors import (
    ActionError,
    EngineError,
    InputError,
    PermanentError,
    Problem,
    StepTimeoutError,
    TemplateError,
    TransientError,
    UnknownExecutionError,
)
from engine.events import Event, EventBus, EventKind
from engine.metrics import EngineMetrics
from engine.records import AttemptRecord, ExecutionRecord, ExecutionState, StepRecord
from engine.sqlite_store import SqliteStore
from engine.status import ExecutionStatus, StepStatus
from engine.storage import ExecutionRepository, StateStorage, StoreError
from engine.template import (
    CompensationSpec,
    FailurePolicy,
    InputSpec,
    RetryPolicy,
    StepSpec,
    WorkflowTemplate,
)
from engine.trigger_rules import TriggerRule
from engine.validation import compile_template, validate

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionRegistry",
    "ActionSpec",
    "AttemptRecord",
    "BreakerPolicy",
    "BreakerRegistry",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpenError",
    "CompensationSpec",
    "CompiledWorkflow",
    "Engine",
    "EngineError",
    "EngineMetrics",
    "Event",
    "EventBus",
    "EventKind",
    "ExecutionRecord",
    "ExecutionRepository",
    "ExecutionState",
    "ExecutionStatus",
    "FailurePolicy",
    "InputError",
    "InputSpec",
    "PermanentError",
    "Problem",
    "RetryPolicy",
    "SqliteStore",
    "StateStorage",
    "StepRecord",
    "StepSpec",
    "StepStatus",
    "StepTimeoutError",
    "StoreError",
    "TemplateError",
    "TransientError",
    "TriggerRule",
    "UnknownExecutionError",
    "WorkflowTemplate",
    "compile_template",
    "default_registry",
    "register_builtin_actions",
    "validate",
]
