"""Deployment actions through the real engine against the simulated cluster, virtual time."""

from __future__ import annotations

import pytest

from engine import ExecutionStatus, StepStatus
from tests.unit.kube_actions.support import deployment, kube_env, quota

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


SCALE = """
name: scale-web
steps:
  - id: scale
    action: scale_deployment
    params: {name: web, replicas: 6, timeout: 120}
"""


async def test_scale_up_waits_until_every_replica_is_ready() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        result = await env.run(SCALE)
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("scale").error
        outputs = result.step("scale").outputs
        assert outputs == {
            "namespace": "default",
            "name": "web",
            "previous_replicas": 2,
            "replicas": 6,
            "ready_replicas": 6,
        }
        d = env.deployment("web")
        assert d["status"]["readyReplicas"] == 6
        assert len(env.pods(selector="app=web")) == 6


async def test_scale_to_zero_and_missing_deployment_is_a_permanent_error() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        result = await env.run(
            """
name: down
steps:
  - id: down
    action: scale_deployment
    params: {name: web, replicas: 0}
  - id: ghost
    action: scale_deployment
    depends_on: [down]
    retry: {max_attempts: 3, delay: 1}
    params: {name: ghost, replicas: 1}
"""
        )
        assert result.step("down").status is StepStatus.SUCCEEDED
        assert result.step("down").outputs["ready_replicas"] == 0
        assert env.pods(selector="app=web") == []
        ghost = result.step("ghost")
        assert ghost.status is StepStatus.FAILED
        assert len(ghost.attempts) == 1  # a 404 is not retried
        assert "404" in (ghost.error or "")
        assert "ghost" in (ghost.error or "")


async def test_scale_times_out_when_pods_cannot_be_scheduled() -> None:
    async with kube_env(nodes=1) as env:
        env.sim.api.create("deployments", deployment("web", 1, cpu="1"), "default")
        await env.sim.settle()
        result = await env.run(
            """
name: too-big
steps:
  - id: scale
    action: scale_deployment
    params: {name: web, replicas: 10, timeout: 60}
"""
        )
        step = result.step("scale")
        assert step.status is StepStatus.FAILED
        assert "WaitTimeoutError" in (step.error or "")
        assert "not done after 60s" in (step.error or "")
        assert "desired 10" in (step.error or "")


async def test_rollout_restart_replaces_every_pod_and_waits() -> None:
    async with kube_env() as env:
        env.sim.api.create(
            "deployments", deployment("web", 3, maxSurge=1, maxUnavailable=0), "default"
        )
        await env.sim.settle()
        before = {p["metadata"]["uid"] for p in env.pods(selector="app=web")}
        result = await env.run(
            """
name: restart
steps:
  - id: restart
    action: rollout_restart
    params: {name: web}
  - id: wait
    action: wait_for_rollout
    depends_on: [restart]
    params: {name: web, timeout: 120}
"""
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.statuses()
        after = {p["metadata"]["uid"] for p in env.pods(selector="app=web")}
        assert len(after) == 3
        assert not before & after
        wait = result.step("wait").outputs
        assert (wait["updated_replicas"], wait["ready_replicas"], wait["available_replicas"]) == (
            3,
            3,
            3,
        )
        assert wait["revision"] == 2
        template = env.deployment("web")["spec"]["template"]
        assert (
            template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            == (result.step("restart").outputs["restarted_at"])
        )


async def test_patch_resources_raises_requests_and_rolls_out() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        result = await env.run(
            """
name: more-cpu
steps:
  - id: patch
    action: patch_resources
    params:
      name: web
      containers:
        main: {requests: {cpu: 200m}, limits: {cpu: 400m, memory: 128Mi}}
"""
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("patch").error
        out = result.step("patch").outputs
        assert out["previous"] == {
            "main": {"requests": {"cpu": "100m"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
        }
        assert out["containers"]["main"]["limits"] == {"cpu": "400m", "memory": "128Mi"}
        assert out["ready_replicas"] == 2
        for pod in env.pods(selector="app=web"):
            assert pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "200m"


async def test_patch_resources_over_quota_fails_naming_the_quota() -> None:
    async with kube_env() as env:
        env.sim.api.create(
            "resourcequotas", quota("compute", requests_cpu="1", limits_cpu="1"), "default"
        )
        env.sim.api.create(
            "deployments", deployment("web", 3, maxSurge=1, maxUnavailable=0), "default"
        )
        await env.sim.settle()
        result = await env.run(
            """
name: too-much-cpu
steps:
  - id: patch
    action: patch_resources
    retry: {max_attempts: 3, delay: 1}
    params:
      name: web
      timeout: 600
      containers:
        main: {requests: {cpu: "1"}, limits: {cpu: "1"}}
"""
        )
        step = result.step("patch")
        assert step.status is StepStatus.FAILED
        assert len(step.attempts) == 1  # permanent: a retry cannot make room
        assert "QuotaExceededError" in (step.error or "")
        assert "ResourceQuota 'compute' would be exceeded" in (step.error or "")
        # Found from the refusal, not by waiting out the 600 s timeout.
        assert step.finished_at is not None
        assert step.started_at is not None
        assert step.finished_at - step.started_at < 60


async def test_rollback_restores_the_previous_pod_template() -> None:
    async with kube_env() as env:
        env.sim.images.unpullable("nginx:broken")
        env.sim.api.create("deployments", deployment("web", 2, image="nginx:1.25"), "default")
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
        await env.sim.settle()
        # The broken rollout stalls as kube's does: its pod waits on the image, the
        # old ReplicaSet keeps both pods (maxUnavailable 25% of 2 is 0).
        broken = [
            p
            for p in env.pods(selector="app=web")
            if p["spec"]["containers"][0]["image"] != "nginx:1.25"
        ]
        assert [p["status"]["phase"] for p in broken] == ["Pending"]
        waiting = broken[0]["status"]["containerStatuses"][0]["state"]["waiting"]
        assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
        status = env.deployment("web")["status"]
        assert (status["readyReplicas"], status["updatedReplicas"]) == (2, 1)
        result = await env.run(
            """
name: undo
steps:
  - id: rollback
    action: rollback_deployment
    params: {name: web}
"""
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("rollback").error
        out = result.step("rollback").outputs
        assert (out["from_revision"], out["to_revision"], out["revision"]) == (2, 1, 3)
        assert out["ready_replicas"] == 2
        d = env.deployment("web")
        assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
        images = {p["spec"]["containers"][0]["image"] for p in env.pods(selector="app=web")}
        assert images == {"nginx:1.25"}


async def test_rollback_without_history_is_a_clear_error() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 1), "default")
        await env.sim.settle()
        result = await env.run(
            "name: undo\nsteps:\n  - {id: rollback, action: rollback_deployment, params: {name: web}}\n"
        )
        assert result.step("rollback").status is StepStatus.FAILED
        assert "has no revision before 1" in (result.step("rollback").error or "")
