"""The EndpointSlice the endpoints controller keeps beside each selector Service's Endpoints.

``kubectl describe service`` (and kube-proxy, and most clients since 1.21) read a
Service's endpoints from ``discovery.k8s.io/v1`` EndpointSlices labelled
``kubernetes.io/service-name``, not from the Endpoints object. As kube's
endpointslice controller writes them:

* Named ``<service>-<suffix>`` through ``generateName``, owned by the Service
  (``controller`` and ``blockOwnerDeletion`` true), labelled with the Service's labels,
  ``kubernetes.io/service-name``, ``endpointslice.kubernetes.io/managed-by`` and, for
  a headless Service, ``service.kubernetes.io/headless``.
* ``addressType: IPv4``; one endpoint per pod with an IP that has not finished, with
  ``addresses: [ip]``, ``nodeName``, a ``targetRef`` to the pod and the conditions
  ``serving`` (the pod is Ready), ``terminating`` (it has a deletion timestamp) and
  ``ready`` (serving and not terminating, or the Service publishes not-ready
  addresses). Unlike Endpoints, terminating pods stay listed.
* ``ports`` carry ``name`` always (``""`` for an unnamed Service port: kubectl
  dereferences it), ``port`` and ``protocol``.

Simplification: kube writes one slice per distinct resolved port list (and splits at
100 endpoints); here a Service has exactly one slice, holding the port list most pods
resolve to and the pods that resolve to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fakes.kube.controllers.access import owner_reference

JsonObj = dict[str, Any]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


def slice_labels(svc: JsonObj, headless_label: str) -> dict[str, str]:
    """The labels kube's controller sets on ``svc``'s slices."""
    labels = dict(svc["metadata"].get("labels") or {})
    if svc["spec"].get("clusterIP") == "None":
        labels[headless_label] = ""
    labels[SERVICE_NAME_LABEL] = svc["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    return labels


def slice_content(
    svc: JsonObj,
    pods: list[tuple[JsonObj, list[JsonObj]]],
    ready: Callable[[JsonObj], bool],
) -> JsonObj:
    """``addressType``, ``endpoints`` and ``ports`` of ``svc``'s slice.

    ``pods`` pairs each pod the selector matches with its resolved Service ports
    (``endpoints.service_ports``); ``ready`` says whether a pod is Ready.
    """
    publish_not_ready = bool(svc["spec"].get("publishNotReadyAddresses"))
    headless_without_ports = svc["spec"].get("clusterIP") == "None" and not svc["spec"].get("ports")
    groups: dict[str, tuple[list[JsonObj], list[JsonObj]]] = {}
    for pod, ports in pods:
        meta, status = pod["metadata"], pod.get("status", {})
        ip = status.get("podIP")
        if not ip or status.get("phase") in ("Succeeded", "Failed"):
            continue
        if not ports and not headless_without_ports:
            continue
        serving = ready(pod)
        terminating = bool(meta.get("deletionTimestamp"))
        endpoint: JsonObj = {
            "addresses": [ip],
            "conditions": {
                "ready": publish_not_ready or (serving and not terminating),
                "serving": serving,
                "terminating": terminating,
            },
        }
        if pod.get("spec", {}).get("nodeName"):
            endpoint["nodeName"] = pod["spec"]["nodeName"]
        endpoint["targetRef"] = {
            "kind": "Pod",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
        }
        slice_ports = sorted(
            ({"name": p.get("name", ""), **p} for p in ports),
            key=lambda p: (p["name"], p["port"]),
        )
        key = json.dumps(slice_ports, sort_keys=True)
        groups.setdefault(key, (slice_ports, []))[1].append(endpoint)
    content: JsonObj = {"addressType": "IPv4", "endpoints": []}
    if groups:
        key = min(groups, key=lambda k: (-len(groups[k][1]), k))
        ports, endpoints = groups[key]
        content["endpoints"] = sorted(endpoints, key=lambda e: _ip_key(e["addresses"][0]))
        if ports:
            content["ports"] = ports
    return content


def new_slice(svc: JsonObj, labels: dict[str, str], content: JsonObj) -> JsonObj:
    """A slice for ``svc`` to create: generated name, owner reference, labels, content."""
    meta = svc["metadata"]
    owner = owner_reference({"apiVersion": "v1", "kind": "Service", "metadata": meta})
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner],
        },
        **content,
    }


def differs(current: JsonObj, labels: dict[str, str], content: JsonObj) -> bool:
    """Whether ``current`` needs rewriting to carry ``labels`` and ``content``."""
    if (current["metadata"].get("labels") or {}) != labels:
        return True
    return any(current.get(k) != content.get(k) for k in ("addressType", "endpoints", "ports"))


def rewrite(current: JsonObj, labels: dict[str, str], content: JsonObj) -> JsonObj:
    current["metadata"]["labels"] = labels
    current.pop("ports", None)
    current.update(content)
    return current


def owned_by(slice_obj: JsonObj, svc: JsonObj) -> bool:
    uid = svc["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in slice_obj["metadata"].get("ownerReferences") or ())


def _ip_key(ip: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ip.split(".") if part.isdigit())
