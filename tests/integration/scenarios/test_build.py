"""Building each profile under virtual time: what settles, what does not, and why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from kubernetes.aio import client as aclient
from kubernetes.aio.client.exceptions import ApiException

from scenarios import ProfileError, build_cluster, load_profile
from tests.integration.scenarios.conftest import live, ready

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

EVERYTHING_RUNS = [
    "BasicDevelopment",
    "HighLoadProduction",
    "DisasterRecovery",
    "FlakyControlPlane",
    "MultiTenantDevelopment",
    "MonitoringStack",
]


@pytest.mark.parametrize("name", EVERYTHING_RUNS)
@pytest.mark.parametrize("mode", ["settled", "controllers"])
async def test_profile_settles_with_every_pod_running_and_ready(name: str, mode: str) -> None:
    profile = load_profile(name)
    sim = await build_cluster(profile, mode=mode)  # type: ignore[arg-type]
    try:
        expected = {
            (ns, d): spec.replicas
            for ns, nsspec in profile.cluster.namespaces.items()
            for d, spec in nsspec.deployments.items()
        }
        pods = sim.api.list("pods")
        assert len(pods) == sum(expected.values())
        assert all(p["status"]["phase"] == "Running" and ready(p) for p in pods)
        assert {p["spec"]["nodeName"] for p in pods} <= set(sim.node_names)
        for (ns, d), count in expected.items():
            status = sim.api.get("deployments", d, ns)["status"]
            assert status.get("readyReplicas", 0) == count, (ns, d)
        for ns, nsspec in profile.cluster.namespaces.items():
            if nsspec.quota is not None:
                [quota] = sim.api.list("resourcequotas", ns)
                assert quota["status"]["used"]["pods"] == str(
                    sum(c for (n, _), c in expected.items() if n == ns)
                )
    finally:
        await sim.stop()


async def test_high_load_production_objects_are_there_for_the_actions() -> None:
    sim = await build_cluster(load_profile("HighLoadProduction"))
    try:
        nodes = sim.api.list("nodes")
        assert [n["status"]["allocatable"]["cpu"] for n in nodes] == ["4", "4", "4"]
        assert all(
            n["metadata"]["labels"]["topology.kubernetes.io/zone"] == "us-east-1a" for n in nodes
        )
        assert {
            h["metadata"]["name"] for h in sim.api.list("horizontalpodautoscalers", "default")
        } == {
            "api-gateway",
            "user-service",
            "order-processing-service",
        }
        assert len(sim.api.list("poddisruptionbudgets", "default")) == 5
        assert len(sim.api.list("services", "default")) >= 5
        pdb = sim.api.get("poddisruptionbudgets", "api-gateway", "default")
        assert pdb["status"]["currentHealthy"] == 5
        assert pdb["status"]["disruptionsAllowed"] == 2
        for ns in ("default", "kubernaut", "workflows"):
            [limits] = sim.api.list("limitranges", ns)
            assert limits["spec"]["limits"][0]["defaultRequest"] == {
                "cpu": "100m",
                "memory": "128Mi",
            }
        # Through the official asyncio client, as the engine's actions will read it.
        async with sim.aio_api_client() as api_client:
            apps = aclient.AppsV1Api(api_client)
            d = await apps.read_namespaced_deployment("user-service", "default")
            assert d.status.ready_replicas == 8
    finally:
        await sim.stop()


async def test_resource_constrained_refuses_past_quota_and_leaves_unschedulable_pending() -> None:
    sim = await build_cluster(load_profile("ResourceConstrained"))
    try:
        default = sim.api.list("pods", "default")
        assert len(default) == 5  # quota: 5 pods, 500m
        assert all(p["status"]["phase"] == "Running" and ready(p) for p in default)
        refused = [e for e in sim.api.list("events", "default") if e["reason"] == "FailedCreate"]
        assert refused
        assert "exceeded quota: quota" in refused[0]["message"]
        [quota] = sim.api.list("resourcequotas", "default")
        assert quota["status"]["used"]["requests.cpu"] == "500m"
        [report] = sim.api.list("pods", "batch")
        assert report["status"]["phase"] == "Pending"
        assert "nodeName" not in report["spec"]
        scheduling = [
            e for e in sim.api.list("events", "batch") if e["reason"] == "FailedScheduling"
        ]
        assert scheduling
        assert "Insufficient cpu" in scheduling[0]["message"]
        agents = sim.api.list("pods", "system-services")
        assert len({p["spec"]["nodeName"] for p in agents}) == 2
    finally:
        await sim.stop()


async def test_disaster_recovery_loses_its_last_node_on_time_and_replaces_its_pods() -> None:
    sim = await build_cluster(load_profile("DisasterRecovery"))
    loop = asyncio.get_running_loop()
    try:
        victim = sim.node("last")
        assert victim == "prod-node-3"
        on_victim = {
            p["metadata"]["name"]
            for p in sim.api.list("pods", "default", field_selector=f"spec.nodeName={victim}")
        }
        assert on_victim
        await asyncio.sleep(sim.t0 + 119 - loop.time())
        assert not sim.fired
        await asyncio.sleep(2)
        [(when, event)] = sim.fired
        assert when == pytest.approx(sim.t0 + 120)
        assert event.event == "NotReady"
        node = sim.api.get("nodes", victim)
        ready_condition = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready_condition["status"] == "Unknown"
        await sim.settle()
        assert loop.time() >= sim.t0 + 120 + 60  # the profile's eviction grace
        pods = live(sim.api.list("pods", "default"))
        assert len(pods) == 25
        assert all(p["spec"]["nodeName"] != victim and ready(p) for p in pods)
        assert not on_victim & {p["metadata"]["name"] for p in pods}
        for d in ("api-gateway", "user-service", "order-processing-service"):
            status = sim.api.get("deployments", d, "default")["status"]
            assert status["readyReplicas"] == status["replicas"]
    finally:
        await sim.stop()


async def test_timed_events_are_cancelled_when_the_cluster_stops() -> None:
    sim = await build_cluster(load_profile("DisasterRecovery"))
    await sim.stop()
    await asyncio.sleep(200)
    assert not sim.fired


async def test_flaky_control_plane_injects_429s_500s_and_latency_through_the_client() -> None:
    sim = await build_cluster(load_profile("FlakyControlPlane"))
    loop = asyncio.get_running_loop()
    statuses: dict[int, int] = {}
    retry_after: set[str] = set()
    try:
        async with sim.aio_api_client() as api_client:
            core = aclient.CoreV1Api(api_client)
            started = loop.time()
            for i in range(60):
                try:
                    await core.list_namespaced_pod("default")
                    await core.create_namespaced_config_map(
                        "kubernaut", {"metadata": {"name": f"cm-{i}"}, "data": {"k": "v"}}
                    )
                except ApiException as exc:
                    statuses[exc.status] = statuses.get(exc.status, 0) + 1
                    if exc.status == 429:
                        retry_after.add(exc.headers["Retry-After"])
            elapsed = loop.time() - started
    finally:
        await sim.stop()
    assert statuses.get(429)
    assert statuses.get(500)
    assert retry_after == {"1"}
    assert elapsed > 120 * 0.02  # every request paid the slow-api latency
    injected = sim.faults.actions(injected=True)
    assert {a.status for a in injected} >= {429, 500}


async def test_faults_do_not_slow_down_building_the_cluster() -> None:
    sim = await build_cluster(load_profile("FlakyControlPlane"))
    try:
        assert asyncio.get_running_loop().time() - sim.t0 < 1
        assert len(sim.faults.rules) == 5
    finally:
        await sim.stop()


async def test_a_scaled_down_large_cluster_builds_through_an_override(tmp_path: Path) -> None:
    path = tmp_path / "SmallLarge.yaml"
    path.write_text(
        """\
