"""Trigger rules: when a step whose dependencies have all finished may run.

A rule is checked once every dependency has reached a terminal status; a step whose rule
is not met is marked **Skipped** (with a reason naming the rule and the dependencies
that broke it), never Failed. ``when`` conditions are evaluated only after the rule is
met. "Failed" below means Failed or TimedOut; a dependency with ``allow_failure`` that
failed still counts as failed here.

==============================  =========================================================
rule                            runs when
==============================  =========================================================
``all_succeeded`` (default)     every dependency Succeeded
``all_done``                    always (every dependency finished, whatever its status)
``all_failed``                  every dependency failed
``one_succeeded``               at least one dependency Succeeded
``one_failed``                  at least one dependency failed
``none_failed``                 no dependency failed (Skipped dependencies are fine)
``none_failed_min_one_success`` no dependency failed and at least one Succeeded
==============================  =========================================================

Skip propagation, the most common surprise in Airflow and Argo, follows from the default:
under ``all_succeeded`` a Skipped dependency is not a success, so the step is skipped as
well, and so on down the chain. A step that joins an optional branch back into the main
line should therefore use ``none_failed`` (run unless something failed) or
``none_failed_min_one_success``::

    steps:
      - {id: check,  action: noop}
      - {id: repair, action: noop, depends_on: [check], when: "inputs.broken"}
      - {id: verify, action: noop, depends_on: [repair]}                  # skipped with repair
      - {id: report, action: noop, depends_on: [repair], trigger_rule: none_failed}  # runs

An error handler that runs only when something broke uses ``one_failed``; under the
``continue`` failure policy it runs, under ``fail_fast`` no new step starts after a
failure, so it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from engine.status import StepStatus

_OK = StepStatus.SUCCEEDED


class TriggerRule(StrEnum):
    """See the module docstring for the table of rules and examples."""

    ALL_SUCCEEDED = "all_succeeded"
    ALL_DONE = "all_done"
    ALL_FAILED = "all_failed"
    ONE_SUCCEEDED = "one_succeeded"
    ONE_FAILED = "one_failed"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"

    def satisfied(self, statuses: Sequence[StepStatus]) -> bool:
        """Whether a step with these (terminal) dependency statuses may run.

        A step without dependencies always may.
        """
        if not statuses:
            return True
        if self is TriggerRule.ALL_SUCCEEDED:
            return all(s is _OK for s in statuses)
        if self is TriggerRule.ALL_DONE:
            return True
        if self is TriggerRule.ALL_FAILED:
            return all(s.failed for s in statuses)
        if self is TriggerRule.ONE_SUCCEEDED:
            return any(s is _OK for s in statuses)
        if self is TriggerRule.ONE_FAILED:
            return any(s.failed for s in statuses)
        if self is TriggerRule.NONE_FAILED:
            return not any(s.failed for s in statuses)
        return not any(s.failed for s in statuses) and any(s is _OK for s in statuses)
