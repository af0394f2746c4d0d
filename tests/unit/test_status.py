"""Statuses: which ones are terminal and which count as failures."""

from __future__ import annotations

from engine.status import ExecutionStatus, StepStatus


def test_terminal_step_statuses() -> None:
    assert {s for s in StepStatus if s.terminal} == {
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.TIMED_OUT,
        StepStatus.CANCELLED,
    }


def test_only_failed_and_timed_out_count_as_step_failures() -> None:
    assert {s for s in StepStatus if s.failed} == {StepStatus.FAILED, StepStatus.TIMED_OUT}


def test_paused_and_rolling_back_executions_are_not_terminal() -> None:
    assert not ExecutionStatus.PAUSED.terminal
    assert not ExecutionStatus.ROLLING_BACK.terminal
    assert ExecutionStatus.PARTIALLY_SUCCEEDED.terminal
