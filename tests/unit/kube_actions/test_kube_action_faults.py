"""API faults, compensation and dry runs of the Kubernetes actions."""

from __future__ import annotations

import pytest

from engine import ExecutionStatus, StepStatus
from tests.unit.kube_actions.support import deployment, kube_env

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

SCALE = """
name: scale
steps:
  - id: scale
    action: scale_deployment
    retry: {max_attempts: 4, delay: 1, backoff: fixed}
    params: {name: web, replicas: 4}
"""


async def test_500s_are_retried_by_the_step_policy() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        env.sim.faults.error(500, times=2, verb="patch", resource="deployments")
        result = await env.run(SCALE)
        step = result.step("scale")
        assert step.status is StepStatus.SUCCEEDED, step.error
        assert len(step.attempts) == 3
        assert "500 InternalError" in (step.attempts[0].error or "")
        assert step.outputs["ready_replicas"] == 4


async def test_429s_are_retried_and_carry_retry_after() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        env.sim.faults.error(429, times=1, retry_after=7, verb="get", resource="deployments")
        result = await env.run(SCALE)
        step = result.step("scale")
        assert step.status is StepStatus.SUCCEEDED, step.error
        assert len(step.attempts) == 2
        assert "429 TooManyRequests" in (step.attempts[0].error or "")
        assert "retry after 7s" in (step.attempts[0].error or "")


async def test_429_backoff_waits_at_least_retry_after() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        env.sim.faults.error(429, times=1, retry_after=7, verb="get", resource="deployments")
        result = await env.run(SCALE)
        first = result.step("scale").attempts[0]
        assert first.retry_delay is not None
        assert first.retry_delay >= 7


async def test_permanent_4xx_is_not_retried() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        result = await env.run(
            SCALE.replace("name: web, replicas: 4", "name: web, replicas: 4, namespace: nowhere")
        )
        step = result.step("scale")
        assert step.status is StepStatus.FAILED
        assert len(step.attempts) == 1


async def test_compensation_scales_back_when_a_later_step_fails() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        result = await env.run(
            """
name: scale-then-fail
rollback_on_failure: true
steps:
  - id: scale
    action: scale_deployment
    params: {name: web, replicas: 5}
  - id: check
    action: fail_with_probability
    depends_on: [scale]
    params: {probability: 1, retryable: false, message: health check failed}
"""
        )
        assert result.status is ExecutionStatus.ROLLED_BACK
        compensation = result.step("scale").compensation
        assert compensation is not None
        assert compensation["action"] == "scale_deployment"
        assert compensation["status"] == "Succeeded"
        assert compensation["outputs"]["replicas"] == 2
        assert compensation["outputs"]["ready_replicas"] == 2
        assert env.deployment("web")["spec"]["replicas"] == 2
        assert len(env.pods(selector="app=web")) == 2


def _versions(env: object) -> dict[str, str]:
    sim = env.sim  # type: ignore[attr-defined]
    out = {}
    for resource in ("deployments", "replicasets", "pods", "nodes", "configmaps"):
        for obj in sim.api.list(resource):
            meta = obj["metadata"]
            out[f"{resource}/{meta.get('namespace', '')}/{meta['name']}"] = meta["resourceVersion"]
    return out


async def test_dry_run_leaves_the_cluster_untouched() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 3), "default")
        await env.sim.settle()
        victim = env.pods(selector="app=web")[0]["metadata"]["name"]
        before = _versions(env)
        result = await env.run(
            f"""
name: everything
steps:
  - {{id: scale, action: scale_deployment, params: {{name: web, replicas: 9}}}}
  - {{id: restart, action: rollout_restart, params: {{name: web, wait: true}}}}
  - {{id: wait, action: wait_for_rollout, params: {{name: web}}}}
  - id: patch
    action: patch_resources
    params: {{name: web, containers: {{main: {{requests: {{cpu: 300m}}}}}}}}
  - {{id: kill, action: delete_pod, params: {{name: {victim}}}}}
  - {{id: cordon, action: cordon_node, params: {{name: node-1}}}}
  - {{id: drain, action: drain_node, params: {{name: node-2}}}}
  - id: apply
    action: apply_manifest
    params:
      manifest: {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cfg}}, data: {{a: "1"}}}}
  - id: label
    action: label
    params: {{apiVersion: v1, kind: Node, name: node-3, labels: {{role: spare}}}}
""",
            dry_run=True,
        )
        await env.sim.settle()
        assert result.status is ExecutionStatus.SUCCEEDED, {
            k: v.error for k, v in result.steps.items() if v.error
        }
        assert _versions(env) == before
        assert result.step("scale").outputs["previous_replicas"] == 3
        assert result.step("scale").outputs["dry_run"] is True
        assert result.step("drain").outputs["evicted"]
        assert result.step("apply").outputs["objects"][0]["action"] == "created"
        assert result.step("label").outputs["labels"]["role"] == "spare"
        assert "role" not in env.sim.api.get("nodes", "node-3")["metadata"]["labels"]
