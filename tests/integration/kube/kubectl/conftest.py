"""kubectl against the HTTP mode: one simulated cluster (with controllers) per module.

Each test gets a fresh HOME, ``--cache-dir`` and ``--kubeconfig`` so kubectl's
discovery cache never leaks between tests or servers. Real time: the controllers use
short fixed latencies so rollouts finish in well under a second.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubectl_support import KUBECTL, Kubectl, RunningCluster

from fakes.kube.kubeconfig import write_kubeconfig


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        item.add_marker(pytest.mark.slow)
        if KUBECTL is None:
            item.add_marker(pytest.mark.skip(reason="kubectl is not installed"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[RunningCluster]:
    running = RunningCluster()
    with running.thread:
        yield running


@pytest.fixture
def kubectl(cluster: RunningCluster, tmp_path: Path) -> Kubectl:
    """Run kubectl against the module's cluster; raises on a non-zero exit unless check=False."""
    home = tmp_path / "home"
    home.mkdir()
    config = write_kubeconfig(tmp_path / "kubeconfig", cluster.url)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "KUBECONFIG": str(config)}

    def run(
        *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        cmd = [KUBECTL, "--kubeconfig", str(config), "--cache-dir", str(home / "cache"), *args]
        result = subprocess.run(
            cmd, input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    return run
