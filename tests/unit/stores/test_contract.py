"""The persistence contract, held against every store implementation."""

from __future__ import annotations

import threading

import pytest

from engine import AttemptRecord, ExecutionStatus, StepRecord, StepStatus

from .conftest import Stores, execution

S = ExecutionStatus


def test_lineage_compensation_and_warnings_round_trip(stores: Stores) -> None:
    record = execution(idempotency_key="k-1", dry_run=True, replay_of="e0", parent_id="p/s/1")
    step = StepRecord(
        "a",
        StepStatus.FAILED,
        error="post-condition failed: ready",
        compensation={"action": "undo", "status": "Succeeded", "outputs": {"n": 1}, "attempts": 1},
        warnings=("post-condition failed: slow",),
    )
    stores.state.save("e1", record, [step])
    stores.repo.store(record)
    loaded = stores.state.load("e1")
    assert loaded is not None
    assert loaded.execution == record
    assert loaded.steps["a"] == step
    assert stores.repo.get_by_idempotency_key("k-1") == record
    assert stores.repo.get_by_idempotency_key("k-2") is None


def test_execution_and_steps_round_trip_exactly(stores: Stores) -> None:
    record = execution(
        inputs={"name": "web", "replicas": 3, "ratio": 0.1 + 0.2, "tags": ["a", "é"], "x": None},
        priority=5,
        started_at=2.5,
        error="boom",
    )
    steps = [
        StepRecord("a", StepStatus.PENDING),
        StepRecord(
            "b",
            StepStatus.SUCCEEDED,
            (
                AttemptRecord(1, 1.0, 2.0000000001, "TransientError: 503", 0.75),
                AttemptRecord(2, 2.75, 3.125),
            ),
            {"pods": [{"name": "p-0", "ready": True}], "count": 2, "nested": {"k": 1.5}},
            None,
            "gave up after 2 attempts",
            1.0,
            3.125,
        ),
        StepRecord("c", StepStatus.SKIPPED, (), {}, reason="condition is false"),
        StepRecord("d", StepStatus.TIMED_OUT, (AttemptRecord(1, 1e-7, 30.0, "timeout"),)),
    ]
    stores.state.save("e1", record, steps)
    loaded = stores.state.load("e1")
    assert loaded is not None
    assert loaded.execution == record
    assert dict(loaded.steps) == {s.step_id: s for s in steps}
    assert type(loaded.status) is ExecutionStatus
    assert all(type(s.status) is StepStatus for s in loaded.steps.values())
    assert all(type(a) is AttemptRecord for s in loaded.steps.values() for a in s.attempts)
    stores.repo.store(record)
    assert stores.repo.get("e1") == record


def test_steps_and_records_are_upserted(stores: Stores) -> None:
    stores.state.save("e1", execution(), [StepRecord("a", StepStatus.PENDING)])
    stores.state.save_step("e1", StepRecord("a", StepStatus.RUNNING, started_at=1.0))
    stores.state.save_step("e1", StepRecord("b", StepStatus.RUNNING))
    done = StepRecord(
        "a", StepStatus.SUCCEEDED, (AttemptRecord(1, 1.0, 2.0),), {}, None, None, 1.0, 2.0
    )
    stores.state.save_step("e1", done)
    finished = execution(status=S.SUCCEEDED, finished_at=9.0)
    stores.state.save("e1", finished, ())
    loaded = stores.state.load("e1")
    assert loaded is not None
    assert loaded.execution == finished
    assert loaded.statuses() == {"a": StepStatus.SUCCEEDED, "b": StepStatus.RUNNING}
    assert loaded.step("a") == done


def test_steps_of_an_unsaved_execution_are_refused(stores: Stores) -> None:
    with pytest.raises(KeyError, match="execution record was never saved"):
        stores.state.save_step("nope", StepRecord("a", StepStatus.RUNNING))
    with pytest.raises(KeyError, match="execution record was never saved"):
        stores.state.save("nope", None, [StepRecord("a", StepStatus.RUNNING)])
    assert stores.state.load("nope") is None


