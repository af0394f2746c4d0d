"""Records to SQLite rows and back, exactly.

Statuses are stored as their string values and come back as the same enum members;
an execution's inputs as JSON; a step as its keys, its status and one JSON object holding
the rest of its record (attempts as arrays, outputs, error, times, ...). Four columns
instead of eleven halve SQLite's cost per row, and a step is written twice on the
dispatch path. JSON holds dicts with
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
    "INSERT OR REPLACE INTO steps (execution_id, step_id, status, record) VALUES (?, ?, ?, ?)"
)
"""Steps have no dependent rows, so REPLACE (the cheapest upsert) loses nothing."""

SELECT_EXECUTION = f"SELECT {EXECUTION_COLUMNS} FROM executions"
SELECT_STEPS = "SELECT step_id, status, record FROM steps WHERE execution_id = ?"
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


def step_row(execution_id: str, step: StepRecord) -> tuple[str, str, str, str]:
    """The ``steps`` row of a step record: its keys, its status and its record as JSON.

    The record is one JSON object with a key per other field of :class:`StepRecord`
    (``attempts``, ``outputs``, ``error``, ``reason``, ``started_at``, ``finished_at``,
    ``compensation``, ``warnings``), left out while the field has its default (null, or
    empty for attempts and warnings): ``json_extract(record, '$.error')`` queries it
    either way. Formatting a float exactly is the dearest part (about a microsecond
    here), so a time shared by the step and its attempt -- the same float object -- is
    formatted once.
    """
    step_id, status, attempts, outputs, error, reason, started, finished, compensation, warnings = (
        step
    )
    started_json = "null" if started is None else _time(started)
    if (
        not attempts
        and outputs is None
        and error is None
        and reason is None
        and finished is None
        and compensation is None
        and not warnings
    ):
        # A step just dispatched: written once per step, on the dispatch path.
        return (execution_id, step_id, status, f'{{"started_at":{started_json}}}')
    finished_json = "null" if finished is None else _time(finished)
    fields = []
    if attempts:
        parts = []
        for a in attempts:
            number, a_started, a_finished, a_error, a_delay = a
            if a_error is None and a_delay is None and type(number) is int:
                a_started_json = started_json if a_started is started else _time(a_started)
                a_finished_json = finished_json if a_finished is finished else _time(a_finished)
                parts.append(f"[{number},{a_started_json},{a_finished_json},null,null]")
            else:
                what = f"an attempt of step '{step_id}' of execution '{execution_id}'"
                parts.append(to_json(list(a), what))
        fields.append(f'"attempts":[{",".join(parts)}]')
    if outputs is not None:
        what = f"the outputs of step '{step_id}' of execution '{execution_id}'"
        fields.append(f'"outputs":{to_json(dict(outputs), what) if outputs else "{}"}')
    if error is not None:
        fields.append(f'"error":{to_json(error, _of(step_id, "error"))}')
    if reason is not None:
        fields.append(f'"reason":{to_json(reason, _of(step_id, "reason"))}')
    if started is not None:
        fields.append(f'"started_at":{started_json}')
    if finished is not None:
        fields.append(f'"finished_at":{finished_json}')
    if compensation is not None:
        what = _of(step_id, "compensation")
        fields.append(f'"compensation":{to_json(dict(compensation), what)}')
    if warnings:
        fields.append(f'"warnings":{to_json(list(warnings), _of(step_id, "warnings"))}')
    return (execution_id, step_id, status, f"{{{','.join(fields)}}}")


def _of(step_id: str, what: str) -> str:
    return f"the {what} of step '{step_id}'"


def _time(value: float | None) -> str:
    # repr() of a finite float is valid JSON and round-trips exactly; ``x - x == 0`` is
    # False for inf and nan, which the encoder then spells as JSON cannot hold.
    if value is None:
        return "null"
    if type(value) is float and value - value == 0:
        return repr(value)
    return to_json(value, "a step's or an attempt's time")


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
    fields = _loads(row[2])
    get = fields.get
    attempts = get("attempts")
    warnings = get("warnings")
    return _new_tuple(
        StepRecord,
        (
            row[0],
            _STEP_STATUS[row[1]],
            () if not attempts else tuple(_new_tuple(AttemptRecord, a) for a in attempts),
            get("outputs"),
            get("error"),
            get("reason"),
            get("started_at"),
            get("finished_at"),
            get("compensation"),
            () if not warnings else tuple(warnings),
        ),
    )
