"""Each selector Service gets one EndpointSlice that follows its pods, as kubectl reads it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient

from fakes.kube.simulation import SimulatedCluster
from tests.unit.kube.controllers.test_sim_endpoints import pod, service

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

SELECTOR = "kubernetes.io/service-name=web"


def summary(endpoints: list[Any] | None) -> list[tuple[str, str, bool, bool, bool]]:
    return [
        (
            e.target_ref.name,
            e.node_name,
            e.conditions.ready,
            e.conditions.serving,
            e.conditions.terminating,
        )
        for e in endpoints or ()
    ]


async def test_the_slice_follows_readiness_and_goes_with_the_service() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        discovery = aclient.DiscoveryV1Api(api_client)
        await core.create_namespaced_pod("default", pod("a", "web", "node-1"))
        await core.create_namespaced_pod("default", pod("b", "web", "node-2", ready_seconds=100))
        svc = await core.create_namespaced_service("default", service("web", "web"))
        await asyncio.sleep(30)
        [es] = (
            await discovery.list_namespaced_endpoint_slice("default", label_selector=SELECTOR)
        ).items
        assert es.metadata.name.startswith("web-")
        assert len(es.metadata.name) == len("web-") + 5
        assert es.metadata.generate_name == "web-"
        assert es.metadata.labels == {
            "tier": "web",
            "kubernetes.io/service-name": "web",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }
        [owner] = es.metadata.owner_references
        assert (owner.kind, owner.name, owner.uid) == ("Service", "web", svc.metadata.uid)
        assert owner.controller
        assert owner.block_owner_deletion
        assert es.address_type == "IPv4"
        assert [(p.name, p.port, p.protocol) for p in es.ports] == [
            ("metrics", 9090, "TCP"),
            ("web", 8080, "TCP"),
        ]
        assert summary(es.endpoints) == [
            ("a", "node-1", True, True, False),
            ("b", "node-2", False, False, False),
        ]
        a = await core.read_namespaced_pod("a", "default")
        assert es.endpoints[0].addresses == [a.status.pod_ip]
        assert es.endpoints[0].target_ref.uid == a.metadata.uid

        await sim.settle()  # b becomes Ready
        [es] = (
            await discovery.list_namespaced_endpoint_slice("default", label_selector=SELECTOR)
        ).items
        assert summary(es.endpoints) == [
            ("a", "node-1", True, True, False),
            ("b", "node-2", True, True, False),
        ]

        await core.delete_namespaced_service("web", "default")
        await sim.settle()
        found = await discovery.list_namespaced_endpoint_slice("default", label_selector=SELECTOR)
        assert found.items == []


async def test_an_unnamed_port_is_named_empty_and_a_deleted_slice_comes_back() -> None:
    async with SimulatedCluster(seed=2) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        discovery = aclient.DiscoveryV1Api(api_client)
        await core.create_namespaced_service(
            "default",
            {
                "metadata": {"name": "web"},
                "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]},
            },
        )
        await sim.settle()
        [es] = (
            await discovery.list_namespaced_endpoint_slice("default", label_selector=SELECTOR)
        ).items
        assert es.endpoints == []
        body = sim.api.get("endpointslices", es.metadata.name, "default")
        assert "status" not in body
        assert "ports" not in body
        await core.create_namespaced_pod("default", pod("a", "none", "node-1"))
        await sim.settle()
        [es] = (
            await discovery.list_namespaced_endpoint_slice("default", label_selector=SELECTOR)
        ).items
        assert [(p.name, p.port) for p in es.ports] == [("", 80)]
        await discovery.delete_namespaced_endpoint_slice(es.metadata.name, "default")
        await sim.settle()
        [again] = (
            await discovery.list_namespaced_endpoint_slice("default", label_selector=SELECTOR)
        ).items
        assert again.metadata.name != es.metadata.name
        assert summary(again.endpoints) == [("a", "node-1", True, True, False)]


async def test_endpoints_and_slices_have_no_status() -> None:
    async with SimulatedCluster(seed=3) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        await core.create_namespaced_service("default", service("web", "web"))
        await core.create_namespaced_endpoints(
            "default",
            {"metadata": {"name": "manual"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]},
            field_manager="me",
        )
        await sim.settle()
        assert "status" not in sim.api.get("endpoints", "web", "default")
        slices = sim.api.list("endpointslices", "default")
        assert sorted(es["metadata"]["labels"]["kubernetes.io/service-name"] for es in slices) == [
            "kubernetes",
            "web",
        ]
        assert all("status" not in es for es in slices)
        manual = sim.api.get("endpoints", "manual", "default")
        assert "status" not in manual
        [entry] = manual["metadata"]["managedFields"]
        assert "f:status" not in entry["fieldsV1"]
