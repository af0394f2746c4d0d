"""The pure parts of image and probe faults: pattern matching, back-off, probe timing."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.controllers.containers import go_duration
from fakes.kube.controllers.images import ImageRule, Images, PullBackoff, qualified
from fakes.kube.controllers.probes import ProbeFailure, ProbeFaults, ProbeTiming


@pytest.mark.parametrize(
    ("image", "full"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
        ("registry.example/app:1.0", "registry.example/app:1.0"),
        ("localhost/app", "localhost/app:latest"),
        ("registry.example:5000/team/app@sha256:abc", "registry.example:5000/team/app@sha256:abc"),
    ],
)
def test_references_are_qualified_as_containerd_reports_them(image: str, full: str) -> None:
    assert qualified(image) == full


def test_globs_and_regexes_match_the_reference_as_written_or_qualified() -> None:
    broken = ImageRule("*:broken")
    assert broken.matches("nginx:broken")
    assert broken.matches("registry.example/team/app:broken")
    assert not broken.matches("nginx:broken-not")
    library = ImageRule("docker.io/library/nginx:*")
    assert library.matches("nginx:1.25")
    assert not library.matches("bitnami/nginx:1.25")
    private = ImageRule(r"registry\.example/private/.+:v0\.\d+", regex=True)
    assert private.matches("registry.example/private/app:v0.3")
    assert not private.matches("registry.example/private/app:v1.0")
    with pytest.raises(ValueError, match="is not a valid regex"):
        ImageRule("(", regex=True)


def test_making_an_image_pullable_removes_the_rules_that_refuse_it() -> None:
    images = Images([])
    images.unpullable("*:broken")
    images.unpullable("nginx:old", message="pull access denied")
    assert images.refusal("nginx:old") == "pull access denied"
    assert images.refusal("redis:broken") is not None
    assert images.refusal("nginx:1.25") is None
    images.pullable("nginx:broken")
    assert images.refusal("redis:broken") is None
    assert images.refusal("nginx:old") == "pull access denied"


def test_pull_back_off_doubles_from_ten_seconds_to_five_minutes() -> None:
    backoff = PullBackoff()
    now, delays = 0.0, []
    for _ in range(8):
        delay = backoff.failed("uid_nginx:broken", now)
        delays.append(delay)
        assert backoff.retry_at("uid_nginx:broken") == now + delay
        now += delay
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]
    # Idle for more than twice the cap: the back-off starts over.
    assert backoff.failed("uid_nginx:broken", now + 601) == 10
    backoff.forget("uid_")
    assert backoff.retry_at("uid_nginx:broken") is None


def test_probe_timing_follows_the_prober_worker() -> None:
    defaults = ProbeTiming.of({})
    assert defaults == ProbeTiming(0.0, 10.0, 1, 3)
    assert defaults.passes_at(100.0, 100.0) == 100.0  # the first probe runs at start
    assert defaults.fails_at(100.0, 100.0) == 120.0  # the third failure
    delayed = ProbeTiming.of({"initialDelaySeconds": 15, "periodSeconds": 10})
    assert delayed.passes_at(0.0, 0.0) == 20.0  # ticks at 0 and 10 are skipped
    assert delayed.passes_at(0.0, 33.0) == 40.0  # passing from 33: the next tick
    assert delayed.fails_at(0.0, 41.0) == 70.0  # failures at 50, 60, 70
    assert ProbeTiming.of({"successThreshold": 2, "periodSeconds": 5}).passes_at(0, 0) == 5.0
    assert ProbeTiming.of({"periodSeconds": 0, "failureThreshold": -1}) == defaults


@pytest.mark.parametrize(
    ("seconds", "text"), [(10, "10s"), (20, "20s"), (80, "1m20s"), (300, "5m0s"), (3700, "1h1m40s")]
)
def test_back_off_durations_print_as_go_does(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def pod(name: str, rs: str = "", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "labels": labels}
    if rs:
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "name": rs, "controller": True}]
    return {"metadata": meta, "spec": {"containers": []}}


def test_a_probe_failure_selects_a_deployments_pods_by_their_replica_set() -> None:
    rule = ProbeFailure(deployment="api")
    assert rule.selects(pod("api-7d9f-x", "api-7d9f", **{"pod-template-hash": "7d9f"}), 0)
    # "api-gateway-..." starts like "api-..." but is another Deployment's.
    other = pod("api-gateway-5c-y", "api-gateway-5c", **{"pod-template-hash": "5c"})
    assert not rule.selects(other, 0)
    assert not rule.selects(pod("api-solo"), 0)
    assert ProbeFailure(labels={"app": "web"}, namespace="default").selects(pod("p", app="web"), 0)
    assert not ProbeFailure(namespace="prod").selects(pod("p"), 0)


def test_a_share_is_the_same_pods_for_a_seed() -> None:
    pods = [pod(f"web-{i}") for i in range(200)]
    half = ProbeFailure(share=0.5, label="half")
    chosen = [p["metadata"]["name"] for p in pods if half.selects(p, 7)]
    assert 70 < len(chosen) < 130
    assert chosen == [p["metadata"]["name"] for p in pods if half.selects(p, 7)]
    assert chosen != [p["metadata"]["name"] for p in pods if half.selects(p, 8)]


def test_probe_failures_only_fail_containers_with_that_probe() -> None:
    changes: list[int] = []
    faults = ProbeFaults([], seed=1, now=lambda: 42.0, changed=lambda: changes.append(1))
    rule = faults.fail_readiness(labels={"app": "web"}, container="main")
    assert (rule.label, rule.since, changes) == ("probe-1", 42.0, [1])
    p = pod("web-1", app="web")
    probed = {"name": "main", "readinessProbe": {"httpGet": {"port": 80}}}
    assert faults.failing(p, probed, "readiness") is rule
    assert faults.failing(p, probed, "liveness") is None
    assert faults.failing(p, {"name": "main"}, "readiness") is None
    assert faults.failing(p, {**probed, "name": "sidecar"}, "readiness") is None
    faults.remove(rule)
    assert faults.failing(p, probed, "readiness") is None
    with pytest.raises(ValueError, match="must be 'readiness' or 'liveness'"):
        faults.fail("startup")  # type: ignore[arg-type]
