"""kubectl get / describe / wait against the HTTP mode."""

from __future__ import annotations

import json
import subprocess
import threading

import yaml
from kubectl_support import KUBECTL, Kubectl, RunningCluster, deployment, pod


def test_get_pods_prints_the_real_columns_and_wide_adds_ip_and_node(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=pod("columns", node="node-1"))
    kubectl("wait", "--for=condition=Ready", "pod/columns", "--timeout=30s")
    out = kubectl("get", "pods", "columns").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert out[1].split()[:4] == ["columns", "1/1", "Running", "0"]
    wide = kubectl("get", "pods", "columns", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert wide[1].split()[6] == "node-1"


def test_get_nodes_namespaces_and_deployments_columns(kubectl: Kubectl) -> None:
    nodes = kubectl("get", "nodes").stdout.splitlines()
    assert nodes[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [line.split()[:2] for line in nodes[1:]] == [
        ["node-1", "Ready"],
        ["node-2", "Ready"],
        ["node-3", "Ready"],
    ]
    namespaces = kubectl("get", "ns").stdout
    assert namespaces.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    assert "kube-system" in namespaces
    kubectl("apply", "-f", "-", input=deployment("cols", replicas=2))
    kubectl("rollout", "status", "deployment/cols", "--timeout=30s")
    deploys = kubectl("get", "deploy", "cols", "-o", "wide").stdout.splitlines()
    assert deploys[0].split() == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert deploys[1].split()[:4] == ["cols", "2/2", "2", "2"]
    rs = kubectl("get", "rs", "-l", "app=cols").stdout.splitlines()
    assert rs[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert rs[1].split()[1:4] == ["2", "2", "2"]


def test_get_output_formats(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=pod("formats", labels="app: formats, tier: x"))
    as_yaml = yaml.safe_load(kubectl("get", "pod", "formats", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["labels"] == {"app": "formats", "tier": "x"}
    as_json = json.loads(kubectl("get", "pod", "formats", "-o", "json").stdout)
    assert as_json["kind"] == "Pod"
    path = kubectl("get", "pod", "formats", "-o", "jsonpath={.spec.containers[0].image}").stdout
    assert path == "busybox:1.36"
    assert kubectl("get", "pods", "-l", "app=formats", "-o", "name").stdout == "pod/formats\n"


def test_get_with_label_and_field_selectors(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=pod("sel-a", labels="sel: a", node="node-2"))
    kubectl("apply", "-f", "-", input=pod("sel-b", labels="sel: b", node="node-3"))
    by_label = kubectl("get", "pods", "-l", "sel in (a)", "-o", "name").stdout
    assert by_label.split() == ["pod/sel-a"]
    by_field = kubectl(
        "get", "pods", "-l", "sel", "--field-selector", "spec.nodeName=node-3", "-o", "name"
    ).stdout
    assert by_field.split() == ["pod/sel-b"]


def test_get_raw_lists_at_an_exact_resource_version(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=pod("exact-a", labels="exact: a"))
    listed = json.loads(kubectl("get", "--raw", "/api/v1/namespaces/default/pods").stdout)
    rv = listed["metadata"]["resourceVersion"]
    kubectl("apply", "-f", "-", input=pod("exact-b", labels="exact: b"))
    kubectl("label", "pod", "exact-a", "exact=changed", "--overwrite")
    path = (
        f"/api/v1/namespaces/default/pods?labelSelector=exact&resourceVersion={rv}"
        "&resourceVersionMatch=Exact"
    )
    then = json.loads(kubectl("get", "--raw", path).stdout)
    assert then["metadata"]["resourceVersion"] == rv
    assert [(p["metadata"]["name"], p["metadata"]["labels"]["exact"]) for p in then["items"]] == [
        ("exact-a", "a")
    ]


def test_get_watch_prints_changes_as_they_happen(
    kubectl: Kubectl, cluster: RunningCluster, tmp_path: object
) -> None:
    kubectl("apply", "-f", "-", input=pod("watch-0", labels="watch: me"))
    config = kubectl(
        "config", "view", "--minify", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}"
    )
    assert config.stdout == cluster.url
    assert KUBECTL is not None
    proc = subprocess.Popen(
        [
            KUBECTL,
            "--server",
            cluster.url,
            "get",
            "pods",
            "-l",
            "watch=me",
            "-w",
            "--request-timeout=30s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    lines: list[str] = []
    timer = threading.Timer(30, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        lines.append(proc.stdout.readline())  # header
        lines.append(proc.stdout.readline())  # watch-0
        kubectl("apply", "-f", "-", input=pod("watch-1", labels="watch: me"))
        # watch-1 appears while kubectl keeps watching. The kubelet may still be moving
        # watch-0 along (scheduled, Running, Ready): those updates are watch lines too
        # and may come first, so read on until watch-1 (the timer bounds the wait).
        while not lines[-1].startswith("watch-1"):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        timer.cancel()
        proc.kill()
        proc.communicate()
    assert lines[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert lines[1].split()[0] == "watch-0"
    assert lines[-1].split()[0] == "watch-1", lines
    assert {line.split()[0] for line in lines[1:-1]} <= {"watch-0"}, lines


def test_describe_shows_the_object_and_its_events(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("described", replicas=1))
    kubectl("rollout", "status", "deployment/described", "--timeout=30s")
    out = kubectl("describe", "deployment", "described").stdout
    assert "Name:" in out
    assert "described" in out
    assert "Events:" in out
    assert "ScalingReplicaSet" in out
    pod_name = kubectl("get", "pods", "-l", "app=described", "-o", "name").stdout.strip()
    pod_out = kubectl("describe", pod_name).stdout
    assert "Scheduled" in pod_out
    assert "Node:" in pod_out


def test_wait_for_condition_jsonpath_and_delete(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("waited", replicas=2))
    kubectl("wait", "--for=condition=Available", "deployment/waited", "--timeout=30s")
    kubectl(
        "wait", "--for=jsonpath={.status.readyReplicas}=2", "deployment/waited", "--timeout=30s"
    )
    kubectl("delete", "deployment", "waited", "--wait=false")
    kubectl("wait", "--for=delete", "deployment/waited", "--timeout=30s")
    gone = kubectl("get", "deployment", "waited", check=False)
    assert gone.returncode == 1
    assert 'deployments.apps "waited" not found' in gone.stderr


def test_get_events_prints_the_event_columns(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("evented", replicas=1))
    kubectl("rollout", "status", "deployment/evented", "--timeout=30s")
    out = kubectl("get", "events", "--field-selector", "involvedObject.name=evented").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "deployment/evented" in lines[1]
    assert "ScalingReplicaSet" in lines[1]


def test_delete_pod_waits_for_graceful_termination(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=pod("graceful", labels="app: graceful", node="node-1"))
    kubectl("wait", "--for=condition=Ready", "pod/graceful", "--timeout=30s")
    assert kubectl("delete", "pod", "graceful").stdout == 'pod "graceful" deleted\n'
    assert kubectl("get", "pod", "graceful", check=False).returncode == 1
