"""The ``default/kubernetes`` Service, its Endpoints and EndpointSlice, as every cluster has.

In kube the API server's bootstrap controller keeps a selector-less ClusterIP Service
``kubernetes`` (port 443, ``https``, the first address of the service range) in
``default``, and its endpoint reconciler an Endpoints object and an EndpointSlice
(both named ``kubernetes``; ``kubectl describe svc kubernetes`` reads the slice)
pointing at the API servers' address, and recreates them when deleted. This does the
same for the simulated API server, whose address (:data:`API_SERVER_IP`:\\
:data:`API_SERVER_PORT`) is on the simulated node network but never a node's.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Controller
from fakes.kube.errors import ApiError

if TYPE_CHECKING:
    from fakes.kube.store import Change

JsonObj = dict[str, Any]

NAMESPACE, NAME = "default", "kubernetes"
CLUSTER_IP = "10.96.0.1"
API_SERVER_IP = "172.18.0.1"  # node IPs end in .2 and above (fakes.kube.controllers.kubelet)
API_SERVER_PORT = 6443


def service() -> JsonObj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": CLUSTER_IP,
            "clusterIPs": [CLUSTER_IP],
            "sessionAffinity": "None",
            "ports": [
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": API_SERVER_PORT}
            ],
        },
    }


def endpoints() -> JsonObj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": API_SERVER_IP}],
                "ports": [{"name": "https", "port": API_SERVER_PORT, "protocol": "TCP"}],
            }
        ],
    }


def endpoint_slice() -> JsonObj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": NAME},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [API_SERVER_IP], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": API_SERVER_PORT, "protocol": "TCP"}],
    }


class KubernetesServiceController(Controller):
    name = "kubernetes-service-controller"

    def setup(self) -> None:
        self.svc_kind = self.kind("services")
        self.ep_kind = self.kind("endpoints")
        self.slice_kind = self.kind("endpointslices")
        self.ns_kind = self.kind("namespaces")
        self.watch("services", self._on_change)
        self.watch("endpoints", self._on_change)
        self.watch("endpointslices", self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.namespace == NAMESPACE and change.name == NAME:
            self.enqueue(NAME)

    def resync(self) -> None:
        self.enqueue(NAME)

    def reconcile(self, key: Any) -> None:
        ns = self.access.get(self.ns_kind, "", NAMESPACE)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        for kind, body in (
            (self.svc_kind, service()),
            (self.ep_kind, endpoints()),
            (self.slice_kind, endpoint_slice()),
        ):
            if self.access.store.get(kind, NAMESPACE, NAME) is None:
                with contextlib.suppress(ApiError):
                    self.access.create(kind, body)