def test_unknown_ids_load_as_none_and_delete_quietly(stores: Stores) -> None:
    assert stores.state.load("nope") is None
    assert stores.repo.get("nope") is None
    stores.state.delete("nope")


def test_delete_forgets_the_execution_and_its_steps(stores: Stores) -> None:
    stores.state.save("e1", execution("e1"), [StepRecord("a", StepStatus.RUNNING)])
    stores.state.save("e2", execution("e2"), [StepRecord("a", StepStatus.RUNNING)])
    stores.state.delete("e1")
    assert stores.state.load("e1") is None
    loaded = stores.state.load("e2")
    assert loaded is not None
    assert list(loaded.steps) == ["a"]
    with pytest.raises(KeyError):
        stores.state.save_step("e1", StepRecord("a", StepStatus.SUCCEEDED))


def test_list_filters_by_workflow_status_and_time_window(stores: Stores) -> None:
    records = [
        execution("e3", workflow="scale", status=S.FAILED, created_at=3.0),
        execution("e1", workflow="scale", status=S.SUCCEEDED, created_at=1.0),
        execution("e2", workflow="drain", status=S.RUNNING, created_at=2.0),
        execution("e4", workflow="scale", status=S.PAUSED, created_at=4.0),
        execution("e0", workflow="drain", status=S.SUCCEEDED, created_at=4.0),
    ]
    for record in records:
        stores.repo.store(record)

    def ids(**filters: object) -> list[str]:
        return [r.execution_id for r in stores.repo.list(**filters)]  # type: ignore[arg-type]

    assert ids() == ["e1", "e2", "e3", "e0", "e4"]  # oldest first, ties by id
    assert ids(workflow="scale") == ["e1", "e3", "e4"]
    assert ids(status=S.SUCCEEDED) == ["e1", "e0"]
    assert ids(status=[S.RUNNING, S.PAUSED]) == ["e2", "e4"]
    assert ids(status=[]) == []
    assert ids(since=2.0, until=4.0) == ["e2", "e3"]
    assert ids(workflow="scale", status=S.FAILED, since=3.0) == ["e3"]
    assert ids(limit=2) == ["e1", "e2"]
    assert ids(limit=0) == []
    assert stores.repo.list(workflow="scale")[0] == records[1]
    with pytest.raises(ValueError, match="limit must not be negative"):
        stores.repo.list(limit=-1)


def test_execution_ids_by_status_find_what_recovery_resumes(stores: Stores) -> None:
    for i, status in enumerate([S.RUNNING, S.SUCCEEDED, S.PENDING, S.PAUSED, S.FAILED]):
        stores.state.save(f"e{i}", execution(f"e{i}", status=status, created_at=float(10 - i)), ())
    state = stores.state
    assert state.execution_ids([S.PENDING, S.RUNNING, S.PAUSED]) == ["e3", "e2", "e0"]  # type: ignore[attr-defined]
    assert state.execution_ids() == ["e4", "e3", "e2", "e1", "e0"]  # type: ignore[attr-defined]


def test_concurrent_writers_from_threads_lose_nothing(stores: Stores) -> None:
    threads_n, per_thread = 4, 50
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                eid = f"t{t}-{i}"
                stores.repo.store(execution(eid, created_at=float(i)))
                stores.state.save(eid, execution(eid, created_at=float(i)), ())
                stores.state.save_step(eid, StepRecord("a", StepStatus.RUNNING))
                stores.state.save_step(eid, StepRecord("a", StepStatus.SUCCEEDED, outputs={"i": i}))
                assert stores.state.load(eid) is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(stores.repo.list()) == threads_n * per_thread
    for t in range(threads_n):
        for i in range(per_thread):
            loaded = stores.state.load(f"t{t}-{i}")
            assert loaded is not None
            assert loaded.step("a") == StepRecord("a", StepStatus.SUCCEEDED, outputs={"i": i})
