"""Pods and nodes: delete_pod, cordon/uncordon, drain with PDBs and failing nodes."""

from __future__ import annotations

import asyncio

import pytest

from engine import ExecutionStatus, StepStatus
from tests.unit.kube_actions.support import deployment, kube_env, pdb

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


def on_node(pods: list[dict], node: str) -> list[str]:
    return sorted(p["metadata"]["name"] for p in pods if p["spec"].get("nodeName") == node)


async def test_delete_pod_waits_for_a_ready_replacement() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        victim = env.pods(selector="app=web")[0]["metadata"]["name"]
        result = await env.run(
            f"name: kill\nsteps:\n  - {{id: kill, action: delete_pod, params: {{name: {victim}}}}}\n"
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("kill").error
        out = result.step("kill").outputs
        assert out["pod"] == victim
        assert out["owner"].startswith("ReplicaSet/web-")
        replacement = env.sim.api.get("pods", out["replacement"], "default")
        assert replacement["metadata"]["name"] != victim
        ready = {c["type"]: c["status"] for c in replacement["status"]["conditions"]}
        assert ready["Ready"] == "True"


async def test_cordon_then_uncordon_and_their_undos() -> None:
    async with kube_env() as env:
        result = await env.run(
            """
name: cordon
rollback_on_failure: true
steps:
  - {id: cordon, action: cordon_node, params: {name: node-2}}
  - id: boom
    action: fail_with_probability
    depends_on: [cordon]
    params: {probability: 1, retryable: false}
"""
        )
        assert result.status is ExecutionStatus.ROLLED_BACK
        cordon = result.step("cordon")
        assert cordon.outputs == {
            "name": "node-2",
            "was_unschedulable": False,
            "unschedulable": True,
        }
        assert cordon.compensation is not None
        assert cordon.compensation["action"] == "uncordon_node"
        assert not env.sim.api.get("nodes", "node-2")["spec"].get("unschedulable")


async def test_drain_evicts_and_waits_for_replacements_elsewhere() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 6), "default")
        await env.sim.settle()
        before = on_node(env.pods(), "node-1")
        assert before
        result = await env.run(
            "name: drain\nsteps:\n  - {id: drain, action: drain_node, params: {name: node-1}}\n"
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("drain").error
        out = result.step("drain").outputs
        assert out["evicted"] == [f"default/{n}" for n in before]
        assert out["was_unschedulable"] is False
        replacements = next(iter(out["replacements"].values()))
        assert len(replacements) == len(before)
        pods = env.pods(selector="app=web")
        assert on_node(pods, "node-1") == []
        assert len(pods) == 6
        assert env.sim.api.get("nodes", "node-1")["spec"]["unschedulable"] is True


async def test_drain_waits_while_a_pdb_blocks_then_succeeds() -> None:
    async with kube_env(nodes=2) as env:
        # All three replicas start on node-1; the budget allows one disruption at a time.
        env.sim.cordon("node-2")
        env.sim.api.create("deployments", deployment("db", 3), "default")
        env.sim.api.create("poddisruptionbudgets", pdb("db", "db", minAvailable=2), "default")
        await env.sim.settle()
        env.sim.cordon("node-2", False)
        result = await env.run(
            "name: drain\nsteps:\n"
            "  - {id: drain, action: drain_node, params: {name: node-1, timeout: 300}}\n"
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("drain").error
        out = result.step("drain").outputs
        assert len(out["evicted"]) == 3
        assert out["eviction_refusals"] >= 1  # the budget said no at first
        pods = env.pods(selector="app=db")
        assert {p["spec"]["nodeName"] for p in pods} == {"node-2"}
        refused = env.sim.faults.actions(resource="pods")
        assert any(a.subresource == "eviction" and a.status == 429 for a in refused)


async def test_drain_times_out_when_the_pdb_never_allows_and_undo_uncordons() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("db", 3), "default")
        env.sim.api.create("poddisruptionbudgets", pdb("db", "db", maxUnavailable=0), "default")
        await env.sim.settle()
        node = env.pods(selector="app=db")[0]["spec"]["nodeName"]
        result = await env.run(
            f"""
name: drain
rollback_on_failure: true
steps:
  - {{id: drain, action: drain_node, params: {{name: {node}, timeout: 60}}}}
"""
        )
        assert result.status is ExecutionStatus.FAILED
        step = result.step("drain")
        assert step.status is StepStatus.FAILED
        assert "still refused after 60s" in (step.error or "")
        assert "disruption budget" in (step.error or "").lower()
        # The step itself failed, so it is not compensated; the node stays cordoned.
        assert env.sim.api.get("nodes", node)["spec"]["unschedulable"] is True


async def test_drain_skips_daemonset_pods() -> None:
    async with kube_env() as env:
        env.sim.api.create(
            "daemonsets",
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "agent"},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "template": {
                        "metadata": {"labels": {"app": "agent"}},
                        "spec": {"containers": [{"name": "a", "image": "agent:1"}]},
                    },
                },
            },
            "default",
        )
        env.sim.api.create("deployments", deployment("web", 3), "default")
        await env.sim.settle()
        result = await env.run(
            "name: drain\nsteps:\n  - {id: drain, action: drain_node, params: {name: node-3}}\n"
        )
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("drain").error
        out = result.step("drain").outputs
        assert len(out["skipped"]) == 1
        assert "(DaemonSet)" in out["skipped"][0]
        assert all("agent" not in name for name in out["evicted"])
        assert on_node(env.pods(selector="app=agent"), "node-3")


async def test_drain_succeeds_when_the_node_goes_not_ready_mid_drain() -> None:
    async with kube_env(nodes=3) as env:
        env.sim.api.create("deployments", deployment("web", 6), "default")
        env.sim.api.create("poddisruptionbudgets", pdb("web", "web", maxUnavailable=1), "default")
        await env.sim.settle()
        evicted = on_node(env.pods(), "node-1")

        async def fail_node() -> None:
            await asyncio.sleep(1.0)  # mid-drain: evictions are being paced by the budget
            env.sim.set_node_ready("node-1", False)

        failing = asyncio.create_task(fail_node())
        result = await env.run(
            "name: drain\nsteps:\n"
            "  - {id: drain, action: drain_node, params: {name: node-1, timeout: 300}}\n"
        )
        await failing
        assert result.status is ExecutionStatus.SUCCEEDED, result.step("drain").error
        step = result.step("drain")
        assert step.finished_at is not None
        assert step.started_at is not None
        assert step.finished_at - step.started_at > 1.0  # the node failed while it ran
        assert step.outputs["evicted"] == [f"default/{n}" for n in evicted]
        ready_elsewhere = [
            p
            for p in env.pods(selector="app=web")
            if p["spec"]["nodeName"] != "node-1" and p["status"]["phase"] == "Running"
        ]
        assert len(ready_elsewhere) == 6
