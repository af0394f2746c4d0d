"""``windtunnel bench inprocess`` prints both rates and their ratio (no timed assertion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.loadtests.load_helpers import last_json, windtunnel

pytestmark = pytest.mark.slow


def test_bench_inprocess_measures_both_sides_in_one_run(tmp_path: Path) -> None:
    done = windtunnel(
        "bench", "inprocess", "--scenario", "BasicDevelopment", "--clients", "2",
        "--duration", "1", "--reports", "reports", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = last_json(done.stdout)
    assert out["engine_alone_per_s"] > 0
    assert out["inprocess_user_per_s"] > 0
    assert out["ratio"] == pytest.approx(out["inprocess_user_per_s"] / out["engine_alone_per_s"])
    assert "ratio (target ≥ 0.5)" in done.stdout
    [run_id] = out["load_run_ids"]
    assert (tmp_path / "reports" / "load" / run_id / "result.json").exists()
