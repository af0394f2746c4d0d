"""StatefulSets, DaemonSets, Jobs and namespaces under virtual time."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.controllers.config import EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION
from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
]


def template(
    app: str, annotations: dict[str, str] | None = None, restart: str | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": {"app": app}}
    if annotations:
        meta["annotations"] = annotations
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "img:1"}]}
    if restart:
        spec["restartPolicy"] = restart
    return {"metadata": meta, "spec": spec}


async def test_statefulset_creates_ordinals_in_order_and_scales_down_from_the_top() -> None:
    async with SimulatedCluster(seed=1) as sim:
        sim.api.create(
            "statefulsets",
            {
                "metadata": {"name": "db"},
                "spec": {
                    "replicas": 3,
                    "serviceName": "db",
                    "selector": {"matchLabels": {"app": "db"}},
                    "template": template("db"),
                },
            },
            "default",
        )
        await sim.settle()
        pods = sim.api.list("pods", "default")
        assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1", "db-2"]
        created = [p["metadata"]["creationTimestamp"] for p in pods]
        assert created == sorted(created)
        assert created[0] < created[2]
        status = sim.api.get("statefulsets", "db", "default")["status"]
        assert (status["replicas"], status["readyReplicas"], status["updatedReplicas"]) == (3, 3, 3)
        sim.api.patch("statefulsets", "db", {"spec": {"replicas": 1}}, "default")
        await sim.settle()
        assert [p["metadata"]["name"] for p in sim.api.list("pods", "default")] == ["db-0"]


async def test_statefulset_rolling_update_replaces_every_pod() -> None:
    async with SimulatedCluster(seed=2) as sim:
        sim.api.create(
            "statefulsets",
            {
                "metadata": {"name": "kv"},
                "spec": {
                    "replicas": 2,
                    "serviceName": "kv",
                    "selector": {"matchLabels": {"app": "kv"}},
                    "template": template("kv"),
                },
            },
            "default",
        )
        await sim.settle()
        sim.api.patch(
            "statefulsets",
            "kv",
            {"spec": {"template": {"metadata": {"annotations": {"v": "2"}}}}},
            "default",
        )
        await sim.settle()
        status = sim.api.get("statefulsets", "kv", "default")["status"]
        assert status["updatedReplicas"] == 2
        assert status["currentRevision"] == status["updateRevision"]
        pods = sim.api.list("pods", "default")
        assert {p["metadata"]["annotations"]["v"] for p in pods} == {"2"}


async def test_daemonset_runs_one_pod_per_schedulable_node() -> None:
    async with SimulatedCluster(seed=3) as sim:
        sim.api.create(
            "daemonsets",
            {
                "metadata": {"name": "agent"},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "template": template("agent"),
                },
            },
            "default",
        )
        await sim.settle()
        assert sorted(p["spec"]["nodeName"] for p in sim.api.list("pods", "default")) == [
            "node-1",
            "node-2",
            "node-3",
        ]
        sim.add_node("node-4")
        await sim.settle()
        status = sim.api.get("daemonsets", "agent", "default")["status"]
        assert (status["desiredNumberScheduled"], status["numberReady"]) == (4, 4)


async def test_job_runs_to_completion() -> None:
    async with SimulatedCluster(seed=4) as sim:
        sim.api.create(
            "jobs",
            {
                "metadata": {"name": "migrate"},
                "spec": {
                    "completions": 3,
                    "parallelism": 2,
                    "template": template(
                        "migrate", {RUN_SECONDS_ANNOTATION: "10"}, restart="Never"
                    ),
                },
            },
            "default",
        )
        await sim.settle()
        job = sim.api.get("jobs", "migrate", "default")
        assert job["status"]["succeeded"] == 3
        assert {c["type"] for c in job["status"]["conditions"]} >= {"Complete"}
        assert all(p["status"]["phase"] == "Succeeded" for p in sim.api.list("pods", "default"))


async def test_job_fails_after_backoff_limit() -> None:
    async with SimulatedCluster(seed=5) as sim:
        sim.api.create(
            "jobs",
            {
                "metadata": {"name": "broken"},
                "spec": {
                    "backoffLimit": 1,
                    "template": template("broken", {EXIT_CODE_ANNOTATION: "2"}, restart="Never"),
                },
            },
            "default",
        )
        await sim.settle()
        job = sim.api.get("jobs", "broken", "default")
        failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
        assert failed["reason"] == "BackoffLimitExceeded"
        assert job["status"]["failed"] == 2


async def test_namespaces_get_a_default_service_account_and_delete_their_content() -> None:
    async with SimulatedCluster(seed=6) as sim:
        sim.api.create("namespaces", {"metadata": {"name": "team"}})
        await sim.settle()
        assert sim.api.get("serviceaccounts", "default", "team")
        sim.api.create(
            "deployments",
            {
                "metadata": {"name": "w"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "w"}},
                    "template": template("w"),
                },
            },
            "team",
        )
        await sim.settle()
        assert len(sim.api.list("pods", "team")) == 2
        sim.api.delete("namespaces", "team")
        await sim.settle()
        assert [
            n["metadata"]["name"]
            for n in sim.api.list("namespaces")
            if n["metadata"]["name"] == "team"
        ] == []
        assert sim.api.list("pods", "team") == []
