"""apply_manifest, label and annotate on any kind, through discovery."""

from __future__ import annotations

import pytest

from engine import ExecutionStatus, StepStatus
from engine.errors import TemplateError
from tests.unit.kube_actions.support import kube_env, workflow

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

APPLY = """
name: apply
steps:
  - id: apply
    action: apply_manifest
    params:
      namespace: default
      server_side: {server_side}
      manifest:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {{name: settings}}
          data: {{level: "{level}"}}
        - apiVersion: apps/v1
          kind: Deployment
          metadata: {{name: api}}
          spec:
            replicas: 2
            selector: {{matchLabels: {{app: api}}}}
            template:
              metadata: {{labels: {{app: api}}}}
              spec: {{containers: [{{name: main, image: "api:1"}}]}}
  - id: wait
    action: wait_for_rollout
    depends_on: [apply]
    params: {{name: api, timeout: 60}}
"""


@pytest.mark.parametrize("server_side", [True, False])
async def test_apply_creates_then_updates_objects(server_side: bool) -> None:
    async with kube_env() as env:
        first = await env.run(APPLY.format(server_side=str(server_side).lower(), level="info"))
        assert first.status is ExecutionStatus.SUCCEEDED, first.step("apply").error
        actions = [(o["kind"], o["action"]) for o in first.step("apply").outputs["objects"]]
        assert actions == [("ConfigMap", "created"), ("Deployment", "created")]
        assert first.step("wait").outputs["ready_replicas"] == 2
        second = workflow(APPLY.format(server_side=str(server_side).lower(), level="debug"))
        second = second.model_copy(update={"version": 2})
        again = await env.run(second)
        objects = again.step("apply").outputs["objects"]
        assert objects[0]["action"] == "configured"
        assert env.sim.api.get("configmaps", "settings", "default")["data"] == {"level": "debug"}


async def test_label_and_annotate_any_kind_and_undo_restores_previous_values() -> None:
    async with kube_env() as env:
        env.sim.api.create(
            "configmaps", {"metadata": {"name": "cfg", "labels": {"tier": "a"}}}, "default"
        )
        result = await env.run(
            """
name: tag
rollback_on_failure: true
steps:
  - id: node
    action: label
    params: {apiVersion: v1, kind: Node, name: node-1, labels: {maintenance: "true"}}
  - id: cfg
    action: label
    params: {apiVersion: v1, kind: ConfigMap, name: cfg, namespace: default, labels: {tier: b}}
  - id: note
    action: annotate
    params: {apiVersion: v1, kind: ConfigMap, name: cfg, annotations: {owner: sre}}
  - id: boom
    action: fail_with_probability
    depends_on: [node, cfg, note]
    params: {probability: 1, retryable: false}
"""
        )
        assert result.status is ExecutionStatus.ROLLED_BACK
        assert result.step("cfg").outputs["previous"] == {"tier": "a"}
        assert result.step("node").outputs["labels"]["maintenance"] == "true"
        assert result.step("note").outputs["annotations"] == {"owner": "sre"}
        cfg = env.sim.api.get("configmaps", "cfg", "default")
        assert cfg["metadata"]["labels"] == {"tier": "a"}
        assert not cfg["metadata"].get("annotations")
        assert "maintenance" not in env.sim.api.get("nodes", "node-1")["metadata"]["labels"]


async def test_unknown_kind_is_a_clear_permanent_error() -> None:
    async with kube_env() as env:
        result = await env.run(
            "name: bad\nsteps:\n  - id: l\n    action: label\n"
            "    params: {apiVersion: v1, kind: Gadget, name: x, labels: {a: b}}\n"
        )
        step = result.step("l")
        assert step.status is StepStatus.FAILED
        assert "apiVersion 'v1' has no kind 'Gadget'" in (step.error or "")


async def test_params_are_checked_when_the_template_is_validated() -> None:
    async with kube_env() as env:
        bad = workflow(
            """
name: typos
steps:
  - {id: a, action: scale_deployment, params: {name: Web_1, replicas: -1}}
  - {id: b, action: drain_node, params: {node: node-1}}
  - {id: c, action: patch_resources, params: {name: web, containers: {main: {requests: {cpu: lots}}}}}
  - {id: d, action: apply_manifest, params: {manifest: {kind: ConfigMap}}}
"""
        )
        with pytest.raises(TemplateError) as err:
            env.engine.register(bad)
        text = str(err.value)
        assert "step 'a' field 'params.name'" in text
        assert "step 'a' field 'params.replicas'" in text
        assert "step 'b' field 'params.node': unknown field" in text
        assert "step 'b' field 'params.name': required field is missing" in text
        assert "params.containers.main.requests.cpu" in text
        assert "object 0 lacks apiVersion, metadata.name" in text
