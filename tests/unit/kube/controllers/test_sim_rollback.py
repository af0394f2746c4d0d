"""``kubectl rollout undo`` under virtual time: the old ReplicaSet comes back, not a copy.

The undo is sent as kubectl sends it: a JSON patch replacing ``/spec/template`` with
the revision's template as Go serializes it (``metadata.creationTimestamp: null``,
empty structs such as ``securityContext: {}``) and ``/metadata/annotations``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.controllers.revisions import canonical_template, template_hash
from fakes.kube.simulation import SimulatedCluster

REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"


def deployment(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def set_image(image: str) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}


async def replica_sets(apps: aclient.AppsV1Api, api_client: Any) -> dict[str, dict[str, Any]]:
    """The ReplicaSets as JSON, by name."""
    items = (await apps.list_namespaced_replica_set("default")).items
    return {rs.metadata.name: api_client.sanitize_for_serialization(rs) for rs in items}


async def rollout_undo(
    apps: aclient.AppsV1Api, api_client: Any, name: str, to_revision: int = 0
) -> None:
    """What kubectl's DeploymentRollbacker sends (the previous revision by default)."""
    by_revision = {
        int(rs["metadata"]["annotations"][REVISION]): rs
        for rs in (await replica_sets(apps, api_client)).values()
    }
    revisions = sorted(by_revision)
    rs = by_revision[to_revision or revisions[-2]]
    template = copy.deepcopy(rs["spec"]["template"])
    template["metadata"]["labels"].pop("pod-template-hash")
    template["metadata"]["creationTimestamp"] = None
    template["spec"].setdefault("securityContext", {})
    d = await apps.read_namespaced_deployment(name, "default")
    annotations = {k: v for k, v in d.metadata.annotations.items() if k == REVISION}
    await apps.patch_namespaced_deployment(
        name,
        "default",
        [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ],
    )


def revisions(rs_by_name: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str | None, int]]:
    """Each ReplicaSet's image: (revision, revision history, replicas)."""
    return {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: (
            rs["metadata"]["annotations"][REVISION],
            rs["metadata"]["annotations"].get(HISTORY),
            rs["spec"]["replicas"],
        )
        for rs in rs_by_name.values()
    }


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_undo_reuses_the_old_replica_set_and_records_its_revisions() -> None:
    async with SimulatedCluster(seed=11) as sim, sim.aio_api_client() as api_client:
        apps = aclient.AppsV1Api(api_client)
        await apps.create_namespaced_deployment("default", deployment("web", "nginx:1.25"))
        await sim.settle()
        await apps.patch_namespaced_deployment("web", "default", set_image("nginx:1.26"))
        await sim.settle()
        before = await replica_sets(apps, api_client)
        assert revisions(before) == {"nginx:1.25": ("1", None, 0), "nginx:1.26": ("2", None, 2)}

        await rollout_undo(apps, api_client, "web")
        await sim.settle()
        after = await replica_sets(apps, api_client)
        assert set(after) == set(before)
        assert revisions(after) == {"nginx:1.25": ("3", "1", 2), "nginx:1.26": ("2", None, 0)}
        d = await apps.read_namespaced_deployment("web", "default")
        assert d.metadata.annotations[REVISION] == "3"
        assert d.status.updated_replicas == d.status.ready_replicas == 2
        pods = (await aclient.CoreV1Api(api_client).list_namespaced_pod("default")).items
        assert {p.spec.containers[0].image for p in pods} == {"nginx:1.25"}

        # Undo the undo: revision 2's ReplicaSet becomes 4 and remembers it was 2.
        await rollout_undo(apps, api_client, "web")
        await sim.settle()
        again = await replica_sets(apps, api_client)
        assert set(again) == set(before)
        assert revisions(again) == {"nginx:1.25": ("3", "1", 0), "nginx:1.26": ("4", "2", 2)}

        await rollout_undo(apps, api_client, "web", to_revision=3)
        await sim.settle()
        assert revisions(await replica_sets(apps, api_client))["nginx:1.25"] == ("5", "1,3", 2)


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_change_cause_is_copied_to_the_new_replica_set() -> None:
    async with SimulatedCluster(seed=12) as sim, sim.aio_api_client() as api_client:
        apps = aclient.AppsV1Api(api_client)
        await apps.create_namespaced_deployment("default", deployment("web", "nginx:1.25"))
        await sim.settle()
        cause = {"metadata": {"annotations": {"kubernetes.io/change-cause": "pin 1.25"}}}
        await apps.patch_namespaced_deployment("web", "default", cause)
        await sim.settle()
        (rs,) = (await replica_sets(apps, api_client)).values()
        assert rs["metadata"]["annotations"]["kubernetes.io/change-cause"] == "pin 1.25"
        assert rs["metadata"]["annotations"][REVISION] == "1"


def test_semantically_equal_templates_hash_alike() -> None:
    template = deployment("web", "nginx:1.25")["spec"]["template"]
    same = copy.deepcopy(template)
    same["metadata"]["creationTimestamp"] = None
    same["metadata"]["annotations"] = {}
    same["metadata"]["labels"]["pod-template-hash"] = "abc"
    same["spec"]["containers"][0]["args"] = []
    same["spec"]["securityContext"] = {}
    assert canonical_template(same) == canonical_template(template)
    assert template_hash(same) == template_hash(template)
    other = copy.deepcopy(template)
    other["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert template_hash(other) != template_hash(template)
    assert template_hash(template, collision_count=1) != template_hash(template)


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_replacing_a_deployment_with_the_same_manifest_settles() -> None:
    # The replaced template lacks the defaults its ReplicaSet's has; the controller
    # must still find one ReplicaSet for it rather than create one per reconcile.
    async with SimulatedCluster(seed=13) as sim:
        sim.api.create("deployments", deployment("web", "nginx:1.25"), "default")
        await sim.settle()
        body = deployment("web", "nginx:1.25")
        current = sim.api.get("deployments", "web", "default")
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        sim.api.update("deployments", body, "default")
        await sim.settle()
        assert len(sim.api.list("replicasets", "default")) <= 2
        d = sim.api.get("deployments", "web", "default")
        assert d["status"]["readyReplicas"] == d["status"]["updatedReplicas"] == 2
