"""``cucumber.json`` from evidence: standard shape, fixed order, durations the only noise."""

from __future__ import annotations

import random

from harness.report import cucumber_features, normalised
from tests.unit.report.support import gherkin, sample_run, scenario


def test_features_and_scenarios_are_in_file_line_nodeid_order() -> None:
    _, evidence = sample_run()
    document = cucumber_features(evidence)
    assert [f["uri"] for f in document] == [
        "features/execution.feature",
        "features/retries.feature",
    ]
    assert [(e["line"], e["id"]) for e in document[0]["elements"]] == [
        (5, "execution;basic-run"),
        (20, "execution;outline;fast"),
        (20, "execution;outline;slow"),
        (30, "execution;big-fleet"),
        (40, "execution;housekeeping"),
    ]


def test_a_shuffled_parallel_run_equals_the_serial_one_but_for_durations() -> None:
    _, serial = sample_run()
    _, parallel = sample_run()
    random.Random(3).shuffle(parallel)
    for evidence in parallel:
        for step in evidence["steps"]:
            step["duration_wall"] *= 3.7
    assert cucumber_features(parallel) != cucumber_features(serial)
    assert normalised(cucumber_features(parallel)) == normalised(cucumber_features(serial))


def test_elements_carry_steps_results_and_tags_in_the_standard_shape() -> None:
    _, evidence = sample_run()
    document = cucumber_features(evidence)
    retries = document[1]
    assert {k: retries[k] for k in ("keyword", "name", "line", "id")} == {
        "keyword": "Feature",
        "name": "Retries",
        "line": 1,
        "id": "retries",
    }
    element = retries["elements"][0]
    assert element["type"] == "scenario"
    assert element["tags"] == [{"name": "@BR-WORKFLOW-007"}, {"name": "@smoke"}]
    steps = element["steps"]
    assert [(s["keyword"], s["name"], s["line"]) for s in steps] == [
        ("Given ", "a workflow", 13),
        ("When ", "it runs", 14),
        ("Then ", "it succeeds", 15),
    ]
    assert [s["result"]["status"] for s in steps] == ["passed", "passed", "failed"]
    assert steps[0]["result"]["duration"] == 250_000_000
    assert "error_message" not in steps[0]["result"]
    assert steps[2]["result"]["error_message"].startswith("AssertionError: expected <Succeeded>")
    assert "after" not in element


def test_a_failure_outside_every_step_stays_a_failure() -> None:
    steps = [gherkin("a workflow", 11), gherkin("it succeeds", 12, keyword="Then")]
    broken = scenario("teardown", status="failed", error="leaked task", steps=steps)
    element = cucumber_features([broken])[0]["elements"][0]
    assert [s["result"]["status"] for s in element["steps"]] == ["passed", "passed"]
    assert element["after"][0]["result"]["status"] == "failed"
    assert element["after"][0]["result"]["error_message"] == "leaked task"


def test_no_evidence_is_an_empty_document() -> None:
    assert cucumber_features([]) == []
