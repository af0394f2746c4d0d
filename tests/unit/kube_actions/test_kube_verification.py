"""Each action confirms its effect as read back from the cluster, not the API's answer.

The API here lies (:class:`Unstored`): a write is answered 200 with exactly the object
it would have produced, and nothing is stored. An action that trusts the answer
"succeeds" with nothing done; every action must instead fail, naming the object and
what it read back. A controller that never observes an applied generation is the same
kind of unconfirmed effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from engine import ExecutionStatus, StepStatus, WorkflowTemplate
from fakes.kube.controllers.deployment import DeploymentController
from tests.unit.kube_actions.support import KubeEnv, Unstored, deployment, kube_env, workflow

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


def one_step(action: str, params: dict[str, Any]) -> WorkflowTemplate:
    return workflow(
        {"name": f"do-{action}", "steps": [{"id": "do", "action": action, "params": params}]}
    )


async def failed_step(env: KubeEnv, action: str, params: dict[str, Any]) -> str:
    """Run one step that must fail; its error."""
    result = await env.run(one_step(action, params))
    step = result.step("do")
    assert step.status is StepStatus.FAILED, f"{action} succeeded: {step.outputs}"
    error = step.error or ""
    assert error.startswith("EffectNotConfirmedError: "), error
    return error


async def outputs_of(env: KubeEnv, action: str, params: dict[str, Any]) -> Mapping[str, Any]:
    """Run one step that must succeed; its outputs."""
    result = await env.run(one_step(action, params))
    step = result.step("do")
    assert result.status is ExecutionStatus.SUCCEEDED, step.error
    assert step.outputs is not None
    return step.outputs


def lie(env: KubeEnv, **match: Any) -> Unstored:
    liar = Unstored(env.sim, **match)
    env.sim.cluster.reactors.append(liar)
    return liar


# -- nodes -----------------------------------------------------------------------------


async def test_cordon_fails_when_the_node_read_back_is_still_schedulable() -> None:
    async with kube_env() as env:
        liar = lie(env, resource="nodes", name="node-2")
        error = await failed_step(env, "cordon_node", {"name": "node-2", "timeout": 30})
        assert liar.lies == 1
        assert "node 'node-2'" in error
        assert "spec.unschedulable" in error
        assert "after 30s" in error
        assert not env.sim.api.get("nodes", "node-2")["spec"].get("unschedulable")


async def test_uncordon_fails_when_the_node_read_back_is_still_cordoned() -> None:
    async with kube_env() as env:
        env.sim.cordon("node-2")
        lie(env, resource="nodes", name="node-2")
        error = await failed_step(env, "uncordon_node", {"name": "node-2"})
        assert "node 'node-2'" in error
        assert "spec.unschedulable is true, wanted unset" in error
        assert env.sim.api.get("nodes", "node-2")["spec"]["unschedulable"] is True


async def test_drain_evicts_nothing_when_the_cordon_did_not_hold() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 6), "default")
        await env.sim.settle()
        lie(env, resource="nodes", name="node-1")
        error = await failed_step(env, "drain_node", {"name": "node-1", "timeout": 60})
        assert "node 'node-1'" in error
        assert "spec.unschedulable" in error
        assert not env.sim.faults.actions(verb="create", resource="pods")  # no eviction


# -- label / annotate ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["labels", "annotations"])
async def test_label_and_annotate_fail_when_the_object_read_back_lacks_them(field: str) -> None:
    async with kube_env() as env:
        env.sim.api.create(
            "configmaps", {"metadata": {"name": "cfg", field: {"tier": "a"}}}, "default"
        )
        lie(env, resource="configmaps")
        action = "label" if field == "labels" else "annotate"
        params = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "namespace": "default"}
        error = await failed_step(env, action, {**params, field: {"tier": "b", "new": "x"}})
        assert "ConfigMap default/cfg" in error
        assert f"{field[:-1]} 'tier' is 'a', wanted 'b'" in error
        assert f"{field[:-1]} 'new' is unset, wanted 'x'" in error


async def test_removing_a_label_is_confirmed_too() -> None:
    async with kube_env() as env:
        lie(env, resource="nodes")
        error = await failed_step(
            env,
            "label",
            {
                "apiVersion": "v1",
                "kind": "Node",
                "name": "node-1",
                "labels": {"kubernetes.io/os": None},
            },
        )
        assert "Node node-1" in error
        assert "label 'kubernetes.io/os' is 'linux', wanted unset" in error


# -- apply_manifest ----------------------------------------------------------------------

CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}


@pytest.mark.parametrize(
    ("server_side", "exists", "verbs"),
    [
        (True, False, ("patch",)),
        (True, True, ("patch",)),
        (False, False, ("create",)),
        (False, True, ("update",)),
    ],
)
async def test_apply_fails_when_the_object_read_back_is_not_what_was_applied(
    server_side: bool, exists: bool, verbs: tuple[str, ...]
) -> None:
    async with kube_env() as env:
        if exists:
            env.sim.api.create("configmaps", {**CONFIG, "data": {"level": "info"}}, "default")
        liar = lie(env, resource="configmaps", verbs=verbs)
        error = await failed_step(
            env,
            "apply_manifest",
            {
                "namespace": "default",
                "server_side": server_side,
                "timeout": 20,
                "manifest": {**CONFIG, "data": {"level": "debug"}},
            },
        )
        assert liar.lies == 1
        assert "ConfigMap default/settings" in error
        assert "after 20s" in error
        if exists:
            assert "data.level is 'info', applied 'debug'" in error
        else:
            assert "does not exist" in error


def _realistic_manifest() -> list[dict[str, Any]]:
    app = deployment("api", 2, cpu="0.5", memory="1024Mi", labels={"app.kubernetes.io/name": "api"})
    app["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "data": {"user": "YWRtaW4="},
            "stringData": {"password": "s3cret"},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "api"},
            "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        app,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "api"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "api"}}},
        },
    ]


@pytest.mark.parametrize("server_side", [True, False])
async def test_apply_confirms_a_realistic_manifest_the_server_defaults(server_side: bool) -> None:
    async with kube_env() as env:
        outputs = await outputs_of(
            env,
            "apply_manifest",
            {"namespace": "default", "server_side": server_side, "manifest": _realistic_manifest()},
        )
        objects = {o["kind"]: o for o in outputs["objects"]}
        assert objects["Deployment"]["observed_generation"] == 1
        assert objects["PodDisruptionBudget"]["observed_generation"] == 1
        assert env.sim.api.get("secrets", "creds", "default")["data"]["password"] == "czNjcmV0"


async def test_apply_waits_until_the_controller_observes_the_generation() -> None:
    async with kube_env() as env:
        outputs = await outputs_of(
            env, "apply_manifest", {"namespace": "default", "manifest": deployment("api", 2)}
        )
        (applied,) = outputs["objects"]
        assert applied["generation"] == 1
        assert applied["observed_generation"] >= 1


async def test_apply_fails_when_no_controller_observes_the_generation() -> None:
    async with kube_env() as env:
        for controller in env.sim.manager.controllers:
            if isinstance(controller, DeploymentController):
                await controller.stop()
        error = await failed_step(
            env,
            "apply_manifest",
            {"namespace": "default", "timeout": 45, "manifest": deployment("api", 2)},
        )
        assert "Deployment default/api" in error
        assert "observedGeneration" in error
        assert "generation 1" in error
        assert "after 45s" in error


# -- deployments ---------------------------------------------------------------------------


async def test_rollout_restart_waits_for_the_new_revision_by_default() -> None:
    async with kube_env() as env:
        env.sim.api.create(
            "deployments", deployment("web", 3, maxSurge=1, maxUnavailable=0), "default"
        )
        await env.sim.settle()
        before = {p["metadata"]["uid"] for p in env.pods(selector="app=web")}
        out = await outputs_of(env, "rollout_restart", {"name": "web"})
        assert out["revision"] == 2
        assert (out["updated_replicas"], out["available_replicas"]) == (3, 3)
        # Read when the step finished, before anything else ran: every pod is new.
        pods = env.pods(selector="app=web")
        assert len(pods) == 3
        assert not before & {p["metadata"]["uid"] for p in pods}


@pytest.mark.parametrize("wait", [True, False])
async def test_rollout_restart_fails_when_the_template_read_back_was_not_restarted(
    wait: bool,
) -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        lie(env, resource="deployments", name="web")
        error = await failed_step(
            env, "rollout_restart", {"name": "web", "wait": wait, "timeout": 30}
        )
        assert "deployment default/web" in error
        assert "kubectl.kubernetes.io/restartedAt" in error


async def test_scale_fails_when_the_replicas_read_back_are_not_the_new_count() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        lie(env, resource="deployments", name="web", subresource="scale")
        error = await failed_step(
            env, "scale_deployment", {"name": "web", "replicas": 4, "timeout": 30}
        )
        assert "deployment default/web" in error
        assert "spec.replicas is 2, wanted 4" in error


async def test_patch_resources_fails_when_the_template_read_back_is_unchanged() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2, cpu="100m"), "default")
        await env.sim.settle()
        lie(env, resource="deployments", name="web")
        error = await failed_step(
            env,
            "patch_resources",
            {"name": "web", "timeout": 30, "containers": {"main": {"requests": {"cpu": "0.3"}}}},
        )
        assert "deployment default/web" in error
        assert "container 'main' requests.cpu is '100m', wanted '0.3'" in error


async def test_rollback_fails_when_the_template_read_back_is_not_the_old_revision() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2, image="web:1"), "default")
        await env.sim.settle()
        env.sim.api.patch(
            "deployments",
            "web",
            {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "web:2"}]}}}},
            "default",
        )
        await env.sim.settle()
        lie(env, resource="deployments", name="web")
        error = await failed_step(env, "rollback_deployment", {"name": "web", "timeout": 30})
        assert "deployment default/web" in error
        assert "revision 1" in error
        assert env.deployment("web")["spec"]["template"]["spec"]["containers"][0]["image"] == (
            "web:2"
        )
