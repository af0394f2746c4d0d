"""Discovery documents (``/version``, ``/api``, ``/apis``, resource lists) from the kind table.

kubectl and the dynamic client find resources, short names, verbs and scopes here,
so these documents are generated from ``fakes.kube.kinds`` rather than written by
hand; a kind added to the table is discoverable at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakes.kube.kinds import KindRegistry, ResourceKind

JsonObj = dict[str, Any]

VERSION_INFO: JsonObj = {
    "major": "1",
    "minor": "34",
    "gitVersion": "v1.34.0-windtunnel",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.24.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions() -> JsonObj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
        ],
    }


def _group(name: str, versions: list[str]) -> JsonObj:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: KindRegistry) -> JsonObj:
    groups = [_group(name, versions) for name, versions in registry.groups().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: KindRegistry, name: str) -> JsonObj | None:
    versions = registry.groups().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _resource_entries(kind: ResourceKind) -> list[JsonObj]:
    main: JsonObj = {
        "name": kind.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        main["shortNames"] = list(kind.short_names)
    if kind.categories:
        main["categories"] = list(kind.categories)
    out = [main]
    for sub in kind.subresources:
        entry: JsonObj = {
            "name": f"{kind.plural}/{sub.name}",
            "singularName": "",
            "namespaced": kind.namespaced,
        }
        if sub.group:
            entry["group"] = sub.group
            entry["version"] = sub.version
        entry["kind"] = sub.kind or kind.kind
        entry["verbs"] = list(sub.verbs)
        out.append(entry)
    return out


def api_resource_list(registry: KindRegistry, group: str, version: str) -> JsonObj | None:
    kinds = registry.in_group_version(group, version)
    if not kinds:
        return None
    group_version = f"{group}/{version}" if group else version
    resources = [entry for k in kinds for entry in _resource_entries(k)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
