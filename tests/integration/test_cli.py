"""The ``windtunnel`` commands, run in-process through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def test_demo_runs_the_bundled_workflow_and_writes_a_report(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    result = runner.invoke(app, ["demo", "--seed", "3", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "demo-remediation v1: Succeeded" in result.output
    data = json.loads(report.read_text())
    assert data["execution"]["status"] == "Succeeded"
    assert data["steps"]["restart"]["status"] == "Succeeded"
    assert len(data["steps"]["restart"]["attempts"]) == 2  # seed 3: one retry, every run


def test_demo_reports_an_invalid_template_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - {id: a, action: nope}\n")
    result = runner.invoke(
        app, ["demo", "--template", str(bad), "--report", str(tmp_path / "r.json")]
    )
    assert result.exit_code == 2
    assert f"{bad}:3 step 'a' field 'action': unknown action 'nope'" in result.output.replace(
        "\n", ""
    )


def test_bench_engine_prints_a_ratio_and_json(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["bench", "engine", "--steps", "200", "--repeats", "1", "--compare-steps", "100", "--json"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {
        "steps",
        "engine_us_per_step",
        "floor_us_per_task",
        "ratio",
        "peak_kib_per_step",
    } <= set(figures)
    assert figures["steps"] == 200
    expected = figures["engine_us_per_step"] / figures["floor_us_per_task"]
    assert abs(figures["ratio"] - expected) <= 0.02 * expected


def test_bench_engine_rejects_a_step_count_that_does_not_fill_the_layers() -> None:
    result = runner.invoke(app, ["bench", "engine", "--steps", "105", "--repeats", "1"])
    assert result.exit_code != 0
    assert "multiple of layers" in result.output


def test_bench_engine_on_sqlite_reports_the_same_keys_as_in_memory() -> None:
    args = ["bench", "engine", "--steps", "200", "--repeats", "1", "--compare-steps", "100"]
    memory = runner.invoke(app, [*args, "--json"])
    sqlite = runner.invoke(app, [*args, "--store", "sqlite", "--commit", "tick", "--json"])
    assert sqlite.exit_code == 0, sqlite.output
    assert "engine (sqlite:tick stores)" in sqlite.output
    mem_figures = json.loads(memory.output.strip().splitlines()[-1])
    figures = json.loads(sqlite.output.strip().splitlines()[-1])
    assert set(figures) == set(mem_figures)
    assert (mem_figures["store"], figures["store"]) == ("memory", "sqlite:tick")
    assert figures["ratio"] > 0


def test_bench_engine_rejects_an_unknown_store() -> None:
    result = runner.invoke(app, ["bench", "engine", "--store", "postgres", "--repeats", "1"])
    assert result.exit_code != 0
    assert "--store must be memory or sqlite" in result.output


def test_demo_runs_kubernetes_actions_against_a_cluster_named_by_a_kubeconfig(
    tmp_path: Path,
) -> None:
    from tests.integration.kube_actions.test_kube_actions_real_cluster import WORKFLOW, served

    template = tmp_path / "remediate.yaml"
    template.write_text(WORKFLOW)
    server, kubeconfig = served(tmp_path)
    try:
        result = runner.invoke(
            app,
            [
                "demo",
                "--cluster",
                f"kubeconfig:{kubeconfig}",
                "--template",
                str(template),
                "--report",
                str(tmp_path / "r.json"),
            ],
        )
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert "remediate v1: Succeeded" in result.output
    assert "(real clock)" in result.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["steps"]["wait"]["outputs"]["ready_replicas"] == 4


def test_demo_with_a_bad_cluster_argument_says_what_it_expects(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--cluster", "prod", "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "kubeconfig:PATH" in result.output
