"""Records to SQLite rows and back, exactly.

Statuses are stored as their string values and come back as the same enum members; an
execution's inputs as JSON. Steps are a log: each commit appends, per execution, one
``step_log`` row whose ``entries`` are the step records it wrote (``[step_id, status,
record]``, see :func:`step_entry`), and a step's state is its latest entry. A row per
commit instead of a row per transition is what makes a durable step cheap: SQLite's cost
is mostly per row, and the engine writes every step twice (Running, then its end). The
log is also the steps' history; the ``steps`` view shows each step's latest entry.

JSON holds dicts with string keys, lists, strings, numbers (floats round-trip exactly),
booleans and null; a value it cannot hold (a set, an arbitrary object) is refused with a
:class:`StoreError` naming the execution and step, rather than being written in a lossy
form. Tuples come back as lists. Entries are built twice per step on the engine's
dispatch path, hence the fast paths for the common shapes and ``tuple.__new__`` for the
records.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
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

APPEND_STEPS = "INSERT INTO step_log (execution_id, entries) VALUES (?, ?)"
"""One log row: the step records one commit wrote for one execution (see :func:`step_entry`)."""

SELECT_EXECUTION = f"SELECT {EXECUTION_COLUMNS} FROM executions"
SELECT_STEP_LOG = "SELECT entries FROM step_log WHERE execution_id = ? ORDER BY id"
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


def step_entry(execution_id: str, step: StepRecord) -> str:
    """A step record as a step-log entry: the JSON array ``[step_id, status, record]``.

    ``record`` is one JSON object with a key per other field of :class:`StepRecord`
    (``attempts``, ``outputs``, ``error``, ``reason``, ``started_at``, ``finished_at``,
    ``compensation``, ``warnings``), left out while the field has its default (null, or
    empty for attempts and warnings): ``json_extract(record, '$.error')`` on the
    ``steps`` view queries it either way. Formatting a float exactly is the dearest part
    (about a microsecond here), so a time shared by the step and its attempt -- the
    same float object -- is formatted once.
    """
    step_id, status, attempts, outputs, error, reason, started, finished, compensation, warnings = (
        step
    )
    started_json = _time(started)
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
        return f'[{_quote(step_id)},"{status}",{{"started_at":{started_json}}}]'
    finished_json = _time(finished)
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
    return f'[{_quote(step_id)},"{status}",{{{",".join(fields)}}}]'


@functools.lru_cache(maxsize=65_536)
def _quote(step_id: str) -> str:
    # Step ids repeat (one per template step), and quoting one is a JSON encoder call.
    return to_json(step_id, "a step id")


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


def step_records(log: Iterable[tuple[str]]) -> dict[str, StepRecord]:
    """The latest record of every step in ``log``: entries selected with :data:`SELECT_STEP_LOG`."""
    latest: dict[str, list[Any]] = {}
    for (entries,) in log:
        for entry in _loads(entries):
            latest[entry[0]] = entry
    return {step_id: _step_record(entry) for step_id, entry in latest.items()}


def _step_record(entry: list[Any]) -> StepRecord:
    step_id, status, fields = entry
    get = fields.get
    attempts = get("attempts")
    warnings = get("warnings")
    return _new_tuple(
        StepRecord,
        (
            step_id,
            _STEP_STATUS[status],
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
