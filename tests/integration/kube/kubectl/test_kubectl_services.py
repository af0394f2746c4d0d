"""kubectl reads a Service's endpoints: ``describe svc``, ``get ep`` and ``get endpointslices``."""

from __future__ import annotations

import re
import time

from kubectl_support import Kubectl, deployment

SLICES = "kubernetes.io/service-name=fronted"
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: fronted
spec:
  selector: {app: fronted}
  ports:
  - {name: http, port: 80, targetPort: 8080}
"""


def test_describe_and_get_show_the_services_endpoints(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=SERVICE)
    kubectl("apply", "-f", "-", input=deployment("fronted", replicas=4))
    kubectl("rollout", "status", "deployment/fronted", "--timeout=30s")
    ready_path = "jsonpath={.items[*].endpoints[*].conditions.ready}"
    deadline = time.monotonic() + 30
    # kubectl wait gives up on a missing jsonpath, so poll until all four are ready.
    while (
        kubectl("get", "endpointslices", "-l", SLICES, "-o", ready_path).stdout.split()
        != ["true"] * 4
    ):
        assert time.monotonic() < deadline, "the EndpointSlice never listed four ready pods"
        time.sleep(0.1)
    ips = sorted(
        kubectl(
            "get", "pods", "-l", "app=fronted", "-o", "jsonpath={.items[*].status.podIP}"
        ).stdout.split(),
        key=lambda ip: tuple(int(p) for p in ip.split(".")),
    )

    described = kubectl("describe", "svc", "fronted").stdout
    [line] = [li for li in described.splitlines() if li.startswith("Endpoints:")]
    shown = ",".join(f"{ip}:8080" for ip in ips[:3])
    assert line.split(None, 1)[1] == f"{shown} + 1 more..."

    ep = kubectl("get", "ep", "fronted").stdout.splitlines()
    assert ep[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    assert ep[1].split()[:5] == ["fronted", f"{shown}", "+", "1", "more..."]

    slices = kubectl("get", "endpointslices", "-l", SLICES).stdout
    header, row = slices.splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert re.match(r"fronted-[a-z0-9]{5}$", row.split()[0])
    assert row.split()[1:6] == ["IPv4", "8080", ",".join(ips[:3]), "+", "1"]

    kubectl("delete", "svc", "fronted")
    kubectl(
        "wait",
        "endpointslices",
        "-l",
        SLICES,
        "--for=delete",
        "--timeout=30s",
    )
