"""The shapes of what one scenario leaves behind: the contract between plugin and reports.

The pytest plugin builds one :class:`ScenarioEvidence` per scenario test in the process
that ran it (an xdist worker or the only process), serialises it as JSON into
``report.user_properties`` under the name :data:`USER_PROPERTY`, and the controller
collects them; the report writers (``harness.report``) read nothing else. Carrying the
data on the report is what makes the reports complete under pytest-xdist: pytest-bdd's
own cucumber JSON is written per process and is empty on the controller.

Times: ``*_wall`` are seconds of wall time; every other time is seconds of the
scenario's event-loop clock (virtual under test), counted from the moment the
scenario's loop was created, so a timeline starts at 0.
"""

from __future__ import annotations

import json
from typing import Literal, TypedDict

USER_PROPERTY = "windtunnel_evidence"
"""The ``user_properties`` name the evidence travels under."""

Outcome = Literal["passed", "failed", "skipped"]


class AttemptEvidence(TypedDict):
    """One try of a step, in virtual seconds since the scenario began."""

    number: int
    started_at: float
    finished_at: float
    error: str | None
    retry_delay: float | None


class StepEvidence(TypedDict):
    """One workflow step of one execution."""

    step_id: str
    status: str
    started_at: float | None
    finished_at: float | None
    attempts: list[AttemptEvidence]
    error: str | None


class ExecutionEvidence(TypedDict):
    """One execution a scenario ran through the engine."""

    execution_id: str
    workflow: str
    version: int
    status: str
    started_at: float | None
    finished_at: float | None
    steps: list[StepEvidence]


class GherkinStepEvidence(TypedDict):
    """One Gherkin step of the scenario and how it went."""

    keyword: str
    name: str
    line: int
    status: Literal["passed", "failed", "skipped", "undefined"]
    duration_wall: float


class ScenarioEvidence(TypedDict):
    """Everything the reports know about one scenario run."""

    nodeid: str
    feature_file: str
    """Path relative to the rootdir, with forward slashes."""
    feature_name: str
    feature_line: int
    scenario_name: str
    line: int
    tags: list[str]
    """Every tag that applies: the scenario's own, its Rule's and its Feature's."""
    requirements: list[str]
    """The catalogue ids among ``tags``, sorted."""
    status: Outcome
    duration_wall: float
    duration_virtual: float
    failing_step: str | None
    """``"Then the execution succeeds"``-style text of the step that failed, if one did."""
    error: str | None
    steps: list[GherkinStepEvidence]
    executions: list[ExecutionEvidence]
    profile: str | None
    cluster: str
    store: str
    seed: int
    reproduce: str
    """A shell command that reruns this scenario alone with the same seed and options."""


def dumps(evidence: ScenarioEvidence) -> str:
    """The JSON text that travels in ``user_properties``."""
    return json.dumps(evidence, separators=(",", ":"), sort_keys=True)


def loads(text: str) -> ScenarioEvidence:
    """The evidence back from its JSON text."""
    data: ScenarioEvidence = json.loads(text)
    return data
