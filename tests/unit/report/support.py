"""Synthetic scenario evidence, catalogues and run metadata for the report tests.

Each builder fills in everything a test does not care about, so a test states only
what its rule depends on. :func:`sample_run` is one small but complete run (a failure
with hostile error text, retries with backoff, parallel steps, an outline, a skip, an
untagged scenario) for the HTML and browser tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from harness.catalogue import Catalogue, Priority, Requirement
from harness.evidence import (
    AttemptEvidence,
    ExecutionEvidence,
    GherkinStepEvidence,
    Outcome,
    ScenarioEvidence,
    StepEvidence,
)
from harness.report import RunMeta

StepOutcome = Literal["passed", "failed", "skipped", "undefined"]

HOSTILE_ERROR = 'AssertionError: expected <Succeeded> & got <script>alert("x")</script>'


def catalogue(*entries: str | tuple[str, str, Priority]) -> Catalogue:
    """A catalogue of ids, or of ``(id, area, priority)``; titles say the id."""
    requirements: dict[str, Requirement] = {}
    for entry in entries:
        full: tuple[str, str, Priority] = (
            (entry, "execution", "high") if isinstance(entry, str) else entry
        )
        rid, area, priority = full
        requirements[rid] = Requirement(
            rid, f"Title of {rid}", f"What {rid} demands.", priority, area
        )
    return Catalogue(Path("features/requirements.yaml"), requirements)


def attempt(
    number: int,
    start: float,
    end: float,
    *,
    error: str | None = None,
    retry_delay: float | None = None,
) -> AttemptEvidence:
    return AttemptEvidence(
        number=number, started_at=start, finished_at=end, error=error, retry_delay=retry_delay
    )


def workflow_step(
    step_id: str, attempts: Sequence[AttemptEvidence], status: str = "succeeded"
) -> StepEvidence:
    return StepEvidence(
        step_id=step_id,
        status=status,
        started_at=attempts[0]["started_at"] if attempts else None,
        finished_at=attempts[-1]["finished_at"] if attempts else None,
        attempts=list(attempts),
        error=attempts[-1]["error"] if attempts else None,
    )


def execution(
    steps: Sequence[StepEvidence], *, execution_id: str = "exec-1", status: str = "succeeded"
) -> ExecutionEvidence:
    starts = [s["started_at"] for s in steps if s["started_at"] is not None]
    ends = [s["finished_at"] for s in steps if s["finished_at"] is not None]
    return ExecutionEvidence(
        execution_id=execution_id,
        workflow="remediate",
        version=1,
        status=status,
        started_at=min(starts) if starts else None,
        finished_at=max(ends) if ends else None,
        steps=list(steps),
    )


def gherkin(
    name: str, line: int, status: StepOutcome = "passed", keyword: str = "Given"
) -> GherkinStepEvidence:
    return GherkinStepEvidence(
        keyword=keyword, name=name, line=line, status=status, duration_wall=0.25
    )


def scenario(
    name: str = "a scenario",
    *,
    requirements: Sequence[str] = (),
    status: Outcome = "passed",
    feature: str = "features/execution.feature",
    line: int = 10,
    nodeid: str | None = None,
    error: str | None = None,
    executions: Sequence[ExecutionEvidence] = (),
    steps: Sequence[GherkinStepEvidence] | None = None,
    duration_wall: float = 0.5,
) -> ScenarioEvidence:
    """One scenario run; a failed one gets a failing last step and an error by default."""
    if status == "failed" and error is None:
        error = "AssertionError: boom"
    if steps is None:
        steps = [
            gherkin("a workflow", line + 1),
            gherkin("it runs", line + 2, keyword="When"),
            gherkin("it succeeds", line + 3, status, keyword="Then"),
        ]
    test_name = name.replace(" ", "_")
    return ScenarioEvidence(
        nodeid=nodeid or f"{feature.replace('.feature', '')}.py::test_{test_name}",
        feature_file=feature,
        feature_name=Path(feature).stem.title(),
        feature_line=1,
        scenario_name=name,
        line=line,
        tags=[*requirements, "smoke"],
        requirements=sorted(requirements),
        status=status,
        duration_wall=duration_wall,
        duration_virtual=42.0,
        failing_step="Then it succeeds" if status == "failed" else None,
        error=error,
        steps=list(steps),
        executions=list(executions),
        profile=None,
        cluster="fake",
        store="memory",
        seed=7,
        reproduce=f"windtunnel scenarios --seed 7 -- '{feature}::{name}'",
    )


def meta(run_id: str = "run-1", *, profile: str | None = None, workers: int = 1) -> RunMeta:
    return RunMeta(
        run_id=run_id,
        started_at="2025-01-31T12:00:00Z",
        finished_at=f"2025-01-31T12:05:00Z-{run_id}",
        git_commit="0123456789abcdef0123",
        profile=profile,
        cluster="fake",
        store="memory",
        seed=7,
        pytest_args=["features", "-p", "no:randomly"],
        workers=workers,
    )


def retry_execution() -> ExecutionEvidence:
    """``fetch`` fails twice with backoff then succeeds; ``scale_a``/``scale_b`` overlap."""
    return execution(
        [
            workflow_step(
                "fetch",
                [
                    attempt(1, 0.0, 1.0, error="timeout <upstream>", retry_delay=2.0),
                    attempt(2, 3.0, 4.0, error="timeout <upstream>", retry_delay=4.0),
                    attempt(3, 8.0, 9.0),
                ],
            ),
            workflow_step("scale_a", [attempt(1, 9.0, 15.0)]),
            workflow_step("scale_b", [attempt(1, 9.0, 12.0)]),
            workflow_step("notify", [], status="skipped"),
        ],
        execution_id="exec-retry",
    )


def sample_run() -> tuple[Catalogue, list[ScenarioEvidence]]:
    """Four requirements (passed, failed, skipped, uncovered) and six scenario runs."""
    cat = catalogue(
        ("BR-WORKFLOW-001", "execution", "critical"),
        ("BR-WORKFLOW-007", "failure-handling", "critical"),
        ("BR-WORKFLOW-012", "scale", "medium"),
        ("BR-WORKFLOW-020", "observability", "low"),
    )
    evidence = [
        scenario("basic run", requirements=["BR-WORKFLOW-001"], line=5),
        scenario(
            "retry with backoff",
            requirements=["BR-WORKFLOW-007"],
            feature="features/retries.feature",
            line=12,
            status="failed",
            error=HOSTILE_ERROR,
            executions=[retry_execution()],
        ),
        scenario(
            "outline",
            requirements=["BR-WORKFLOW-001", "BR-WORKFLOW-007"],
            line=20,
            nodeid="features/execution.py::test_outline[fast]",
        ),
        scenario(
            "outline",
            requirements=["BR-WORKFLOW-001", "BR-WORKFLOW-007"],
            line=20,
            nodeid="features/execution.py::test_outline[slow]",
        ),
        scenario("big fleet", requirements=["BR-WORKFLOW-012"], status="skipped", line=30),
        scenario("housekeeping", line=40),
    ]
    return cat, evidence
