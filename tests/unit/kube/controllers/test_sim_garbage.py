"""The garbage collector deletes dependents whose every owner is absent (virtual time)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.aio import client as aclient
from kubernetes.aio.client.exceptions import ApiException

from fakes.kube.simulation import SimulatedCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

MISSING_UID = "00000000-0000-4000-8000-000000000000"


def ref(kind: str, name: str, uid: str, api_version: str = "v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid}


def config_map(name: str, *refs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name, "ownerReferences": list(refs)}, "data": {"k": "v"}}


async def names(core: aclient.CoreV1Api) -> list[str]:
    cms = await core.list_namespaced_config_map("default")
    return [c.metadata.name for c in cms.items if c.metadata.name != "kube-root-ca.crt"]


async def test_dependent_of_a_missing_owner_is_deleted_and_one_live_owner_keeps_it() -> None:
    async with SimulatedCluster(seed=1, nodes=0) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        owner = await core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
        live = ref("ConfigMap", "owner", owner.metadata.uid)
        await core.create_namespaced_config_map(
            "default", config_map("orphan", ref("ConfigMap", "gone", MISSING_UID))
        )
        await core.create_namespaced_config_map(
            "default", config_map("kept", live, ref("ConfigMap", "gone", MISSING_UID))
        )
        await core.create_namespaced_config_map(
            "default",
            config_map(
                "blocking",
                {
                    **ref("ConfigMap", "gone", MISSING_UID),
                    "blockOwnerDeletion": True,
                    "controller": True,
                },
            ),
        )
        # Same name as a live owner, another uid: that owner is absent.
        await core.create_namespaced_config_map(
            "default", config_map("stale-uid", ref("ConfigMap", "owner", MISSING_UID))
        )
        assert "orphan" in await names(core)  # the check is asynchronous
        await sim.settle()
        assert await names(core) == ["kept", "owner"]


async def test_a_reference_changed_to_a_missing_owner_is_collected() -> None:
    async with SimulatedCluster(seed=2, nodes=0) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        owner = await core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
        await core.create_namespaced_config_map(
            "default", config_map("dep", ref("ConfigMap", "owner", owner.metadata.uid))
        )
        await sim.settle()
        assert await names(core) == ["dep", "owner"]
        dep = await core.read_namespaced_config_map("dep", "default")
        dep.metadata.owner_references = [ref("ConfigMap", "x", MISSING_UID)]
        await core.replace_namespaced_config_map("dep", "default", dep)
        await sim.settle()
        with pytest.raises(ApiException) as err:
            await core.read_namespaced_config_map("dep", "default")
        assert err.value.status == 404


async def test_owner_in_another_namespace_is_absent_and_unknown_kinds_keep_dependents() -> None:
    async with SimulatedCluster(seed=3, nodes=0) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        other = await core.create_namespaced_config_map("kube-system", {"metadata": {"name": "o"}})
        await core.create_namespaced_config_map(
            "default", config_map("cross", ref("ConfigMap", "o", other.metadata.uid))
        )
        await core.create_namespaced_config_map(
            "default", config_map("unknown", ref("Widget", "w", MISSING_UID, "example.com/v1"))
        )
        # A cluster-scoped dependent cannot have a namespaced owner: kept, with a warning.
        await core.create_namespace(
            {
                "metadata": {
                    "name": "ns1",
                    "ownerReferences": [ref("ConfigMap", "o", other.metadata.uid)],
                }
            }
        )
        await sim.settle()
        assert await names(core) == ["unknown"]
        await core.read_namespace("ns1")
        events = await core.list_namespaced_event("default")
        assert [e.reason for e in events.items] == ["OwnerRefInvalidNamespace"]


async def test_pods_of_a_deleted_replicaset_created_before_start_are_collected_on_start() -> None:
    sim = SimulatedCluster(seed=4)
    pod = {
        "metadata": {
            "name": "p",
            "ownerReferences": [ref("ReplicaSet", "rs", MISSING_UID, "apps/v1")],
        },
        "spec": {"containers": [{"name": "c", "image": "i:1"}]},
    }
    sim.api.create("pods", pod, "default")
    async with sim:
        await sim.settle()
        assert sim.api.list("pods", "default") == []
