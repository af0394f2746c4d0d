"""Readiness takes the kubelet's time, and the actions that wait for it take that long.

If pods became Ready at once (or the actions stopped waiting for readiness), these
durations in virtual time would shrink: start latency 1 s plus ready latency 0.5 s per
pod (support.fast_config), after which the Deployment controller reports the replica.
"""

from __future__ import annotations

import asyncio

import pytest

from engine import ExecutionStatus
from fakes.kube.controllers.config import Delay, SimulationConfig
from tests.unit.kube_actions.support import deployment, kube_env

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


async def test_a_new_pod_is_ready_after_the_start_and_ready_latencies() -> None:
    async with kube_env() as env:
        loop = asyncio.get_running_loop()
        start = loop.time()
        env.sim.api.create("deployments", deployment("web", 1), "default")
        ready_at = None
        while ready_at is None:
            await asyncio.sleep(0.05)
            (pod,) = env.pods(selector="app=web")
            conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
            if conditions.get("Ready") == "True":
                ready_at = loop.time() - start
        assert 1.5 <= ready_at <= 1.6  # 1 s to start, 0.5 s more to be Ready (+ polling)
        statuses = pod["status"]["containerStatuses"]
        assert statuses[0]["ready"] is True
        assert statuses[0]["state"]["running"]


@pytest.mark.parametrize(("ready", "expected"), [(0.5, 1.5), (7.0, 8.0)])
async def test_a_scale_up_takes_as_long_as_its_pods_take_to_be_ready(
    ready: float, expected: float
) -> None:
    config = SimulationConfig(
        start_latency=Delay.fixed(1.0),
        ready_latency=Delay.fixed(ready),
        termination_latency=Delay.fixed(0.5),
    )
    async with kube_env(config=config) as env:
        env.sim.api.create("deployments", deployment("web", 1), "default")
        await env.sim.settle()
        result = await env.run(
            """
            name: grow
            steps:
              - id: scale
                action: scale_deployment
                params: {namespace: default, name: web, replicas: 3, timeout: 120}
            """
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("scale").error
        step = result.step("scale")
        assert step.started_at is not None
        assert step.finished_at is not None
        assert step.finished_at - step.started_at == pytest.approx(expected, abs=0.05)
        assert result.step("scale").outputs["ready_replicas"] == 3