name: SmallLarge
extends: LargeCluster
cluster:
  node_pools:
    zone-a: {count: 20}
    zone-b: {count: 20}
    zone-c: {count: 20}
  namespaces:
    team-01: {deployments: {frontend: {replicas: 30}}}
    team-02: null
    team-03: null
    team-04: null
    team-05: null
    team-06: null
    team-07: null
    team-08: null
    team-09: null
    team-10: null
"""
    )
    sim = await build_cluster(load_profile(path))
    try:
        assert len(sim.api.list("nodes")) == 60
        pods = sim.api.list("pods", "team-01")
        assert len(pods) == 30 + 9 * 300
        assert all(ready(p) for p in pods)
        zones = {
            n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in sim.api.list("nodes")
        }
        assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}
    finally:
        await sim.stop()


async def test_settled_mode_refuses_workloads_over_quota_up_front(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="mode 'settled' writes every pod without admission"):
        await build_cluster(load_profile("ResourceConstrained"), mode="settled")


@pytest.mark.slow
async def test_large_cluster_builds_a_thousand_nodes_and_thirty_thousand_ready_pods() -> None:
    sim = await build_cluster(load_profile("LargeCluster"))
    try:
        assert len(sim.node_names) == 1002
        # Counted from the store: decoding 30,000 pods would cost more than building them.
        stored = list(sim.store.select(sim.api.registry.resolve("pods")))
        assert len({(s.namespace, s.name) for s in stored}) == 30_000
        deployments = sim.api.list("deployments")
        assert len(deployments) == 100
        assert all(d["status"]["readyReplicas"] == 300 for d in deployments)
        sample = sim.api.list("pods", "team-07", label_selector="app=checkout")
        assert len(sample) == 300
        assert all(p["status"]["phase"] == "Running" and ready(p) for p in sample)
    finally:
        await sim.stop()
