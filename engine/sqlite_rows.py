"""Records to SQLite rows and back, exactly.

Statuses are stored as their string values and come back as the same enum members;
attempts as a JSON array of arrays; inputs and outputs as JSON. JSON holds dicts with
string keys, lists, strings, numbers (floats round-trip exactly), booleans and null; a
value it cannot hold (a set, an arbitrary object) is refused with a :class:`StoreError`
naming the execution and step, rather than being written in a lossy form. Tuples come
back as lists.

This runs twice per step on the engine's dispatch path, hence the fast paths for the
common shapes (no attempts yet, empty outputs) and ``tuple.__new__`` for the records.
"""

from __future__ import annotations

import json
from typing import Any

from engine.records import AttemptRecord, ExecutionRecord, StepRecord
from engine.status import ExecutionStatus, StepStatus
from engine.storage import StoreError

EXECUTION_COLUMNS = (
    "execution_id, workflow, version, status, inputs, created_at, priority, "
    "started_at, finished_at, error, idempotency_key, dry_run, replay_of, parent_id"
)
UPSERT_EXECUTION = (
    f"INSERT INTO executions ({EXECUTION_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (execution_id) DO UPDATE SET workflow = excluded.workflow, "
    "version = excluded.version, status = excluded.status, inputs = excluded.inputs, "
    "created_at = excluded.created_at, priority = excluded.priority, "
    "started_at = excluded.started_at, finished_at = excluded.finished_at, "
    "error = excluded.error, idempotency_key = excluded.idempotency_key, "
    "dry_run = excluded.dry_run, replay_of = excluded.replay_of, "
    "parent_id = excluded.parent_id"
)
"""An upsert that keeps the row (and so its idempotency key and its steps)."""

UPSERT_STEP = (
    "INSERT OR REPLACE INTO steps (execution_id, step_id, status, attempts, outputs, error, "
    "reason, started_at, finished_at, compensation, warnings) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""Steps have no dependent rows, so REPLACE (the cheapest upsert) loses nothing."""

SELECT_EXECUTION = f"SELECT {EXECUTION_COLUMNS} FROM executions"
SELECT_STEPS = (
    "SELECT step_id, status, attempts, outputs, error, reason, started_at, finished_at, "
    "compensation, warnings FROM steps WHERE execution_id = ?"
)
DEAD_LETTER_COLUMNS = (
    "execution_id, workflow, version, step_id, error, attempts, failed_at, replayed_by"
)

_EXECUTION_STATUS = {s.value: s for s in ExecutionStatus}
_STEP_STATUS = {s.value: s for s in StepStatus}
_new_tuple = tuple.__new__
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads = json.loads


def to_json(value: Any, what: str) -> str:
    """``value`` as JSON, or a :class:`StoreError` saying what could not be stored."""
    try:
        return _dumps(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"{what} cannot be stored: {exc}; actions must return JSON values (dicts with "
            "string keys, lists, strings, numbers, booleans, null)"
        ) from exc


def execution_row(record: ExecutionRecord) -> tuple[Any, ...]:
    """The ``executions`` row of a record."""
    return (
        record.execution_id,
        record.workflow,
        record.version,
        record.status.value,
        to_json(dict(record.inputs), f"the inputs of execution '{record.execution_id}'"),
        record.created_at,
        record.priority,
        record.started_at,
        record.finished_at,
        record.error,
        record.idempotency_key,
        int(record.dry_run),
        record.replay_of,
        record.parent_id,
    )


def step_row(execution_id: str, step: StepRecord) -> tuple[Any, ...]:
    """The ``steps`` row of a step record."""
    attempts = step.attempts
    outputs = step.outputs
    if outputs is None:
        outputs_json = None
    elif not outputs:
        outputs_json = "{}"
    else:
        outputs_json = to_json(
            dict(outputs), f"the outputs of step '{step.step_id}' of execution '{execution_id}'"
        )
    return (
        execution_id,
        step.step_id,
        step.status,  # a StrEnum is a str: SQLite stores its value (no descriptor call)
        "[]" if not attempts else _attempts_json(execution_id, step),
        outputs_json,
        step.error,
        step.reason,
        step.started_at,
        step.finished_at,
        None
        if step.compensation is None
        else to_json(dict(step.compensation), f"the compensation of step '{step.step_id}'"),
        "[]" if not step.warnings else to_json(list(step.warnings), "step warnings"),
    )


def _attempts_json(execution_id: str, step: StepRecord) -> str:
    # The usual attempt (finite float times, no error, no retry delay) is formatted
    # directly: repr() of a finite float is valid JSON and round-trips exactly, and this
    # is several times faster than the JSON encoder. ``x - x == 0`` is False for inf/nan.
    parts = []
    for a in step.attempts:
        number, started, finished, error, delay = a
        if (
            error is None
            and delay is None
            and type(number) is int
            and type(started) is float
            and type(finished) is float
            and started - started == 0
            and finished - finished == 0
        ):
            parts.append(f"[{number},{started!r},{finished!r},null,null]")
        else:
            parts.append(
                to_json(
                    list(a),
                    f"an attempt of step '{step.step_id}' of execution '{execution_id}'",
                )
            )
    return f"[{','.join(parts)}]"


def execution_record(row: tuple[Any, ...]) -> ExecutionRecord:
    """The record of an ``executions`` row selected with :data:`EXECUTION_COLUMNS`."""
    return ExecutionRecord(
        row[0],
        row[1],
        row[2],
        _EXECUTION_STATUS[row[3]],
        _loads(row[4]),
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        bool(row[11]),
        row[12],
        row[13],
    )


def step_record(row: tuple[Any, ...]) -> StepRecord:
    """The record of a ``steps`` row selected with :data:`SELECT_STEPS`."""
    outputs = row[3]
    return _new_tuple(
        StepRecord,
        (
            row[0],
            _STEP_STATUS[row[1]],
            _attempts(row[2]),
            None if outputs is None else {} if outputs == "{}" else _loads(outputs),
            row[4],
            row[5],
            row[6],
            row[7],
            None if row[8] is None else _loads(row[8]),
            () if row[9] == "[]" else tuple(_loads(row[9])),
        ),
    )


def _attempts(text: str) -> tuple[AttemptRecord, ...]:
    if text == "[]":
        return ()
    # The one-attempt shape _attempts_json writes directly is parsed directly too.
    if text.endswith(",null,null]]") and text.count("[") == 2:
        parts = text[2:-12].split(",")
        if len(parts) == 3 and "." in parts[1] and "." in parts[2] and parts[0].isdigit():
            values = (int(parts[0]), float(parts[1]), float(parts[2]), None, None)
            return (_new_tuple(AttemptRecord, values),)
    return tuple(_new_tuple(AttemptRecord, a) for a in _loads(text))
