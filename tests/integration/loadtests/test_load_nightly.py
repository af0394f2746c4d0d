"""``windtunnel nightly``: the nightly profiles' load runs, the suite, one index page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.loadtests.load_helpers import windtunnel

pytestmark = pytest.mark.slow

CATALOGUE = """\
requirements:
  - id: BR-WORKFLOW-001
    title: Basic execution
    description: A template runs.
    priority: critical
    area: execution
"""
PROBE = """\
import os
from pathlib import Path


def test_the_suite_runs_with_the_nightly_hypothesis_profile() -> None:
    Path(__file__).with_name("profile.txt").write_text(os.environ["WINDTUNNEL_HYPOTHESIS_PROFILE"])
"""


def test_nightly_runs_the_loads_then_the_suite_and_links_everything(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    features = tmp_path / "features"
    features.mkdir()
    (features / "requirements.yaml").write_text(CATALOGUE)
    (features / "test_probe.py").write_text(PROBE)
    done = windtunnel(
        "nightly", "--reports", "reports", "--load-duration", "2", "--features", "features",
        "-n", "0",
        cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (features / "profile.txt").read_text() == "nightly"
    index = (tmp_path / "reports" / "index.html").read_text()
    [run_dir] = (tmp_path / "reports" / "load").glob("2*")
    run = run_dir.name
    assert "<h3>HighLoadProduction</h3>" in index  # the one shipped profile marked nightly
    for link in ("summary.md", "report.html", "result.json"):
        assert f'href="load/{run}/{link}"' in index
    for png in ("throughput.png", "latency.png"):
        assert f"<img src='load/{run}/{png}'" in index
    assert 'href="requirements.html"' in index
    assert "<p class='passed'>passed</p>" in index
