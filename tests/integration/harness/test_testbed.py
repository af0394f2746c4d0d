"""The testbed seam: one profile's cluster, clients, stores and a running engine, wired.

Under virtual time (looptime) except the kubeconfig test, which talks HTTP to a
simulated cluster served in a thread in real time, as a real cluster would be.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from kubernetes import client as k8s

from engine import ExecutionStatus, StepStatus
from engine.kube_actions import KubeconfigError
from fakes.kube.clock import WallClock
from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.http_server import ServerThread
from fakes.kube.kubeconfig import write_kubeconfig
from fakes.kube.simulation import SimulatedCluster
from harness.testbed import Testbed, TestbedError, TestbedOptions
from scenarios import load_profile

SCALE = {
    "name": "scale-api",
    "retry": {"max_attempts": 1},
    "steps": [
        {
            "id": "scale",
            "action": "scale_deployment",
            "params": {"namespace": "default", "name": "api-gateway", "replicas": 7},
        }
    ],
}

CHAIN = {
    "name": "chain",
    "steps": [
        {"id": "a", "action": "work", "params": {"seconds": 10}},
        {"id": "b", "action": "work", "params": {"seconds": 10}, "depends_on": ["a"]},
        {"id": "c", "action": "work", "params": {"seconds": 10}, "depends_on": ["b"]},
    ],
}


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_a_testbed_runs_kubernetes_actions_against_its_profile_cluster() -> None:
    async with Testbed(load_profile("HighLoadProduction")) as bed:
        result = await bed.engine.run(bed.template(SCALE))
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("scale").error
        apps = k8s.AppsV1Api(bed.sync_api_client)
        deployment = apps.read_namespaced_deployment("api-gateway", "default")
        assert (deployment.spec.replicas, deployment.status.ready_replicas) == (7, 7)
        assert bed.executions == [result.execution.execution_id]
        assert bed.journal.statuses(result.execution.execution_id, "scale")[-1] == "Succeeded"
        # The profile's defaults reach templates that set none: HighLoadProduction's step timeout.
        assert bed.templates[("scale-api", 1)].template.steps[0].timeout == 60


@pytest.mark.asyncio
@pytest.mark.looptime
@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_a_crash_resumes_from_what_the_stores_held(store: str, tmp_path: Path) -> None:
    options = TestbedOptions(store=store, sqlite_path=tmp_path / "state.sqlite")  # type: ignore[arg-type]
    async with Testbed(load_profile("HighLoadProduction"), options) as bed:
        assert bed.store_kind == store
        execution_id = await bed.engine.submit(bed.template(CHAIN))
        await asyncio.sleep(15)  # a done, b running
        old_engine = bed.engine
        assert await bed.crash() == [execution_id]
        assert bed.engine is not old_engine
        result = await bed.engine.wait(execution_id)
        assert result.status is ExecutionStatus.SUCCEEDED
        assert [c.step_id for c in bed.actions.calls] == ["a", "b", "b", "c"]  # a never again
        assert bed.restarts == 1


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_the_engine_can_be_reconfigured_only_before_work_starts() -> None:
    async with Testbed(load_profile("HighLoadProduction")) as bed:
        engine = await bed.configure_engine(max_concurrency=2)
        assert engine.max_concurrency == 2
        await bed.engine.submit(bed.template(CHAIN))
        with pytest.raises(TestbedError, match="only be reconfigured before the scenario submits"):
            await bed.configure_engine(max_concurrency=3)


def test_bad_options_are_refused_with_what_was_wrong() -> None:
    with pytest.raises(ValueError, match="store must be 'memory' or 'sqlite', got 'disk'"):
        TestbedOptions(store="disk")  # type: ignore[arg-type]
    with pytest.raises(KubeconfigError, match="kubeconfig"):
        TestbedOptions(cluster="kubeconfig:")


def test_a_testbed_can_run_on_a_cluster_named_by_a_kubeconfig(tmp_path: Path) -> None:
    sim = SimulatedCluster(
        seed=5,
        nodes=2,
        clock=WallClock(),
        config=SimulationConfig(
            start_latency=Delay.fixed(0.01),
            ready_latency=Delay.fixed(0.01),
            termination_latency=Delay.fixed(0.01),
        ),
    )

    async def setup() -> object:
        await sim.start()
        return sim.cluster.router

    async def main(config: Path) -> None:
        options = TestbedOptions(cluster=f"kubeconfig:{config}")
        async with Testbed(load_profile("BasicDevelopment"), options) as bed:
            assert bed.sim is None
            with pytest.raises(TestbedError, match="needs the simulated cluster"):
                bed.cluster()
            result = await bed.engine.run(
                bed.template(
                    {
                        "name": "cordon",
                        "steps": [
                            {"id": "cordon", "action": "cordon_node", "params": {"name": "node-2"}}
                        ],
                    }
                )
            )
            assert result.step("cordon").status is StepStatus.SUCCEEDED, result.step("cordon").error
            node = k8s.CoreV1Api(bed.sync_api_client).read_node("node-2")
            assert node.spec.unschedulable is True

    with ServerThread(setup, teardown=sim.stop) as server:
        config = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        asyncio.run(main(config))


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_the_observer_client_reads_past_injected_faults() -> None:
    async with Testbed(load_profile("HighLoadProduction")) as bed:
        sim = bed.cluster()
        sim.faults.error(500, verb="get", resource="deployments")
        sim.faults.latency(30.0, verb="list", resource="pods")
        before = len(sim.faults.log)
        apps = k8s.AppsV1Api(bed.sync_api_client)
        assert apps.read_namespaced_deployment("api-gateway", "default").spec.replicas == 5
        pods = k8s.CoreV1Api(bed.sync_api_client).list_namespaced_pod("default").items
        assert len(pods) == 25
        assert len(sim.faults.log) == before  # neither faulted nor logged
        # The system under test still meets the fault.
        from kubernetes.aio import client as aio

        with pytest.raises(aio.ApiException) as refused:
            await aio.AppsV1Api(bed.api_client).read_namespaced_deployment("api-gateway", "default")
        assert refused.value.status == 500
