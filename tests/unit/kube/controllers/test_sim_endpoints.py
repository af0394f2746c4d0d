"""Endpoints follow Services and their pods' readiness; ``default/kubernetes`` exists."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.aio import client as aclient
from kubernetes.aio.client.exceptions import ApiException

from fakes.kube.controllers.config import READY_SECONDS_ANNOTATION
from fakes.kube.simulation import SimulatedCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


def pod(name: str, app: str, node: str, ready_seconds: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app": app}}
    if ready_seconds is not None:
        meta["annotations"] = {READY_SECONDS_ANNOTATION: str(ready_seconds)}
    return {
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "containers": [
                {"name": "c", "image": "i:1", "ports": [{"name": "http", "containerPort": 8080}]}
            ],
        },
    }


def service(name: str, app: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"tier": "web"}},
        "spec": {
            "selector": {"app": app},
            "ports": [
                {"name": "web", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090},
            ],
        },
    }


def addresses(subsets: list[Any] | None, attr: str) -> list[tuple[str, str]]:
    return [
        (a.target_ref.name, a.node_name) for s in subsets or () for a in (getattr(s, attr) or ())
    ]


async def test_endpoints_follow_readiness_deletion_and_the_service() -> None:
    async with SimulatedCluster(seed=1) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        await core.create_namespaced_pod("default", pod("a", "web", "node-1"))
        await core.create_namespaced_pod("default", pod("b", "web", "node-2", ready_seconds=100))
        await core.create_namespaced_pod("default", pod("other", "db", "node-1"))
        await core.create_namespaced_service("default", service("web", "web"))
        await asyncio.sleep(30)
        ep = await core.read_namespaced_endpoints("web", "default")
        assert ep.metadata.labels == {"tier": "web"}
        assert not ep.metadata.owner_references
        [subset] = ep.subsets
        assert [(p.name, p.port, p.protocol) for p in subset.ports] == [
            ("metrics", 9090, "TCP"),
            ("web", 8080, "TCP"),
        ]
        assert addresses(ep.subsets, "addresses") == [("a", "node-1")]
        assert addresses(ep.subsets, "not_ready_addresses") == [("b", "node-2")]
        a = await core.read_namespaced_pod("a", "default")
        assert subset.addresses[0].ip == a.status.pod_ip
        assert subset.addresses[0].target_ref.uid == a.metadata.uid

        await sim.settle()  # b becomes Ready
        ep = await core.read_namespaced_endpoints("web", "default")
        assert addresses(ep.subsets, "addresses") == [("a", "node-1"), ("b", "node-2")]
        assert addresses(ep.subsets, "not_ready_addresses") == []

        await core.delete_namespaced_pod("a", "default")
        await sim.settle()
        ep = await core.read_namespaced_endpoints("web", "default")
        assert addresses(ep.subsets, "addresses") == [("b", "node-2")]

        await core.patch_namespaced_service("web", "default", {"spec": {"selector": {"app": "db"}}})
        await sim.settle()
        ep = await core.read_namespaced_endpoints("web", "default")
        assert addresses(ep.subsets, "addresses") == [("other", "node-1")]

        await core.delete_namespaced_service("web", "default")
        await sim.settle()
        with pytest.raises(ApiException) as err:
            await core.read_namespaced_endpoints("web", "default")
        assert err.value.status == 404


async def test_a_service_without_matching_pods_has_empty_endpoints_and_no_selector_none() -> None:
    async with SimulatedCluster(seed=2) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        await core.create_namespaced_service("default", service("lonely", "nobody"))
        await core.create_namespaced_service(
            "default", {"metadata": {"name": "manual"}, "spec": {"ports": [{"port": 80}]}}
        )
        await sim.settle()
        ep = await core.read_namespaced_endpoints("lonely", "default")
        assert ep.subsets is None
        names = [e.metadata.name for e in (await core.list_namespaced_endpoints("default")).items]
        assert names == ["kubernetes", "lonely"]


async def test_every_cluster_has_the_kubernetes_service_and_it_comes_back() -> None:
    async with SimulatedCluster(seed=3, nodes=0) as sim, sim.aio_api_client() as api_client:
        core = aclient.CoreV1Api(api_client)
        await sim.settle()
        svc = await core.read_namespaced_service("kubernetes", "default")
        assert svc.spec.cluster_ip == "10.96.0.1"
        assert [(p.name, p.port, p.target_port) for p in svc.spec.ports] == [("https", 443, 6443)]
        ep = await core.read_namespaced_endpoints("kubernetes", "default")
        [subset] = ep.subsets
        assert [a.ip for a in subset.addresses] == ["172.18.0.1"]
        assert [(p.name, p.port) for p in subset.ports] == [("https", 6443)]
        # kubectl describe svc reads the EndpointSlice the API server keeps too.
        discovery = aclient.DiscoveryV1Api(api_client)
        [slice_obj] = (
            await discovery.list_namespaced_endpoint_slice(
                "default", label_selector="kubernetes.io/service-name=kubernetes"
            )
        ).items
        assert [e.addresses for e in slice_obj.endpoints] == [["172.18.0.1"]]
        assert [(p.name, p.port) for p in slice_obj.ports] == [("https", 6443)]
        await discovery.delete_namespaced_endpoint_slice("kubernetes", "default")
        await core.delete_namespaced_service("kubernetes", "default")
        await sim.settle()
        await core.read_namespaced_service("kubernetes", "default")
        await core.read_namespaced_endpoints("kubernetes", "default")
        await discovery.read_namespaced_endpoint_slice("kubernetes", "default")
