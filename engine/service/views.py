"""Records as the API shows them: plain JSON-ready dicts, timestamps in RFC 3339.

The engine's timestamps are seconds on its clock (Unix time for a durable engine, see
``Engine(wall_clock=True)``); the API shows them as RFC 3339 UTC strings with
microseconds, the format CloudEvents uses too, and reads them back (or Unix seconds) in
filters. :func:`render` writes JSON that is always valid: values the engine's actions
may put in outputs but JSON cannot hold (non-finite floats, sets, objects) become strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import Response

from engine.records import AttemptRecord, DeadLetter, ExecutionRecord, StepRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(seconds: float | None) -> str | None:
    """Seconds since the epoch as RFC 3339 UTC with microseconds, ``...Z``.

    Truncated, never rounded up: a time shown here and given back as ``since`` includes
    the item it was read from.
    """
    if seconds is None or not math.isfinite(seconds):
        return None
    try:
        moment = _EPOCH + timedelta(microseconds=math.floor(seconds * 1_000_000))
    except OverflowError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> float:
    """RFC 3339 (a zone is required) or Unix seconds, as seconds; ValueError otherwise."""
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number of seconds")
        return value
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add 'Z' or an offset such as '+00:00'")
    return (moment - _EPOCH).total_seconds()


def execution_summary(record: ExecutionRecord) -> dict[str, Any]:
    """An execution without its steps, as listed."""
    return {
        "execution_id": record.execution_id,
        "workflow": record.workflow,
        "version": record.version,
        "status": str(record.status),
        "created_at": timestamp(record.created_at),
        "started_at": timestamp(record.started_at),
        "finished_at": timestamp(record.finished_at),
        "error": record.error,
        "priority": record.priority,
        "dry_run": record.dry_run,
        "idempotency_key": record.idempotency_key,
        "replay_of": record.replay_of,
        "parent_id": record.parent_id,
    }


def execution_detail(record: ExecutionRecord, steps: Iterable[StepRecord]) -> dict[str, Any]:
    """An execution with its inputs and every step, in template order."""
    out = execution_summary(record)
    out["inputs"] = dict(record.inputs)
    out["steps"] = [step_view(step) for step in steps]
    return out


def step_view(step: StepRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "step_id": step.step_id,
        "status": str(step.status),
        "attempts": [attempt_view(a) for a in step.attempts],
        "outputs": None if step.outputs is None else dict(step.outputs),
        "error": step.error,
        "reason": step.reason,
        "started_at": timestamp(step.started_at),
        "finished_at": timestamp(step.finished_at),
    }
    if step.warnings:
        out["warnings"] = list(step.warnings)
    if step.compensation is not None:
        out["compensation"] = dict(step.compensation)
    return out


def attempt_view(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": timestamp(attempt.started_at),
        "finished_at": timestamp(attempt.finished_at),
        "error": attempt.error,
        "retry_delay": attempt.retry_delay,
    }


def dead_letter_view(letter: DeadLetter) -> dict[str, Any]:
    return {
        "execution_id": letter.execution_id,
        "workflow": letter.workflow,
        "version": letter.version,
        "step_id": letter.step_id,
        "error": letter.error,
        "attempts": letter.attempts,
        "failed_at": timestamp(letter.failed_at),
        "replayed_by": letter.replayed_by,
    }


# ---------------------------------------------------------------------- JSON


def dumps(value: Any) -> str:
    """Compact JSON that is always valid (see the module docstring)."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:  # a NaN or an infinity somewhere: rare, so only then walk the value
        return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class JSON(Response):
    """A JSON response written with :func:`dumps`."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
