"""``windtunnel scenarios list|show`` through typer's test runner."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from harness.cli import app
from scenarios import list_profiles

runner = CliRunner()


def test_list_shows_every_profile_with_its_description() -> None:
    result = runner.invoke(app, ["scenarios", "list"])
    assert result.exit_code == 0, result.output
    for name in list_profiles():
        assert name in result.output
    assert "Three production nodes" in result.output


def test_show_prints_the_resolved_profile_as_yaml() -> None:
    result = runner.invoke(app, ["scenarios", "show", "DisasterRecovery"])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.output)
    assert data["name"] == "DisasterRecovery"
    assert data["extends"] == "HighLoadProduction"
    assert data["cluster"]["events"] == [{"at": 120.0, "node": "last", "event": "NotReady"}]
    gateway = data["cluster"]["namespaces"]["default"]["deployments"]["api-gateway"]
    assert gateway["replicas"] == 5
    assert gateway["hpa"]["max_replicas"] == 15
    assert data["cluster"]["namespaces"]["kubernaut"]["quota"] == {
        "cpu": "4",
        "memory": "8Gi",
        "pods": 50,
    }


def test_show_accepts_a_file_and_reports_its_problems_at_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\nextends: HighLoadProduction\nengine:\n  max_concurency: 3\n")
    result = runner.invoke(app, ["scenarios", "show", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4 field 'engine.max_concurency': unknown field" in result.output


def test_show_an_unknown_name_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["scenarios", "show", "Nope"])
    assert result.exit_code == 2
    assert "no scenario profile named 'Nope'; known: BasicDevelopment" in result.output
