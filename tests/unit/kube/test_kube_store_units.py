"""Fast unit tests of the building blocks: selectors, quantities, patches, store indexes."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from engine.quantity import QuantityError, format_quantity, parse_quantity
from fakes.kube.errors import ApiError
from fakes.kube.fieldsets import fields_v1
from fakes.kube.kinds import DEFAULT_REGISTRY
from fakes.kube.patch import merge_patch, strategic_merge
from fakes.kube.selectors import FieldSelector, LabelSelector
from fakes.kube.store import ObjectStore, Table

PODS = DEFAULT_REGISTRY.resolve("pods")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Fraction(1, 2)),
        ("2", Fraction(2)),
        ("1Gi", Fraction(2**30)),
        ("1e3", Fraction(1000)),
        ("1.5", Fraction(3, 2)),
        ("128Mi", Fraction(128 * 2**20)),
        ("1k", Fraction(1000)),
        ("100u", Fraction(1, 10**4)),
    ],
)
def test_quantities_parse_exactly(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


def test_quantities_format_canonically_and_reject_garbage() -> None:
    assert format_quantity(Fraction(1536 * 2**20), binary=True) == "1536Mi"
    assert format_quantity(Fraction(5, 2)) == "2500m"
    assert format_quantity(Fraction(3)) == "3"
    with pytest.raises(QuantityError):
        parse_quantity("lots")


def test_label_selector_round_trips_and_rejects_bad_syntax() -> None:
    selector = LabelSelector.parse("tier in (b,a),app=web,!old")
    assert str(selector) == "app=web,!old,tier in (a,b)"
    assert selector.matches({"app": "web", "tier": "a"})
    assert not selector.matches({"app": "web", "tier": "a", "old": "1"})
    with pytest.raises(ApiError) as err:
        LabelSelector.parse("app in (a b")
    assert err.value.code == 400


def test_structured_selector_from_spec() -> None:
    spec = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
    }
    selector = LabelSelector.from_spec(spec)
    assert selector.matches({"app": "web"})
    assert not selector.matches({"app": "web", "tier": "db"})


def test_field_selector_unescapes_values() -> None:
    selector = FieldSelector.parse(r"metadata.name=a\,b", ("metadata.name",))
    assert selector.matches({"metadata.name": "a,b"})


def test_strategic_merge_uses_container_ports_and_service_ports_keys() -> None:
    live: dict[str, Any] = {"spec": {"ports": [{"port": 80, "name": "http"}]}}
    merged = strategic_merge(live, {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}})
    assert merged == {"spec": {"ports": [{"port": 80, "name": "http", "targetPort": 8080}]}}
    assert live == {"spec": {"ports": [{"port": 80, "name": "http"}]}}


def test_merge_patch_null_deletes_and_lists_replace() -> None:
    assert merge_patch({"a": 1, "b": [1, 2]}, {"a": None, "b": [3]}) == {"b": [3]}


def test_fields_v1_keys_merge_lists_by_their_key() -> None:
    applied = {"spec": {"containers": [{"name": "app", "image": "x"}]}}
    assert fields_v1(applied) == {
        "f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}}
    }


def _pod(name: str, node: str, app: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "ns", "uid": name, "labels": {"app": app}},
        "spec": {"nodeName": node},
        "status": {"phase": "Running"},
    }


def test_selective_reads_use_indexes_not_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ObjectStore(DEFAULT_REGISTRY.kinds)
    store.bulk_insert(PODS, (_pod(f"p{i}", f"n{i % 3}", f"a{i % 5}") for i in range(300)))

    def no_scan(self: Table) -> Any:
        raise AssertionError("a selective read scanned the whole kind")

    monkeypatch.setattr(Table, "all", no_scan)
    by_label = store.select(PODS, None, LabelSelector.parse("app=a1"))
    by_node = store.select(
        PODS, None, None, FieldSelector.parse("spec.nodeName=n2", PODS.all_field_selectors)
    )
    by_ns = store.select(PODS, "ns", LabelSelector.parse("app!=a1"))
    assert len(by_label) == 60
    assert all(s.labels["app"] == "a1" for s in by_label)
    assert len(by_node) == 100
    assert len(by_ns) == 240
    assert [s.name for s in by_label] == sorted(s.name for s in by_label)


def test_updates_move_objects_between_index_buckets() -> None:
    store = ObjectStore(DEFAULT_REGISTRY.kinds)
    store.bulk_insert(PODS, [_pod("p", "n1", "web")])
    stored = store.get(PODS, "ns", "p")
    assert stored is not None
    store.replace(stored, _pod("p", "n2", "db"))
    assert store.select(PODS, None, LabelSelector.parse("app=web")) == []
    assert [s.name for s in store.select(PODS, None, LabelSelector.parse("app=db"))] == ["p"]
    node = FieldSelector.parse("spec.nodeName=n2", PODS.all_field_selectors)
    assert [s.name for s in store.select(PODS, None, None, node)] == ["p"]
    store.remove(stored)
    assert store.select(PODS, None, LabelSelector.parse("app=db")) == []
    assert store.count(PODS) == 0


def test_deleted_event_carries_a_new_resource_version() -> None:
    store = ObjectStore(DEFAULT_REGISTRY.kinds)
    store.bulk_insert(PODS, [_pod("p", "n1", "web")])
    stored = store.get(PODS, "ns", "p")
    assert stored is not None
    raw = store.remove(stored)
    assert f'"resourceVersion":"{store.rv}"'.encode() in raw
    assert store.table(PODS).history[-1].type == "DELETED"


def test_index_answered_selectors_still_filter_namespace_and_other_requirements() -> None:
    """A label read answered by its index skips re-matching only what the index proved."""
    store = ObjectStore(DEFAULT_REGISTRY.kinds)
    pods = []
    for i in range(40):
        pod = _pod(f"p{39 - i:02d}", "n1", f"a{i % 2}")
        pod["metadata"]["namespace"] = f"ns{i % 4}"
        if i in (0, 1, 2, 3, 5):
            pod["metadata"]["labels"]["rare"] = "yes"
        pods.append(pod)
    store.bulk_insert(PODS, pods)

    def names(namespace: str | None, selector: str) -> list[str]:
        found = store.select(PODS, namespace, LabelSelector.parse(selector))
        return [f"{s.namespace}/{s.name}" for s in found]

    def expected(namespace: str | None, labels: dict[str, str]) -> list[str]:
        return sorted(
            f"{p['metadata']['namespace']}/{p['metadata']['name']}"
            for p in pods
            if namespace in (None, p["metadata"]["namespace"])
            and labels.items() <= p["metadata"]["labels"].items()
        )

    # The rare bucket (5 pods, 4 namespaces) is smaller than a namespace (10 pods):
    # it answers the read, and the namespace must still be checked.
    assert names("ns1", "rare=yes") == ["ns1/p34", "ns1/p38"] == expected("ns1", {"rare": "yes"})
    assert names("ns1", "rare in (yes)") == expected("ns1", {"rare": "yes"})
    # Two requirements: the index answers one, the other is still matched.
    assert names("ns1", "rare=yes,app=a1") == expected("ns1", {"rare": "yes", "app": "a1"})
    assert names(None, "rare=yes,app=a0") == expected(None, {"rare": "yes", "app": "a0"})
    # A namespace map smaller than the label bucket answers; labels are matched.
    assert names("ns0", "app=a0") == expected("ns0", {"app": "a0"})
    assert names("ns1", "app=a0") == []
    assert names(None, "app=a0") == expected(None, {"app": "a0"})
