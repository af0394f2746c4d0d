"""Pod creation refused by a ResourceQuota: DaemonSet, Job and StatefulSet say so and settle."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.simulation import SimulatedCluster

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.looptime,
]

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "x"}},
    "spec": {"containers": [{"name": "c", "image": "img:1"}]},
}


def _quota(sim: SimulatedCluster) -> None:
    sim.api.create("namespaces", {"metadata": {"name": "q"}})
    sim.api.create(
        "resourcequotas", {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1"}}}, "q"
    )


def _warnings(sim: SimulatedCluster, name: str) -> list[tuple[str, str]]:
    return [
        (e["reason"], e["message"])
        for e in sim.api.list("events", "q")
        if e["type"] == "Warning" and e["involvedObject"]["name"] == name
    ]


async def test_daemonset_refused_by_quota_records_failed_create_and_settles() -> None:
    async with SimulatedCluster(seed=21) as sim:
        _quota(sim)
        sim.api.create(
            "daemonsets",
            {
                "metadata": {"name": "d"},
                "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE},
            },
            "q",
        )
        await sim.settle()
        assert len(sim.api.list("pods", "q")) == 1
        status = sim.api.get("daemonsets", "d", "q")["status"]
        assert (status["desiredNumberScheduled"], status["currentNumberScheduled"]) == (3, 1)
        warnings = _warnings(sim, "d")
        assert warnings
        assert all(r == "FailedCreate" for r, _ in warnings)
        assert warnings[0][1].startswith("Error creating: ")
        assert "exceeded quota" in warnings[0][1]


async def test_job_refused_by_quota_records_failed_create_and_settles() -> None:
    async with SimulatedCluster(seed=22) as sim:
        _quota(sim)
        template = {**TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}
        sim.api.create(
            "jobs",
            {
                "metadata": {"name": "j"},
                "spec": {"parallelism": 2, "completions": 2, "template": template},
            },
            "q",
        )
        await sim.settle()
        warnings = _warnings(sim, "j")
        assert warnings
        assert warnings[0][0] == "FailedCreate"
        assert warnings[0][1].startswith("Error creating: ")
        assert sim.api.get("jobs", "j", "q")["status"]["startTime"]


async def test_statefulset_refused_by_quota_records_failed_create_and_settles() -> None:
    async with SimulatedCluster(seed=23) as sim:
        _quota(sim)
        sim.api.create(
            "statefulsets",
            {
                "metadata": {"name": "s"},
                "spec": {
                    "replicas": 3,
                    "serviceName": "s",
                    "selector": {"matchLabels": {"app": "x"}},
                    "template": TEMPLATE,
                },
            },
            "q",
        )
        await sim.settle()
        assert [p["metadata"]["name"] for p in sim.api.list("pods", "q")] == ["s-0"]
        assert sim.api.get("statefulsets", "s", "q")["status"]["replicas"] == 1
        warnings = _warnings(sim, "s")
        assert warnings
        assert warnings[0][0] == "FailedCreate"
        assert warnings[0][1].startswith("create Pod s-1 in StatefulSet s failed error: ")
