"""Evidence and reports: complete and equal serially and under ``-n 2``, history, JUnit.

Each test runs a small project through the real plugin, the real engine and the
simulated cluster, then reads the reports it wrote.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from bdd_project import Project

from harness.report import normalised, read_requirements_json

RETRIED = '''\
    Given the workflow:
      """
      name: retried
      steps:
        - id: shaky
          action: flaky
          params: {failures: 2, seconds: 1}
          retry: {max_attempts: 3, backoff: fixed, delay: 5}
      """
    When I submit the workflow
'''

FEATURE = f"""\
Feature: Reports
  @BR-WORKFLOW-001
  Scenario: Retries are shown
{RETRIED}    Then the step "shaky" made 3 attempts

  @BR-WORKFLOW-002
  Scenario: A claim that does not hold
{RETRIED}    Then the step "shaky" made 2 attempts

  Scenario: Nobody's requirement
{RETRIED}    Then the execution succeeds
"""


def run(project: Project, out: str, *args: str) -> dict[str, Any]:
    result = project.run("--windtunnel-reports", out, *args)
    assert result.ret == 1, result.stdout.str()  # one scenario fails on purpose
    return dict(read_requirements_json(project.root / out / "requirements.json"))


def by_id(report: dict[str, Any]) -> dict[str, Any]:
    return {r["id"]: r for r in report["requirements"]}


def test_requirements_json_records_each_scenario_with_its_evidence(bdd_project: Project) -> None:
    bdd_project.feature("reports", FEATURE)
    report = run(bdd_project, "out")
    requirements = by_id(report)
    assert requirements["BR-WORKFLOW-001"]["status"] == "passed"
    assert requirements["BR-WORKFLOW-002"]["status"] == "failed"
    assert requirements["BR-WORKFLOW-038"]["status"] == "uncovered"
    assert requirements["BR-WORKFLOW-038"]["scenarios"] == []
    assert [s["name"] for s in report["untagged_scenarios"]] == ["Nobody's requirement"]

    failed = requirements["BR-WORKFLOW-002"]["scenarios"][0]
    assert failed["failing_step"] == 'Then the step "shaky" made 2 attempts'
    assert "step 'shaky' made 3 attempts" in failed["error"]
    assert failed["feature_file"] == "features/reports.feature"
    assert failed["line"] == 17
    assert "--seed 42" in failed["reproduce"]
    assert failed["nodeid"] in failed["reproduce"]

    passed = requirements["BR-WORKFLOW-001"]["scenarios"][0]
    assert [s["status"] for s in passed["steps"]] == ["passed"] * 3
    (execution,) = passed["executions"]
    (step,) = execution["steps"]
    starts = [a["started_at"] for a in step["attempts"]]
    ends = [a["finished_at"] for a in step["attempts"]]
    # 1 s of work per attempt, 5 s of fixed backoff between them: the timeline's data.
    assert [round(b - a, 6) for a, b in zip(ends, starts[1:], strict=False)] == [5.0, 5.0]
    assert [round(e - s, 6) for s, e in zip(starts, ends, strict=True)] == [1.0, 1.0, 1.0]
    assert passed["duration_virtual"] >= 13.0


def test_reports_are_complete_and_equal_under_xdist(bdd_project: Project) -> None:
    bdd_project.feature("reports", FEATURE)
    serial = run(bdd_project, "serial")
    parallel = run(bdd_project, "parallel", "-n", "2")
    assert parallel["run"]["workers"] == 2

    def shape(report: dict[str, Any]) -> list[Any]:
        return [
            (r["id"], r["status"], [(s["nodeid"], s["status"], s["error"]) for s in r["scenarios"]])
            for r in report["requirements"]
        ]

    assert shape(parallel) == shape(serial)
    cucumber = {
        name: json.loads((bdd_project.root / name / "cucumber.json").read_text())
        for name in ("serial", "parallel")
    }
    assert len(cucumber["parallel"][0]["elements"]) == 3
    assert normalised(cucumber["parallel"]) == normalised(cucumber["serial"])


def test_junit_xml_carries_requirement_ids_and_not_the_evidence(bdd_project: Project) -> None:
    bdd_project.feature("reports", FEATURE)
    run(bdd_project, "out", "-n", "2", "--junitxml", "junit.xml")
    tree = ET.parse(bdd_project.root / "junit.xml")
    properties = {
        case.get("name"): [(p.get("name"), p.get("value")) for p in case.iter("property")]
        for case in tree.iter("testcase")
    }
    assert properties["test_retries_are_shown"] == [("requirement", "BR-WORKFLOW-001")]
    assert properties["test_a_claim_that_does_not_hold"] == [("requirement", "BR-WORKFLOW-002")]
    assert properties["test_nobodys_requirement"] == []


def test_a_requirement_that_flips_between_runs_is_flaky(
    bdd_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    bdd_project.steps(
        """
        import os
        from pytest_bdd import then

        @then("the coin shows heads")
        def heads():
            assert os.environ["COIN"] == "heads", "the coin shows " + os.environ["COIN"]
        """
    )
    bdd_project.feature(
        "coin",
        """\
        @BR-WORKFLOW-001
        Feature: Coin
          Scenario: Toss
            Then the coin shows heads
        """,
    )
    statuses = []
    for coin in ("heads", "tails", "heads"):
        monkeypatch.setenv("COIN", coin)
        bdd_project.run("--windtunnel-reports", "out")
        report = read_requirements_json(Path(bdd_project.root) / "out" / "requirements.json")
        requirement = by_id(dict(report))["BR-WORKFLOW-001"]
        statuses.append((requirement["status"], requirement["current_status"]))
    assert statuses == [("passed", "passed"), ("flaky", "failed"), ("flaky", "passed")]
    history = (bdd_project.root / "out" / "history" / "runs.jsonl").read_text().splitlines()
    assert len(history) == 3
