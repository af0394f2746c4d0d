"""kubectl commands that need the simulated controllers: scale, rollout, cordon, drain."""

from __future__ import annotations

import json

from kubectl_support import Kubectl, deployment


def _ready(kubectl: Kubectl, name: str) -> str:
    return kubectl("get", "deploy", name, "-o", "jsonpath={.status.readyReplicas}").stdout


def test_scale_up_and_down_settles(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("scaled", replicas=1))
    kubectl("rollout", "status", "deployment/scaled", "--timeout=30s")
    assert kubectl("scale", "deployment/scaled", "--replicas=4").stdout == (
        "deployment.apps/scaled scaled\n"
    )
    kubectl("rollout", "status", "deployment/scaled", "--timeout=30s")
    assert _ready(kubectl, "scaled") == "4"
    kubectl("scale", "deployment/scaled", "--replicas=2")
    kubectl("wait", "--for=jsonpath={.status.replicas}=2", "deployment/scaled", "--timeout=30s")
    pods = kubectl(
        "get", "pods", "-l", "app=scaled", "--field-selector=status.phase=Running", "-o", "name"
    )
    assert len(pods.stdout.split()) == 2


def test_rollout_restart_history_and_undo(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("rolled", replicas=2))
    kubectl("rollout", "status", "deployment/rolled", "--timeout=30s")
    kubectl("apply", "-f", "-", input=deployment("rolled", replicas=2, image="nginx:1.27"))
    status = kubectl("rollout", "status", "deployment/rolled", "--timeout=30s").stdout
    assert 'deployment "rolled" successfully rolled out' in status
    history = kubectl("rollout", "history", "deployment/rolled").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    kubectl("rollout", "undo", "deployment/rolled")
    kubectl("rollout", "status", "deployment/rolled", "--timeout=30s")
    image = kubectl(
        "get", "deploy", "rolled", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    ).stdout
    assert image == "nginx:1.25"
    # The undo brought revision 1's ReplicaSet back as revision 3; no new one appeared.
    history = kubectl("rollout", "history", "deployment/rolled").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    replica_sets = kubectl("get", "rs", "-l", "app=rolled", "-o", "name").stdout.split()
    assert len(replica_sets) == 2
    restarted = kubectl("rollout", "restart", "deployment/rolled").stdout
    assert restarted == "deployment.apps/rolled restarted\n"
    kubectl("rollout", "status", "deployment/rolled", "--timeout=30s")
    template = json.loads(kubectl("get", "deploy", "rolled", "-o", "json").stdout)["spec"][
        "template"
    ]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]


def test_cordon_uncordon_and_drain(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("drained", replicas=3))
    kubectl("rollout", "status", "deployment/drained", "--timeout=30s")
    assert kubectl("cordon", "node-1").stdout == "node/node-1 cordoned\n"
    nodes = kubectl("get", "node", "node-1").stdout.splitlines()
    assert nodes[1].split()[1] == "Ready,SchedulingDisabled"
    assert kubectl("uncordon", "node-1").stdout == "node/node-1 uncordoned\n"
    drained = kubectl(
        "drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s"
    )
    assert "node/node-2 drained" in drained.stdout
    kubectl("rollout", "status", "deployment/drained", "--timeout=30s")
    on_node_2 = kubectl(
        "get", "pods", "-A", "--field-selector=spec.nodeName=node-2", "-o", "name"
    ).stdout
    assert on_node_2 == ""
    kubectl("uncordon", "node-2")
