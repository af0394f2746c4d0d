"""What kube-apiserver's decode and encode do to every object it writes.

kube decodes each write -- create, update, every patch type, server-side apply --
into Go structs, and stores what it encodes back out. Three things happen to the
object on the way, and :func:`on_create` and :func:`on_update` do them to the JSON
dict before managedFields, validation and the no-op check see it, so a filled-in
default or a dropped empty map never looks like a change:

* the scheme defaulters run, and on create the strategy and admission defaults too
  (``fakes.kube.defaults``); a Service keeps the ClusterIP it already has;
* a Secret's write-only ``stringData`` is base64-encoded into ``data`` (on a key in
  both, ``stringData`` wins) and dropped, as the v1-to-internal conversion does;
* Go's ``omitempty`` drops empty maps: labels and annotations, ConfigMap and Secret
  data, node selectors, resource lists, selectors and their ``matchLabels``.
  Empty struct-typed objects (``emptyDir: {}``, ``securityContext: {}``,
  ``resources: {}``) are kept, as Go keeps them.

A value of the wrong type is left as sent: decoding refuses such a body (400), and
nothing here may crash on it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fakes.kube.defaults import CREATE_DEFAULTERS, DEFAULTERS, ServiceIPs, default_service

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

_SERVICES = ("", "services")
_SECRETS = ("", "secrets")


def on_create(kind: ResourceKind, obj: JsonObj, ips: ServiceIPs) -> None:
    """Normalise a new object in place (after the server set its metadata)."""
    _normalise(kind, obj, ips, None)


def on_update(kind: ResourceKind, old: JsonObj, new: JsonObj, ips: ServiceIPs) -> None:
    """Normalise ``new``, the object an update, patch or apply would store over ``old``."""
    _normalise(kind, new, ips, old)


def _normalise(kind: ResourceKind, obj: JsonObj, ips: ServiceIPs, old: JsonObj | None) -> None:
    """What decoding does to ``obj``; ``old`` is the stored object (``None`` on create)."""
    key = (kind.group, kind.plural)
    if key == _SECRETS:
        convert_string_data(obj)
    if _spec_is_map(obj):
        defaulter = DEFAULTERS.get(key)
        if defaulter is not None:
            defaulter(obj)
        if old is None:
            defaulter = CREATE_DEFAULTERS.get(key)
            if defaulter is not None:
                defaulter(obj)
        if key == _SERVICES:
            default_service(obj, ips, old)
    prune_empty_maps(key, obj)


def _spec_is_map(obj: JsonObj) -> bool:
    return isinstance(obj.get("spec", {}), dict)


def convert_string_data(secret: JsonObj) -> None:
    """Merge a Secret's ``stringData`` into ``data``, base64-encoded, and drop it.

    Left as sent when ``stringData`` or ``data`` is not a map of strings.
    """
    string_data = secret.get("stringData")
    if string_data is None:
        secret.pop("stringData", None)
        return
    data = secret.get("data")
    if data is None:
        data = {}
    if not isinstance(string_data, dict) or not isinstance(data, dict):
        return
    if not all(isinstance(v, str) for v in string_data.values()):
        return
    merged = dict(data)
    for k, v in string_data.items():
        merged[k] = base64.b64encode(v.encode()).decode("ascii")
    secret["data"] = merged
    del secret["stringData"]


# -- omitempty ---------------------------------------------------------------------------


def _drop_empty(parent: Any, *keys: str) -> None:
    if isinstance(parent, dict):
        for k in keys:
            value = parent.get(k)
            if isinstance(value, dict) and not value:
                del parent[k]


def _meta(meta: Any) -> None:
    _drop_empty(meta, "labels", "annotations")


def _selector(parent: JsonObj, key: str = "selector") -> None:
    _drop_empty(parent.get(key), "matchLabels")


def _pod_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    _drop_empty(spec, "nodeSelector")
    for key in ("containers", "initContainers"):
        containers = spec.get(key)
        if isinstance(containers, list):
            for c in containers:
                if isinstance(c, dict):
                    _drop_empty(c.get("resources"), "limits", "requests")


def _template(spec: JsonObj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        _meta(template.get("metadata"))
        _pod_spec(template.get("spec"))


def _pod(obj: JsonObj, spec: JsonObj) -> None:
    _pod_spec(spec)


def _workload(obj: JsonObj, spec: JsonObj) -> None:
    _selector(spec)
    _template(spec)


def _cronjob(obj: JsonObj, spec: JsonObj) -> None:
    job = spec.get("jobTemplate")
    if isinstance(job, dict):
        _meta(job.get("metadata"))
        job_spec = job.get("spec")
        if isinstance(job_spec, dict):
            _workload(obj, job_spec)


def _service(obj: JsonObj, spec: JsonObj) -> None:
    _drop_empty(spec, "selector")


def _pdb(obj: JsonObj, spec: JsonObj) -> None:
    _selector(spec)


def _network_policy(obj: JsonObj, spec: JsonObj) -> None:
    _selector(spec, "podSelector")


def _configmap(obj: JsonObj, spec: JsonObj) -> None:
    _drop_empty(obj, "data", "binaryData")


def _secret(obj: JsonObj, spec: JsonObj) -> None:
    _drop_empty(obj, "data", "stringData")


_PRUNERS: dict[tuple[str, str], Callable[[JsonObj, JsonObj], None]] = {
    ("", "pods"): _pod,
    ("", "services"): _service,
    ("", "configmaps"): _configmap,
    ("", "secrets"): _secret,
    ("apps", "deployments"): _workload,
    ("apps", "replicasets"): _workload,
    ("apps", "statefulsets"): _workload,
    ("apps", "daemonsets"): _workload,
    ("batch", "jobs"): _workload,
    ("batch", "cronjobs"): _cronjob,
    ("policy", "poddisruptionbudgets"): _pdb,
    ("networking.k8s.io", "networkpolicies"): _network_policy,
}


def prune_empty_maps(key: tuple[str, str], obj: JsonObj) -> None:
    """Drop the empty ``omitempty`` maps of an object of kind ``key`` (group, plural)."""
    _meta(obj.get("metadata"))
    pruner = _PRUNERS.get(key)
    if pruner is not None:
        spec = obj.get("spec")
        pruner(obj, spec if isinstance(spec, dict) else {})
