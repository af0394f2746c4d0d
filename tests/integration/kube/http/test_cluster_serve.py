"""``windtunnel cluster serve`` as a user runs it: a process, a kubeconfig, a signal to stop."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]

pytestmark = pytest.mark.slow


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], str, Path, str]:
    kubeconfig = tmp_path / "kc" / "config"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "cluster",
            "serve",
            "--port",
            "0",
            "--kubeconfig",
            str(kubeconfig),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        lines = []
        while True:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(
                    f"serve exited early: {lines} {proc.stderr.read() if proc.stderr else ''}"
                )
            lines.append(line)
            if line.startswith("kubeconfig:"):
                break
    finally:
        timer.cancel()
    match = re.search(r"http://127\.0\.0\.1:\d+", "".join(lines))
    assert match, lines
    return proc, match.group(0), kubeconfig, "".join(lines)


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out + err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_writes_a_kubeconfig_serves_three_nodes_and_stops_on_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, url, kubeconfig, _ = _start(tmp_path, "--seed", "3")
    try:
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == url
        with urllib.request.urlopen(url + "/api/v1/nodes", timeout=10) as response:
            nodes = json.loads(response.read())
        assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-1", "node-2", "node-3"]
    finally:
        code, output = _stop(proc, sig)
    assert code == 0, output
    assert "stopped" in output


def test_serve_builds_the_named_scenario_and_serves_its_pods(tmp_path: Path) -> None:
    proc, url, _, head = _start(tmp_path, "--scenario", "HighLoadProduction")
    try:
        assert "scenario HighLoadProduction, 3 nodes, seed 42" in head
        with urllib.request.urlopen(url + "/api/v1/namespaces/default/pods", timeout=10) as r:
            pods = json.loads(r.read())["items"]
        with urllib.request.urlopen(url + "/api/v1/namespaces/kubernaut/resourcequotas") as r:
            quotas = json.loads(r.read())["items"]
    finally:
        code, output = _stop(proc, signal.SIGTERM)
    assert code == 0, output
    assert len(pods) == 25
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert quotas[0]["spec"]["hard"] == {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "pods": "50",
    }


def test_serve_refuses_an_unknown_scenario_naming_the_known_ones(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "cluster", "serve", "--scenario", "Nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "no scenario profile named 'Nope'" in result.stderr
    assert "HighLoadProduction" in result.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_uses_the_written_kubeconfig(tmp_path: Path) -> None:
    proc, _, kubeconfig, _ = _start(tmp_path)
    try:
        result = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(kubeconfig),
                "--cache-dir",
                str(tmp_path / "cache"),
                "get",
                "nodes",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
    finally:
        _stop(proc, signal.SIGTERM)
    assert result.stdout.split() == ["node/node-1", "node/node-2", "node/node-3"], result.stderr
