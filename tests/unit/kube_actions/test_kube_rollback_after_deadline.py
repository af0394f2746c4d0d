"""Rolling back a Deployment whose rollout passed its progress deadline (virtual time).

The remediation a stalled rollout calls for. Known engine bug, kept visible:
``engine.kube_actions.rollout.rollout_state`` fails on a ``ProgressDeadlineExceeded``
condition before checking ``observedGeneration``, so it reads the condition of the
rollout being undone -- kubectl's status viewer looks only once the controller has
observed the latest generation (by then the condition says the rollback progresses).
"""

from __future__ import annotations

import asyncio

import pytest

from engine import ExecutionStatus
from tests.unit.kube_actions.support import deployment, kube_env

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


async def test_rollback_after_the_progress_deadline_restores_the_service() -> None:
    async with kube_env() as env:
        env.sim.images.unpullable("nginx:broken")
        body = deployment("web", 2, image="nginx:1.25")
        body["spec"]["progressDeadlineSeconds"] = 60
        env.sim.api.create("deployments", body, "default")
        await env.sim.settle()
        env.sim.api.patch(
            "deployments",
            "web",
            {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "main", "image": "nginx:broken"}]}
                    }
                }
            },
            "default",
        )
        await asyncio.sleep(70)
        conditions = {c["type"]: c for c in env.deployment("web")["status"]["conditions"]}
        assert conditions["Progressing"]["reason"] == "ProgressDeadlineExceeded"
        result = await env.run(
            "name: undo\nsteps:\n  - {id: rollback, action: rollback_deployment, "
            "params: {name: web, timeout: 300}}\n"
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("rollback").error
        assert result.step("rollback").outputs["ready_replicas"] == 2
