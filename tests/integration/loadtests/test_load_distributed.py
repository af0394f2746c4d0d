"""Locust's master/worker mode on loopback, with each user: ``--master`` / ``--worker``.

The master runs the shape and collects the stats (and, in HTTP mode, starts the
service); a worker started with nothing but ``--worker --master-host H`` gets the plan
and the service's token from the master. In-process, the worker's engine writes its
store under the same reports folder, so the master's loss check counts it, and the
worker checks its own store too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.loadtests.load_helpers import free_port, last_json, popen, profile

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["inprocess", "http"])
def test_a_master_and_a_worker_on_loopback(tmp_path: Path, mode: str) -> None:
    path = profile(tmp_path, users=4)
    port = str(free_port())
    master = popen(
        "load", "--scenario", str(path), "--mode", mode, "--master", "--expect-workers", "1",
        "--master-host", "127.0.0.1", "--master-port", port, "--reports", "reports", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    worker = popen(
        "load", "--worker", "--master-host", "127.0.0.1", "--master-port", port,
        "--reports", "reports",
        cwd=tmp_path,
    )  # fmt: skip
    try:
        master_out, master_err = master.communicate(timeout=120)
        worker_out, worker_err = worker.communicate(timeout=60)
    finally:
        for process in (master, worker):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert master.returncode == 0, master_out + master_err
    assert worker.returncode == 0, worker_out + worker_err
    out = last_json(master_out)
    assert out["mode"] == mode
    assert out["passed"] is True
    assert isinstance(out["submitted"], int)
    assert out["submitted"] == out["terminal"] >= out["acknowledged"] > 0
    result = json.loads((Path(str(out["run_dir"])) / "result.json").read_text())
    assert result["role"] == "master"
    if mode == "inprocess":
        assert len(result["ledger"]["stores"]) == 1  # the worker's engine, counted by the master
        assert "0 lost" in worker_out
