"""Server-side apply through the official client: field ownership as kube-apiserver keeps it.

Remediation workflows apply manifests with their own field manager next to humans
and controllers that edit the same objects; whether an apply is refused, shared or
forced, and which fields a manager's next apply removes, must be what a real cluster
would do, or a workflow that passes here fails there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from tests.integration.kube.manifests import configmap, deployment

APPLY = "application/apply-patch+yaml"


def apply(
    apps: client.AppsV1Api, body: dict[str, Any], manager: str, *, force: bool | None = None
) -> Any:
    kwargs: dict[str, Any] = {"field_manager": manager, "_content_type": APPLY}
    if force is not None:
        kwargs["force"] = force
    return apps.patch_namespaced_deployment(body["metadata"]["name"], "default", body, **kwargs)


def replicas_config(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": replicas},
    }


def owners(obj: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.manager, m.operation): m.fields_v1 for m in obj.metadata.managed_fields or ()}


def owns_replicas(fields: dict[str, Any] | None) -> bool:
    return "f:replicas" in ((fields or {}).get("f:spec") or {})


def test_apply_over_a_field_another_manager_set_differently_is_a_conflict(
    apps: client.AppsV1Api,
) -> None:
    apps.create_namespaced_deployment(
        "default", deployment("web", replicas=1), field_manager="kubectl-client-side-apply"
    )
    with pytest.raises(ApiException) as err:
        apply(apps, replicas_config("web", 3), "ssa")
    assert err.value.status == 409
    status = json.loads(err.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: '
        ".spec.replicas"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 1


def test_applying_the_same_value_shares_ownership(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=2), field_manager="a")
    applied = apply(apps, replicas_config("web", 2), "ssa")
    managers = owners(applied)
    assert owns_replicas(managers[("a", "Update")])
    assert managers[("ssa", "Apply")] == {"f:spec": {"f:replicas": {}}}


def test_force_takes_ownership_from_the_other_manager(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=1), field_manager="a")
    forced = apply(apps, replicas_config("web", 3), "ssa", force=True)
    assert forced.spec.replicas == 3
    managers = owners(forced)
    assert owns_replicas(managers[("ssa", "Apply")])
    assert not owns_replicas(managers[("a", "Update")])
    # The loser keeps the rest of what it owned.
    assert "f:template" in managers[("a", "Update")]["f:spec"]


def test_an_update_by_another_manager_takes_the_fields_it_changed(
    apps: client.AppsV1Api,
) -> None:
    apply(apps, deployment("web", replicas=2), "ssa")
    apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 5}}, field_manager="scaler"
    )
    managers = owners(apps.read_namespaced_deployment("web", "default"))
    assert managers[("scaler", "Update")] == {"f:spec": {"f:replicas": {}}}
    assert not owns_replicas(managers[("ssa", "Apply")])
    with pytest.raises(ApiException) as err:
        apply(apps, deployment("web", replicas=2), "ssa")
    assert json.loads(err.value.body)["message"] == (
        'Apply failed with 1 conflict: conflict with "scaler" using apps/v1: .spec.replicas'
    )


def test_fields_the_applier_owned_alone_and_dropped_are_removed(api_client: Any) -> None:
    core = client.CoreV1Api(api_client)

    def cm_apply(data: dict[str, str], manager: str) -> Any:
        return core.patch_namespaced_config_map(
            "cfg", "default", configmap("cfg", data), field_manager=manager, _content_type=APPLY
        )

    cm_apply({"a": "1", "b": "2", "shared": "s"}, "one")
    cm_apply({"shared": "s"}, "two")
    dropped = cm_apply({"b": "2"}, "one")
    # ``a`` was one's alone: gone. ``shared`` is still two's: kept.
    assert dropped.data == {"b": "2", "shared": "s"}
    assert owners(dropped)[("one", "Apply")] == {"f:data": {"f:b": {}}}


def test_dropping_a_keyed_list_item_removes_only_that_item(apps: client.AppsV1Api) -> None:
    body = deployment("web")
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy"})
    applied = apply(apps, body, "ssa")
    assert owners(applied)[("ssa", "Apply")]["f:spec"]["f:template"]["f:spec"]["f:containers"][
        'k:{"name":"sidecar"}'
    ] == {".": {}, "f:image": {}, "f:name": {}}
    body["spec"]["template"]["spec"]["containers"].pop()
    again = apply(apps, body, "ssa")
    assert [c.name for c in again.spec.template.spec.containers] == ["app"]


def test_ports_are_keyed_by_number_and_protocol_as_apply_keys_them(
    apps: client.AppsV1Api,
) -> None:
    # A DNS server listens on 53 over TCP and UDP: two ports, one number.
    body = deployment("dns")
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["ports"] = [
        {"containerPort": 53, "protocol": "UDP", "name": "dns"},
        {"containerPort": 53, "name": "dns-tcp"},  # protocol defaults to TCP
    ]
    applied = apply(apps, body, "ssa")
    ports = applied.spec.template.spec.containers[0].ports
    assert [(p.container_port, p.protocol, p.name) for p in ports] == [
        (53, "UDP", "dns"),
        (53, "TCP", "dns-tcp"),
    ]
    mine = owners(applied)[("ssa", "Apply")]
    owned_ports = mine["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}'][
        "f:ports"
    ]
    assert sorted(owned_ports) == [
        'k:{"containerPort":53,"protocol":"TCP"}',
        'k:{"containerPort":53,"protocol":"UDP"}',
    ]
    # Dropping the UDP port from the configuration removes that port alone.
    container["ports"] = [{"containerPort": 53, "name": "dns-tcp"}]
    again = apply(apps, body, "ssa")
    ports = again.spec.template.spec.containers[0].ports
    assert [(p.container_port, p.protocol) for p in ports] == [(53, "TCP")]


def test_a_strategic_merge_patch_still_merges_ports_by_number_alone(
    apps: client.AppsV1Api,
) -> None:
    # kube's patchMergeKey for container ports is containerPort: a UDP port patched
    # onto a TCP port of the same number replaces its protocol (a long-known kube
    # quirk that manifests written against a real cluster rely on).
    body = deployment("dns")
    body["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 53}]
    apps.create_namespaced_deployment("default", body)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "ports": [{"containerPort": 53, "protocol": "UDP"}]}
                    ]
                }
            }
        }
    }
    patched = apps.patch_namespaced_deployment(
        "dns", "default", patch, _content_type="application/strategic-merge-patch+json"
    )
    ports = patched.spec.template.spec.containers[0].ports
    assert [(p.container_port, p.protocol) for p in ports] == [(53, "UDP")]


def test_plain_writes_default_their_manager_from_the_user_agent(apps: client.AppsV1Api) -> None:
    created = apps.create_namespaced_deployment("default", deployment("web"))
    [entry] = created.metadata.managed_fields
    # The official client's User-Agent is "OpenAPI-Generator/<version>/python".
    assert (entry.manager, entry.operation, entry.api_version) == (
        "OpenAPI-Generator",
        "Update",
        "apps/v1",
    )
    # Defaulted fields belong to the creator too, as in kube.
    assert "f:progressDeadlineSeconds" in entry.fields_v1["f:spec"]


def test_apply_without_field_manager_is_invalid_patch_options(api_client: Any) -> None:
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map("cfg", "default", configmap("cfg"), _content_type=APPLY)
    assert err.value.status == 422
    status = json.loads(err.value.body)
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )
    assert status["details"]["causes"][0]["field"] == "fieldManager"


def test_force_on_a_non_apply_patch_is_refused(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web"))
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}}, force=True)
    assert err.value.status == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in err.value.body
