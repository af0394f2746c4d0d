"""``cucumber.json`` built from the scenario evidence, complete under pytest-xdist.

pytest-bdd's own ``--cucumberjson`` is written by the controller from hooks that only
see what ran in-process, so under xdist it is empty. This writer uses the evidence the
plugin carries on every report instead, in the standard cucumber JSON format: a list of
features (``uri``, ``id``, ``keyword``, ``name``, ``line``, ``description``, ``tags``,
``elements``), each element a scenario run (``id``, ``keyword``, ``name``, ``line``,
``type``, ``tags``, ``steps``), each step with ``keyword``, ``name``, ``line``,
``match`` and ``result`` (``status``, ``duration`` in nanoseconds, and
``error_message`` on the failed step). A scenario that failed outside its steps gets a
failed ``after`` hook carrying the error, so it does not read as passed.

Order is fixed: features by ``uri``, scenarios by (line, node id), steps as run. So a
serial and a parallel run of the same suite produce equal files except for
``result.duration``; :func:`normalised` drops those to compare them.

Tags: the evidence records every tag that applies to a scenario (its own, its Rule's
and its Feature's) without saying which came from where, so each element carries all of
them (as cucumber itself does for inherited tags) and the feature's ``tags`` is empty.
Tag lines are not known either; ``line`` is left out of tag objects, which cucumber
consumers treat as optional.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from harness.evidence import GherkinStepEvidence, ScenarioEvidence

CucumberDocument = list[dict[str, Any]]


def cucumber_features(evidence: Iterable[ScenarioEvidence]) -> CucumberDocument:
    """The cucumber JSON document (a list of features) for ``evidence``."""
    ordered = sorted(evidence, key=lambda e: (e["feature_file"], e["line"], e["nodeid"]))
    features: dict[str, dict[str, Any]] = {}
    for scenario in ordered:
        uri = scenario["feature_file"]
        feature = features.get(uri)
        if feature is None:
            feature = features[uri] = {
                "uri": uri,
                "id": _slug(scenario["feature_name"] or uri),
                "keyword": "Feature",
                "name": scenario["feature_name"] or uri,
                "line": scenario["feature_line"],
                "description": "",
                "tags": [],
                "elements": [],
            }
        feature["elements"].append(_element(scenario, feature["id"]))
    return list(features.values())


def normalised(document: CucumberDocument) -> CucumberDocument:
    """A copy of ``document`` without step durations, the only part that differs by run."""
    result = copy.deepcopy(document)
    for feature in result:
        for element in feature.get("elements", []):
            for step in [*element.get("steps", []), *element.get("after", [])]:
                step.get("result", {}).pop("duration", None)
    return result


def _element(scenario: ScenarioEvidence, feature_id: str) -> dict[str, Any]:
    failed_seen = False
    steps = []
    for step in scenario["steps"]:
        error = None
        if step["status"] == "failed" and not failed_seen:
            failed_seen = True
            error = scenario["error"] or ""
        steps.append(_step(step, error))
    element: dict[str, Any] = {
        "id": f"{feature_id};{_slug(scenario['scenario_name'])}{_example(scenario['nodeid'])}",
        "keyword": "Scenario",
        "name": scenario["scenario_name"],
        "line": scenario["line"],
        "description": "",
        "type": "scenario",
        "tags": [{"name": _tag(t)} for t in scenario["tags"]],
        "steps": steps,
    }
    if scenario["status"] == "failed" and not failed_seen:
        # It failed outside every step (a fixture, a teardown check): a failed hook keeps
        # it failed for consumers that judge a scenario by its steps and hooks.
        element["after"] = [
            {
                "match": {"location": scenario["nodeid"]},
                "result": {
                    "status": "failed",
                    "duration": 0,
                    "error_message": scenario["error"] or "",
                },
            }
        ]
    return element


def _step(step: GherkinStepEvidence, error: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "status": step["status"],
        "duration": max(0, round(step["duration_wall"] * 1_000_000_000)),
    }
    if error is not None:
        result["error_message"] = error
    return {
        "keyword": step["keyword"].strip() + " ",
        "name": step["name"],
        "line": step["line"],
        "match": {"location": ""},
        "result": result,
    }


def _tag(tag: str) -> str:
    return tag if tag.startswith("@") else f"@{tag}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _example(nodeid: str) -> str:
    """``;<params>`` for an outline example's node id (``test_x[a-1]``), else ``""``."""
    match = re.search(r"\[([^\]]*)\]$", nodeid)
    return f";{match.group(1)}" if match else ""
