"""``extends`` override semantics: mappings merge, lists and scalars replace, null removes."""

from __future__ import annotations

from pathlib import Path

from scenarios import load_profile
from scenarios.merge import Origins, deep_merge


def test_mappings_merge_lists_and_scalars_replace_null_removes() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": {"keep": True}, "d": "gone"}
    over = {"a": {"y": [3], "z": 4}, "b": {"now": "a map"}, "d": None}
    assert deep_merge(base, over) == {
        "a": {"x": 1, "y": [3], "z": 4},
        "b": {"now": "a map"},
        "c": {"keep": True},
    }
    assert base["a"] == {"x": 1, "y": [1, 2]}  # inputs untouched


def test_origins_of_replaced_values_are_dropped() -> None:
    origins = Origins({("a",): ("base", 1), ("a", 0): ("base", 2), ("a", 1): ("base", 3)})
    deep_merge({"a": [1, 2]}, {"a": [9]}, origins)
    assert origins.at == {("a",): ("base", 1)}
    assert origins.locate(("a", 1, "deeper")) == ("base", 1)


def test_a_profile_overrides_one_field_of_its_base_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "Bigger.yaml").write_text(
        """\
name: Bigger
extends: HighLoadProduction
seed: 9
cluster:
  node_pools:
    production: {count: 5}
  namespaces:
    default:
      deployments:
        api-gateway: {replicas: 7}
    workflows: null
  events:
    - {at: 30, node: prod-node-5, event: Cordon}
engine:
  retry: {max_attempts: 9}
"""
    )
    base = load_profile("HighLoadProduction")
    mine = load_profile(tmp_path / "Bigger.yaml")
    assert mine.seed == 9
    assert mine.extends == "HighLoadProduction"
    pool = mine.cluster.node_pools["production"]
    assert (pool.count, pool.cpu, pool.name_pattern) == (5, "4", "prod-node-{i}")
    default = mine.cluster.namespaces["default"]
    assert default.deployments["api-gateway"].replicas == 7
    assert (
        default.deployments["api-gateway"].hpa
        == base.cluster.namespaces["default"].deployments["api-gateway"].hpa
    )
    assert default.deployments["user-service"].replicas == 8
    assert set(mine.cluster.namespaces) == {"default", "kubernaut"}
    assert mine.engine.retry.max_attempts == 9
    assert mine.engine.retry.backoff == "exponential"
    assert mine.engine.max_concurrency == 200


def test_lists_in_an_override_replace_the_bases(tmp_path: Path) -> None:
    (tmp_path / "Calm.yaml").write_text(
        "name: Calm\nextends: FlakyControlPlane\nfaults:\n  - {label: only, error: 503}\n"
    )
    assert [f.label for f in load_profile(tmp_path / "Calm.yaml").faults] == ["only"]
