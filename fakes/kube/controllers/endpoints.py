"""The endpoints controller: an Endpoints object per Service with a selector.

``kubectl get ep``, ``kubectl describe service`` and clients that resolve a Service to
pods read it. As kube's controller does:

* Pods that match the selector and have an IP are endpoints: Ready ones in
  ``addresses``, the others in ``notReadyAddresses`` (all in ``addresses`` with
  ``publishNotReadyAddresses``). Terminating and finished pods are left out. Each
  address carries ``ip``, ``nodeName`` and a ``targetRef`` to the pod.
* Ports come from the Service's ports; a named ``targetPort`` resolves against the
  pod's container ports by name, and a pod without that port is left out of that
  port's subset. Addresses with the same ports share one subset; addresses are
  sorted by IP, so the object is stable and rewritten only when it changes.
* The Endpoints carries the Service's labels (plus ``service.kubernetes.io/headless``
  for a headless Service) and no owner: the controller deletes it with its Service.
* A Service without a selector is left alone: its Endpoints are the user's.

Pod changes reach the Services of their namespace through a cache of the Services'
selectors, so a pod write costs a few dictionary comparisons, not a decode; they are
batched for :attr:`EndpointsController.batch_period` loop seconds, since each
recomputation reads all the Service's pods. Service changes apply at once.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers import endpointslices as slices
from fakes.kube.controllers.base import Controller
from fakes.kube.errors import ApiError
from fakes.kube.selectors import LabelSelector
from fakes.kube.store import DELETED

if TYPE_CHECKING:
    from fakes.kube.store import Change

JsonObj = dict[str, Any]

HEADLESS_LABEL = "service.kubernetes.io/headless"


class EndpointsController(Controller):
    name = "endpoints-controller"
    batch_period = 0.5
    """Loop seconds pod changes collect before their Services are recomputed (kube's
    ``--endpoint-updates-batch-period``): a rollout recomputes a Service about twice a
    second, not once per pod write."""

    def setup(self) -> None:
        self.svc_kind = self.kind("services")
        self.ep_kind = self.kind("endpoints")
        self.pods_kind = self.kind("pods")
        self._selectors: dict[str, dict[str, dict[str, str]]] = {}
        self.watch("services", self._on_service)
        self.watch("pods", self._on_pod)
        self.slice_kind = self.kind("endpointslices.discovery.k8s.io")
        self.watch("endpointslices.discovery.k8s.io", self._on_slice)

    def resync(self) -> None:
        for stored in self.access.store.select(self.svc_kind):
            self._remember(stored.namespace, stored.name, json.loads(stored.raw))
            self.enqueue((stored.namespace, stored.name))

    def _remember(self, namespace: str, name: str, svc: JsonObj | None) -> None:
        selector = (svc or {}).get("spec", {}).get("selector") if svc else None
        by_name = self._selectors.setdefault(namespace, {})
        if selector:
            by_name[name] = selector
        else:
            by_name.pop(name, None)

    def _on_service(self, change: Change) -> None:
        svc = None if change.type == DELETED else json.loads(change.raw)
        self._remember(change.namespace, change.name, svc)
        self.enqueue((change.namespace, change.name))

    def _on_pod(self, change: Change) -> None:
        services = self._selectors.get(change.namespace)
        if not services:
            return
        for name, selector in services.items():
            if _matches(selector, change.labels) or (
                change.prev_labels is not None and _matches(selector, change.prev_labels)
            ):
                key = (change.namespace, name)
                if key not in self._timers:
                    self.enqueue_after(key, self.batch_period)

    def _on_slice(self, change: Change) -> None:
        # A slice deleted by someone else comes back, as kube's controller recreates it.
        service = change.labels.get(slices.SERVICE_NAME_LABEL)
        if change.type == DELETED and service:
            self.enqueue((change.namespace, service))

    def reconcile(self, key: Any) -> None:
        namespace, name = key
        svc = self.access.get(self.svc_kind, namespace, name)
        current = self.access.get(self.ep_kind, namespace, name)
        owned_slices = self.access.select(
            self.slice_kind,
            namespace,
            LabelSelector.from_spec(
                {
                    "matchLabels": {
                        slices.SERVICE_NAME_LABEL: name,
                        slices.MANAGED_BY_LABEL: slices.MANAGED_BY,
                    }
                }
            ),
        )
        if svc is None:
            if current is not None:
                with contextlib.suppress(ApiError):
                    self.access.delete(self.ep_kind, namespace, name)
            self._delete_slices(owned_slices)
            return
        selector = svc["spec"].get("selector")
        if not selector:
            return
        pods = self.access.select(
            self.pods_kind, namespace, LabelSelector.from_spec({"matchLabels": selector})
        )
        self._sync_endpoints(svc, pods, current)
        self._sync_slice(svc, pods, owned_slices)

    def _sync_endpoints(self, svc: JsonObj, pods: list[JsonObj], current: JsonObj | None) -> None:
        namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        subsets = endpoint_subsets(svc, pods)
        labels = dict(svc["metadata"].get("labels") or {})
        if svc["spec"].get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        if current is None:
            body: JsonObj = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace},
            }
            if labels:
                body["metadata"]["labels"] = labels
            if subsets:
                body["subsets"] = subsets
            self.access.create(self.ep_kind, body)
            return
        if (current.get("subsets") or []) == subsets and (
            current["metadata"].get("labels") or {}
        ) == labels:
            return
        if subsets:
            current["subsets"] = subsets
        else:
            current.pop("subsets", None)
        if labels:
            current["metadata"]["labels"] = labels
        else:
            current["metadata"].pop("labels", None)
        self.access.update(self.ep_kind, current)

    def _sync_slice(self, svc: JsonObj, pods: list[JsonObj], owned: list[JsonObj]) -> None:
        labels = slices.slice_labels(svc, HEADLESS_LABEL)
        content = slices.slice_content(
            svc, [(pod, service_ports(svc, pod)) for pod in pods], pod_ready
        )
        # Slices of an earlier Service of the same name go; the garbage collector
        # would take them too, but not before this reconcile counts them.
        stale = [s for s in owned if not slices.owned_by(s, svc)]
        keep = sorted((s for s in owned if slices.owned_by(s, svc)), key=_slice_name)
        self._delete_slices(stale + keep[1:])
        if not keep:
            self.access.create(self.slice_kind, slices.new_slice(svc, labels, content))
        elif slices.differs(keep[0], labels, content):
            self.access.update(self.slice_kind, slices.rewrite(keep[0], labels, content))

    def _delete_slices(self, objs: list[JsonObj]) -> None:
        for obj in objs:
            with contextlib.suppress(ApiError):
                self.access.delete(
                    self.slice_kind, obj["metadata"]["namespace"], obj["metadata"]["name"]
                )


def _slice_name(obj: JsonObj) -> str:
    name: str = obj["metadata"]["name"]
    return name


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pod_ready(pod: JsonObj) -> bool:
    for c in pod.get("status", {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _target_port(port: JsonObj, pod: JsonObj) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in pod.get("spec", {}).get("containers") or ():
        for cport in container.get("ports") or ():
            if cport.get("name") == target and cport.get("protocol", "TCP") == port.get(
                "protocol", "TCP"
            ):
                number: int = cport["containerPort"]
                return number
    return None


def service_ports(svc: JsonObj, pod: JsonObj) -> list[JsonObj]:
    """``svc``'s ports as they land on ``pod``: named target ports resolved, ports the
    pod lacks left out (``name`` only when the Service port has one)."""
    out: list[JsonObj] = []
    for port in svc["spec"].get("ports") or ():
        number = _target_port(port, pod)
        if number is None:
            continue
        entry: JsonObj = {"port": number, "protocol": port.get("protocol", "TCP")}
        if port.get("name"):
            entry = {"name": port["name"], **entry}
        if port.get("appProtocol"):
            entry["appProtocol"] = port["appProtocol"]
        out.append(entry)
    return out


def endpoint_subsets(svc: JsonObj, pods: list[JsonObj]) -> list[JsonObj]:
    """The ``subsets`` of ``svc``'s Endpoints over ``pods`` (those its selector matches)."""
    spec = svc["spec"]
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    # One group per distinct port list: (ports) -> (ready addresses, not-ready addresses).
    groups: dict[str, tuple[list[JsonObj], list[JsonObj], list[JsonObj]]] = {}
    for pod in pods:
        meta, status = pod["metadata"], pod.get("status", {})
        ip = status.get("podIP")
        if not ip or meta.get("deletionTimestamp"):
            continue
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        address: JsonObj = {"ip": ip}
        if pod.get("spec", {}).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        address["targetRef"] = {
            "kind": "Pod",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
        }
        ready = publish_not_ready or pod_ready(pod)
        pod_ports = service_ports(svc, pod)
        if not pod_ports and not (headless and not ports):
            continue
        group_key = json.dumps(pod_ports, sort_keys=True)
        group = groups.setdefault(group_key, (pod_ports, [], []))
        group[1 if ready else 2].append(address)
    subsets: list[JsonObj] = []
    for group_key in sorted(groups):
        pod_ports, ready_addrs, not_ready = groups[group_key]
        subset: JsonObj = {}
        if ready_addrs:
            subset["addresses"] = sorted(ready_addrs, key=_ip_key)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_ip_key)
        if pod_ports:
            subset["ports"] = sorted(pod_ports, key=lambda p: (p.get("name", ""), p["port"]))
        subsets.append(subset)
    return subsets


def _ip_key(address: JsonObj) -> tuple[int, ...]:
    return tuple(int(part) for part in address["ip"].split(".") if part.isdigit())
