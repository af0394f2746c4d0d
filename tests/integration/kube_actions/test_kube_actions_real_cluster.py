"""Real-cluster mode: the same workflow in-process and through a kubeconfig over HTTP.

The simulated cluster's HTTP server stands in for a remote cluster: it runs on its own
event loop in a background thread, in real time, and the engine reaches it only
through a kubeconfig file and the official ``kubernetes.aio`` client -- exactly what
``--cluster kubeconfig:PATH`` gives it against a real cluster. Kubelet latencies are
tiny so the run takes well under a second of wall time per mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, ExecutionState
from engine.builtin_actions import default_registry
from engine.kube_actions import register_kube_actions
from engine.kube_actions.client import (
    KubeconfigError,
    api_client_from_kubeconfig,
    kubeconfig_path,
)
from fakes.kube.clock import WallClock
from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.http_server import ServerThread
from fakes.kube.kubeconfig import write_kubeconfig
from fakes.kube.simulation import SimulatedCluster
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage
from tests.unit.kube_actions.support import deployment, workflow

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

WORKFLOW = """
name: remediate
retry: {max_attempts: 3, delay: 0.05}
steps:
  - id: scale
    action: scale_deployment
    params: {name: web, replicas: 4, timeout: 30}
  - id: restart
    action: rollout_restart
    depends_on: [scale]
    params: {name: web}
  - id: wait
    action: wait_for_rollout
    depends_on: [restart]
    params: {name: web, timeout: 30}
  - id: tag
    action: label
    depends_on: [wait]
    params: {apiVersion: apps/v1, kind: Deployment, name: web, labels: {remediated: "yes"}}
"""

VOLATILE = {"restarted_at"}


def tiny_latencies() -> SimulationConfig:
    return SimulationConfig(
        start_latency=Delay.fixed(0.02),
        ready_latency=Delay.fixed(0.02),
        termination_latency=Delay.fixed(0.02),
        kubelet_events=False,
    )


async def _prepared(sim: SimulatedCluster) -> None:
    sim.api.create("deployments", deployment("web", 2, maxSurge=1, maxUnavailable=0), "default")
    await sim.settle(timeout=30)


async def run_workflow(api_client: Any) -> ExecutionState:
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        actions=register_kube_actions(default_registry(), api_client),
        seed=1,
    )
    try:
        engine.register(workflow(WORKFLOW))
        return await engine.run("remediate")
    finally:
        await engine.aclose()


def summary(state: ExecutionState) -> dict[str, Any]:
    """Statuses and outputs, without what differs by nature (timestamps)."""
    return {
        "status": str(state.status),
        "steps": {
            sid: (
                str(rec.status),
                {k: v for k, v in (rec.outputs or {}).items() if k not in VOLATILE},
            )
            for sid, rec in sorted(state.steps.items())
        },
    }


@contextlib.asynccontextmanager
async def in_process() -> AsyncIterator[Any]:
    sim = SimulatedCluster(seed=1, config=tiny_latencies())
    await sim.start()
    await _prepared(sim)
    client = sim.aio_api_client()
    try:
        yield client
    finally:
        await client.close()
        await sim.stop()


def served(tmp_path: Path) -> tuple[ServerThread, Path]:
    sim = SimulatedCluster(seed=1, config=tiny_latencies(), clock=WallClock())

    async def setup() -> Any:
        await sim.start()
        await _prepared(sim)
        return sim.cluster.router

    server = ServerThread(
        setup, teardown=sim.stop, registry=sim.api.registry, now=sim.api.clock.now
    )
    server.start()
    return server, write_kubeconfig(tmp_path / "kubeconfig", server.url)


async def test_same_workflow_same_results_in_process_and_through_a_kubeconfig(
    tmp_path: Path,
) -> None:
    async with in_process() as client:
        local = await run_workflow(client)
    server, kubeconfig = served(tmp_path)
    try:
        remote_client = await api_client_from_kubeconfig(
            kubeconfig_path(f"kubeconfig:{kubeconfig}")
        )
        try:
            assert remote_client.configuration.host == server.url
            remote = await run_workflow(remote_client)
        finally:
            await remote_client.close()
    finally:
        server.stop()
    assert summary(local)["status"] == "Succeeded", local.statuses()
    assert summary(remote) == summary(local)
    outputs = remote.step("wait").outputs
    assert (outputs["replicas"], outputs["ready_replicas"], outputs["revision"]) == (4, 4, 2)


async def test_kubeconfig_errors_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="does not exist"):
        await api_client_from_kubeconfig(tmp_path / "missing")
    with pytest.raises(KubeconfigError, match="kubeconfig:PATH"):
        kubeconfig_path("kube:/etc/config")
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    with pytest.raises(KubeconfigError, match="cannot be used"):
        await api_client_from_kubeconfig(broken)
