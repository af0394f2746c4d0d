"""The shipped profiles and blocks: each resolves, and says what the issue asks of it."""

from __future__ import annotations

import pytest

from engine.template import RetryPolicy, StepSpec, WorkflowTemplate
from scenarios import engine_settings, list_profiles, load_profile, profile_path
from scenarios.blocks import BlockLibrary, shipped_blocks_dir
from scenarios.builder import fault_rule
from scenarios.checks import node_names
from scenarios.schema import ResourceBlock, WorkloadBlock

REQUIRED = {
    "BasicDevelopment",
    "HighLoadProduction",
    "ResourceConstrained",
    "DisasterRecovery",
    "MultiTenantDevelopment",
    "MonitoringStack",
    "FlakyControlPlane",
    "LargeCluster",
}


def replicas(name: str, namespace: str) -> dict[str, int]:
    ns = load_profile(name).cluster.namespaces[namespace]
    return {d: spec.replicas for d, spec in ns.deployments.items()}


def test_every_required_profile_ships() -> None:
    assert set(list_profiles()) >= REQUIRED


@pytest.mark.parametrize("name", list_profiles())
def test_every_shipped_profile_resolves_under_its_file_name(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile_path(name).stem == name
    assert profile.description
    assert profile.cluster.node_pools


def test_every_shipped_block_validates() -> None:
    library = BlockLibrary([shipped_blocks_dir()])
    kinds = {name: type(library.get(name)[0]) for name in library.names()}  # type: ignore[index]
    for name in (
        "ProductionResourceLimits",
        "DevelopmentResources",
        "GPUAcceleratedNodes",
        "HighMemoryNodes",
    ):
        assert kinds[name] is ResourceBlock
    for name in ("HighThroughputServices", "WebApplicationStack", "MonitoringWorkload"):
        assert kinds[name] is WorkloadBlock


def test_high_load_production_has_three_production_nodes_and_three_quotaed_namespaces() -> None:
    profile = load_profile("HighLoadProduction")
    assert node_names(profile) == ["prod-node-1", "prod-node-2", "prod-node-3"]
    pool = profile.cluster.node_pools["production"]
    assert (pool.cpu, pool.memory, pool.pods) == ("4", "8Gi", 50)
    assert set(profile.cluster.namespaces) == {"default", "kubernaut", "workflows"}
    for ns in profile.cluster.namespaces.values():
        assert ns.quota is not None
        assert ns.quota.hard() == {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "50"}
    assert replicas("HighLoadProduction", "default") == {
        "api-gateway": 5,
        "user-service": 8,
        "order-processing-service": 6,
        "redis-cache": 3,
        "message-queue": 3,
    }
    default = profile.cluster.namespaces["default"].deployments
    assert {n for n, d in default.items() if d.hpa} == {
        "api-gateway",
        "user-service",
        "order-processing-service",
    }


def test_workload_blocks_have_the_listed_replicas() -> None:
    assert replicas("BasicDevelopment", "default") == {
        "web-frontend": 3,
        "api-backend": 4,
        "database": 1,
        "cache": 2,
    }
    monitoring = load_profile("MonitoringStack").cluster.namespaces["monitoring"]
    assert {d: s.replicas for d, s in monitoring.deployments.items()} == {
        "prometheus": 2,
        "grafana": 1,
        "alertmanager": 2,
        "node-exporter": 3,
    }
    assert {"prometheus-config", "alertmanager-config", "grafana-datasources"} <= set(
        monitoring.config_maps
    )


def test_derived_profiles_keep_their_base_and_add_to_it() -> None:
    base = load_profile("HighLoadProduction")
    dr = load_profile("DisasterRecovery")
    assert dr.extends == "HighLoadProduction"
    assert dr.cluster.namespaces == base.cluster.namespaces
    assert [(e.at, e.node, e.event) for e in dr.cluster.events] == [(120, "last", "NotReady")]
    flaky = load_profile("FlakyControlPlane")
    assert flaky.cluster.node_pools == base.cluster.node_pools
    assert {f.error for f in flaky.faults} >= {429, 500}
    assert any(f.latency for f in flaky.faults)


def test_resource_constrained_and_multi_tenant_quotas() -> None:
    rc = load_profile("ResourceConstrained").cluster.namespaces["default"]
    assert rc.quota is not None
    assert rc.quota.hard() == {"requests.cpu": "500m", "requests.memory": "1Gi", "pods": "5"}
    mt = load_profile("MultiTenantDevelopment")
    assert len(node_names(mt)) == 5
    tenants = [n for n in mt.cluster.namespaces if n.startswith("tenant-")]
    assert len(tenants) >= 3
    quotas = [mt.cluster.namespaces[t].quota for t in tenants]
    assert all(quotas)
    assert len({q.hard()["requests.cpu"] for q in quotas if q}) == len(tenants)


def test_large_cluster_is_at_least_a_thousand_nodes_and_thirty_thousand_pods() -> None:
    profile = load_profile("LargeCluster")
    assert profile.cluster.mode == "settled"
    assert len(node_names(profile)) >= 1000
    pods = sum(
        d.replicas for ns in profile.cluster.namespaces.values() for d in ns.deployments.values()
    )
    assert pods >= 30_000


def test_engine_settings_give_engine_kwargs_and_template_defaults() -> None:
    setup = engine_settings(load_profile("HighLoadProduction"))
    assert setup.engine_kwargs() == {"max_concurrency": 200, "seed": 42}
    assert setup.store == "memory"
    bare = WorkflowTemplate(name="t", steps=(StepSpec(id="a", action="noop"),))
    applied = setup.apply_defaults(bare)
    assert applied.retry == setup.default_retry
    assert applied.retry.max_attempts == 3
    assert applied.timeout == 600
    assert applied.steps[0].timeout == 60
    own = WorkflowTemplate(
        name="t",
        retry=RetryPolicy(max_attempts=7),
        timeout=5,
        steps=(StepSpec(id="a", action="noop", timeout=2),),
    )
    kept = setup.apply_defaults(own)
    assert (kept.retry.max_attempts, kept.timeout, kept.steps[0].timeout) == (7, 5, 2)


def test_profile_faults_become_fault_injector_rules_on_the_timeline() -> None:
    faults = {f.label: f for f in load_profile("FlakyControlPlane").faults}
    throttle = fault_rule(faults["throttling"], t0=10.0)
    assert throttle.error == 429
    assert throttle.retry_after == 1
    assert throttle.verb == ("get", "list")
    outage = fault_rule(faults["apiserver-restart"], t0=10.0)
    assert (outage.start, outage.end) == (310.0, 330.0)
