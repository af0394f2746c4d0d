"""Field ownership units: FieldsV1 sets, kube's path and conflict wording, apply's removals.

Users read ``managedFields`` and conflict messages to find who owns a field; these
pin the formats to kube-apiserver's, and the apply rules on plain dicts.
"""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.errors import ApiError
from fakes.kube.fieldsets import from_fields_v1, leaves, path_string, to_fields_v1
from fakes.kube.managedfields import apply, updated
from fakes.kube.patch import strategic_merge

WHEN = "2024-01-01T00:00:00Z"


def pod_config(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx", **container}]},
    }


def test_fields_v1_round_trips_and_marks_owned_list_items() -> None:
    fields = to_fields_v1(leaves(pod_config()))
    assert fields == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}},
    }
    assert to_fields_v1(from_fields_v1(fields)) == fields


def test_paths_print_as_kube_prints_them() -> None:
    path = ("f:spec", "f:containers", 'k:{"name":"app"}', "f:image")
    assert path_string(path) == '.spec.containers[name="app"].image'
    assert path_string(("f:metadata", "f:finalizers", 'v:"a/b"')) == '.metadata.finalizers[="a/b"]'


def live_with(manager: str, obj: dict[str, Any]) -> dict[str, Any]:
    live = {**obj, "metadata": dict(obj["metadata"])}
    live["metadata"]["managedFields"] = [
        {
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "time": WHEN,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(leaves(obj)),
        }
    ]
    return live


def test_several_conflicts_are_listed_per_manager_in_one_message() -> None:
    live = live_with("editor", pod_config(imagePullPolicy="Always"))
    config = pod_config(imagePullPolicy="Never")
    config["spec"]["containers"][0]["image"] = "nginx:2"
    with pytest.raises(ApiError) as err:
        apply(live, config, strategic_merge, "ssa", "v1", WHEN, force=False)
    assert err.value.code == 409
    assert err.value.message == (
        'Apply failed with 2 conflicts: conflicts with "editor" using v1:\n'
        '- .spec.containers[name="app"].image\n'
        '- .spec.containers[name="app"].imagePullPolicy'
    )
    assert [c["field"] for c in err.value.details["causes"]] == [  # type: ignore[index]
        '.spec.containers[name="app"].image',
        '.spec.containers[name="app"].imagePullPolicy',
    ]


def test_a_dropped_field_another_manager_owns_below_is_kept() -> None:
    config = pod_config()
    config["spec"]["containers"].append({"name": "sidecar", "image": "envoy"})
    first = apply(
        live_with("x", {"metadata": {"name": "p"}}),
        config,
        strategic_merge,
        "ssa",
        "v1",
        WHEN,
        force=False,
    )
    live = first.obj
    live["metadata"]["managedFields"] = first.managed
    # Someone else sets the sidecar's pull policy: they own a field inside the item.
    edited = strategic_merge(
        live,
        {"spec": {"containers": [{"name": "sidecar", "imagePullPolicy": "Always"}]}},
    )
    managed = updated(live, edited, "editor", "v1", WHEN)
    assert managed is not None
    edited["metadata"]["managedFields"] = managed
    second = apply(edited, pod_config(), strategic_merge, "ssa", "v1", WHEN, force=False)
    sidecar = second.obj["spec"]["containers"][1]
    # ssa's own fields (the image) go; the item stays for its other owner.
    assert sidecar == {"name": "sidecar", "imagePullPolicy": "Always"}


def test_an_update_that_changes_nothing_leaves_ownership_alone() -> None:
    live = live_with("editor", pod_config())
    assert updated(live, live, "other", "v1", WHEN) is None


def test_service_ports_are_owned_by_port_and_protocol_with_tcp_defaulted() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "dns"},
        "spec": {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "name": "tcp"}]},
    }
    fields = to_fields_v1(leaves(service))
    assert fields["f:spec"]["f:ports"] == {
        'k:{"port":53,"protocol":"TCP"}': {".": {}, "f:name": {}, "f:port": {}},
        'k:{"port":53,"protocol":"UDP"}': {".": {}, "f:port": {}, "f:protocol": {}},
    }
    # A stored port carries the defaulted protocol; the applied one's key still names it.
    stored = strategic_merge(
        {"spec": {"ports": [{"port": 53, "protocol": "TCP", "name": "tcp"}]}},
        {"spec": {"ports": [{"port": 53, "name": "dns-tcp"}]}},
        apply=True,
    )
    assert stored["spec"]["ports"] == [{"port": 53, "protocol": "TCP", "name": "dns-tcp"}]
