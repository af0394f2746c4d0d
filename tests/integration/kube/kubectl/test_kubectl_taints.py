"""``kubectl taint ... :NoExecute`` evicts the pods that do not tolerate it."""

from __future__ import annotations

from kubectl_support import Kubectl, deployment


def _names_on(kubectl: Kubectl, app: str, node: str) -> list[str]:
    return kubectl(
        "get", "pods", "-l", f"app={app}", f"--field-selector=spec.nodeName={node}", "-o", "name"
    ).stdout.split()


def test_no_execute_taint_moves_pods_off_the_node(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("tainted", replicas=6))
    kubectl("rollout", "status", "deployment/tainted", "--timeout=30s")
    victims = _names_on(kubectl, "tainted", "node-2")
    assert victims
    tainted = kubectl("taint", "node", "node-2", "evict=now:NoExecute").stdout
    assert tainted == "node/node-2 tainted\n"
    kubectl("wait", "--for=delete", *victims, "--timeout=30s")
    kubectl("rollout", "status", "deployment/tainted", "--timeout=30s")
    assert _names_on(kubectl, "tainted", "node-2") == []
    events = kubectl(
        "get", "events", "--field-selector=reason=TaintManagerEviction", "-o", "name"
    ).stdout.split()
    assert len(events) >= len(victims)
    kubectl("taint", "node", "node-2", "evict-")
