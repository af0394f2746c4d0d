"""``windtunnel bench http`` measures both sides in one run and prints both and the ratio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_http_prints_both_rates_and_their_ratio() -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "harness.cli", "bench", "http"),
            *("--scenario", "BasicDevelopment", "--clients", "4"),
            *("--duration", "1", "--warmup", "0", "--json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["baseline_per_s"] > 0
    assert figures["service_per_s"] > 0
    assert figures["service_errors"] == 0
    assert figures["ratio"] == pytest.approx(
        figures["service_per_s"] / figures["baseline_per_s"], abs=0.01
    )
    assert "bare Starlette requests/s" in result.stdout
    assert "ratio (target ≥ 0.5)" in result.stdout
