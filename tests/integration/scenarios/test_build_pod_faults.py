"""Image and probe faults written in a profile, built under virtual time."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from scenarios import ProfileError, build_cluster, load_profile
from tests.integration.scenarios.conftest import live, ready

virtual_time = pytest.mark.looptime

PROFILE = """\
name: PodFaults
seed: 3
cluster:
  node_pools:
    pool: {count: 2, cpu: "4", memory: 8Gi, pods: 50}
  images:
    unpullable: ["*:broken"]
    unpullable_regex: ['registry\\.example/private/.*']
  probe_failures:
    - {probe: readiness, namespace: default, deployment: api, share: 0.5}
    - {probe: liveness, deployment: worker, message: "dial tcp: i/o timeout"}
  namespaces:
    default:
      deployments:
        api:
          replicas: 6
          image: registry.example/api:1.0
          port: 8080
          readiness_probe: {initial_delay_seconds: 5, period_seconds: 5}
        web:
          replicas: 2
          image: nginx:broken
          progress_deadline_seconds: 60
        private:
          replicas: 1
          image: registry.example/private/app:1
        worker:
          replicas: 1
          liveness_probe: {type: tcp, port: 9000, period_seconds: 5, failure_threshold: 2}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "PodFaults.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.asyncio
@virtual_time
async def test_profile_pod_faults_shape_the_built_cluster(tmp_path: Path) -> None:
    sim = await build_cluster(load_profile(write(tmp_path, PROFILE)))
    try:
        d = sim.api.get("deployments", "api", "default")
        probe = d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert probe == {
            "httpGet": {"path": "/healthz", "port": 8080},
            "initialDelaySeconds": 5,
            "periodSeconds": 5,
        }
        api = live(sim.api.list("pods", "default", label_selector="app=api"))
        assert all(p["status"]["phase"] == "Running" for p in api)
        unready = [p for p in api if not ready(p)]
        assert 0 < len(unready) < 6
        assert d["status"]["readyReplicas"] == 6 - len(unready)
        for app in ("web", "private"):
            pods = live(sim.api.list("pods", "default", label_selector=f"app={app}"))
            assert {p["status"]["phase"] for p in pods} == {"Pending"}
        await asyncio.sleep(70)
        web = sim.api.get("deployments", "web", "default")
        progressing = next(c for c in web["status"]["conditions"] if c["type"] == "Progressing")
        assert progressing["reason"] == "ProgressDeadlineExceeded"
        (worker,) = live(sim.api.list("pods", "default", label_selector="app=worker"))
        assert worker["status"]["containerStatuses"][0]["restartCount"] >= 1
        messages = {
            e["message"]
            for e in sim.api.list("events", "default")
            if e["involvedObject"]["name"] == worker["metadata"]["name"]
        }
        assert "Liveness probe failed: dial tcp: i/o timeout" in messages
        sim.images.pullable("nginx:broken")
        sim.probes.clear()
        await asyncio.sleep(320)
        await sim.settle()
        assert sim.api.get("deployments", "web", "default")["status"]["readyReplicas"] == 2
        assert sim.api.get("deployments", "api", "default")["status"]["readyReplicas"] == 6
    finally:
        await sim.stop()


@pytest.mark.asyncio
@virtual_time
async def test_the_same_seed_fails_the_same_pods(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, PROFILE))

    async def unready() -> set[str]:
        sim = await build_cluster(profile)
        try:
            pods = live(sim.api.list("pods", "default", label_selector="app=api"))
            return {p["metadata"]["name"] for p in pods if not ready(p)}
        finally:
            await sim.stop()

    assert await unready() == await unready()


def test_a_bad_image_pattern_or_probe_failure_is_reported_at_its_line(tmp_path: Path) -> None:
    text = PROFILE.replace("'registry\\.example/private/.*'", "'registry(unclosed'").replace(
        "probe: liveness", "probe: startup"
    )
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, text))
    problems = "\n".join(str(p) for p in info.value.problems)
    assert "PodFaults.yaml:8" in problems
    assert "is not a regular expression" in problems
    assert "PodFaults.yaml:11" in problems
    assert "'readiness' or 'liveness'" in problems
