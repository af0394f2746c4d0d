"""``requirements.json`` matches its published JSON Schema and reads back.

``jsonschema`` is not a dependency, so the check is a small validator for exactly the
keywords the schema uses; a test refuses any other keyword, so a schema edit cannot
slip past the validator unchecked.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.report import ReportFormatError, read_requirements_json, schema, write_reports
from harness.report.history import append_run, history_path
from tests.unit.report.support import meta, sample_run

SUPPORTED = {
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minItems",
    "pattern",
}
TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def problems(value: Any, node: dict[str, Any], root: dict[str, Any], at: str = "$") -> list[str]:
    """Where ``value`` breaks ``node`` (a subset of JSON Schema 2020-12)."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return problems(value, root["$defs"][name], root, at)
    found: list[str] = []
    if "type" in node:
        names = node["type"] if isinstance(node["type"], list) else [node["type"]]
        is_bool = isinstance(value, bool)
        if not any(isinstance(value, TYPES[n]) and (n == "boolean" or not is_bool) for n in names):
            return [f"{at}: {value!r} is not {names}"]
    if "enum" in node and value not in node["enum"]:
        found.append(f"{at}: {value!r} not in {node['enum']}")
    if "const" in node and value != node["const"]:
        found.append(f"{at}: {value!r} is not {node['const']!r}")
    if "minimum" in node and value < node["minimum"]:
        found.append(f"{at}: {value} < {node['minimum']}")
    if "maximum" in node and value > node["maximum"]:
        found.append(f"{at}: {value} > {node['maximum']}")
    if "pattern" in node and not re.search(node["pattern"], value):
        found.append(f"{at}: {value!r} does not match {node['pattern']}")
    if isinstance(value, dict):
        for key in node.get("required", []):
            if key not in value:
                found.append(f"{at}: lacks {key}")
        properties = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], root, f"{at}.{key}")
            elif extra is False:
                found.append(f"{at}: unexpected {key}")
            elif isinstance(extra, dict):
                found += problems(item, extra, root, f"{at}.{key}")
    if isinstance(value, list):
        if len(value) < node.get("minItems", 0):
            found.append(f"{at}: fewer than {node['minItems']} items")
        if "items" in node:
            for index, item in enumerate(value):
                found += problems(item, node["items"], root, f"{at}[{index}]")
    return found


def keywords(node: Any, parent: str = "") -> set[str]:
    if isinstance(node, list):
        return set().union(*(keywords(n, parent) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    named = parent in ("properties", "$defs")
    found = set() if named else set(node)
    for key, child in node.items():
        if not named and key in ("enum", "const", "required"):
            continue
        found |= keywords(child, "" if named else key)
    return found


@pytest.fixture
def written(tmp_path: Path) -> Path:
    cat, evidence = sample_run()
    append_run(
        history_path(tmp_path),
        {
            "run_id": "before",
            "finished_at": "t0",
            "git_commit": None,
            "profile": None,
            "statuses": {"BR-WORKFLOW-001": "failed"},
        },
    )
    return write_reports(tmp_path, cat, evidence, meta()).requirements_json


def test_the_schema_uses_only_keywords_the_test_validator_checks() -> None:
    assert keywords(schema()) <= SUPPORTED


def test_a_written_report_matches_the_schema(written: Path) -> None:
    data = json.loads(written.read_text())
    assert data["requirements"][0]["status"] == "flaky"  # the history branch is exercised
    assert data["unknown_requirements"] == []
    assert problems(data, schema(), schema()) == []


def test_a_run_without_xdist_or_a_fixed_seed_matches_too(tmp_path: Path) -> None:
    cat, evidence = sample_run()
    run = meta(profile="chaos")
    run["seed"], run["workers"], run["git_commit"] = None, 0, None
    written = write_reports(tmp_path, cat, evidence, run).requirements_json
    assert problems(json.loads(written.read_text()), schema(), schema()) == []


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("requirements", 0, "status"), "green", "not in"),
        (
            ("requirements", 1, "scenarios", 2, "executions", 0, "steps", 0, "attempts", 0),
            {},
            "lacks number",
        ),
        (("summary", "requirements", "total"), "4", "is not ['integer']"),
        (("run", "workers"), True, "is not ['integer']"),
        (("run", "git_commit"), 5, "is not ['string', 'null']"),
        (("history",), {"size": 10, "runs": 1, "skipped_lines": [], "x": 1}, "unexpected x"),
        (("schema_version",), 2, "is not 1"),
    ],
)
def test_the_schema_check_refuses_a_broken_report(
    written: Path, path: tuple[str | int, ...], value: Any, complaint: str
) -> None:
    data = json.loads(written.read_text())
    broken = copy.deepcopy(data)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(complaint in p for p in problems(broken, schema(), schema()))


def test_a_written_report_reads_back_equal(written: Path) -> None:
    report = read_requirements_json(written)
    assert report == json.loads(written.read_text())
    assert report["summary"]["failing_requirements"] == ["BR-WORKFLOW-007"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "cannot read a requirements report"),
        ("[]", "is a JSON object"),
        ('{"schema_version": 99}', "schema_version is 99, this windtunnel reads 1"),
        ('{"schema_version": 1, "run": {}}', "lacks summary, requirements"),
    ],
)
def test_reading_something_else_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "requirements.json"
    path.write_text(text)
    with pytest.raises(ReportFormatError, match=re.escape(message)):
        read_requirements_json(path)
