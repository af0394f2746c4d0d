"""kubectl on a rollout that cannot finish: an unpullable image and a short progress deadline.

Real time against the HTTP mode: kubectl's own waits (``rollout status``, ``wait``)
bound every read, so the test never sleeps and does not race the controllers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubectl_support import Kubectl, RunningCluster, deployment


@pytest.fixture
def broken_images(cluster: RunningCluster) -> Iterator[None]:
    assert cluster.sim is not None
    rule = cluster.sim.images.unpullable("nginx:broken")
    yield
    cluster.sim.images.rules.remove(rule)


def with_deadline(manifest: str, seconds: int) -> str:
    return manifest.replace(
        "spec:\n  replicas:", f"spec:\n  progressDeadlineSeconds: {seconds}\n  replicas:", 1
    )


@pytest.mark.usefixtures("broken_images")
def test_rollout_status_reports_the_exceeded_progress_deadline(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=with_deadline(deployment("stalled", replicas=2), 3))
    kubectl("rollout", "status", "deployment/stalled", "--timeout=30s")
    broken = with_deadline(deployment("stalled", replicas=2, image="nginx:broken"), 3)
    kubectl("apply", "-f", "-", input=broken)
    status = kubectl("rollout", "status", "deployment/stalled", "--timeout=60s", check=False)
    assert status.returncode == 1, status
    assert 'error: deployment "stalled" exceeded its progress deadline' in status.stderr
    reason = kubectl(
        "get",
        "deploy",
        "stalled",
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}',
    ).stdout
    assert reason == "ProgressDeadlineExceeded"
    # The new pod waits on its image; the old ones still serve.
    kubectl(
        "wait",
        "pod",
        "-l",
        "app=stalled",
        "--field-selector=status.phase=Pending",
        "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff",
        "--timeout=30s",
    )
    table = kubectl("get", "pods", "-l", "app=stalled", "--no-headers").stdout.splitlines()
    # ErrImagePull for the second after each retry (10 s, 20 s, ... apart).
    statuses = sorted(line.split()[2].replace("ErrImagePull", "ImagePullBackOff") for line in table)
    assert statuses == ["ImagePullBackOff", "Running", "Running"], table
    events = kubectl(
        "get", "events", "--field-selector=reason=Failed", "-o", "jsonpath={.items[*].message}"
    ).stdout
    assert 'Failed to pull image "nginx:broken": rpc error: code = NotFound' in events
