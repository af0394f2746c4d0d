"""Bad profiles: every problem names its file, line and field, and says what would be right."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scenarios import ProfileError, load_profile

GOOD = """\
name: Mine
description: a small cluster
cluster:
  node_pools:
    pool:
      count: 2
      cpu: "2"
      memory: 4Gi
      pods: 20
  namespaces:
    default:
      quota: {cpu: "1", memory: 2Gi, pods: 10}
      deployments:
        web:
          replicas: 2
          requests: {cpu: 100m, memory: 128Mi}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    return [str(p) for p in info.value.problems]


def test_a_good_profile_file_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "mine.yaml", GOOD))
    assert profile.cluster.namespaces["default"].deployments["web"].replicas == 2


def test_unknown_field_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "mine.yaml", GOOD.replace("      pods: 20", "      pods: 20\n      cpuu: 3")
    )
    assert problems(path) == [f"{path}:10 field 'cluster.node_pools.pool.cpuu': unknown field"]


def test_wrong_type_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", GOOD.replace("replicas: 2", "replicas: many"))
    [problem] = problems(path)
    assert problem.startswith(
        f"{path}:15 field 'cluster.namespaces.default.deployments.web.replicas': "
    )
    assert "integer" in problem


def test_bad_quantity_says_what_a_quantity_looks_like(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", GOOD.replace("memory: 4Gi", "memory: 4 gigs"))
    [problem] = problems(path)
    assert problem.startswith(f"{path}:8 field 'cluster.node_pools.pool.memory': ")
    assert "'4 gigs' is not a Kubernetes quantity (e.g. 250m, 2, 512Mi, 4Gi)" in problem


def test_invalid_yaml_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", GOOD.replace("    pool:\n", "    pool: [\n"))
    [problem] = problems(path)
    assert problem.startswith(f"{path}:")
    assert "invalid YAML" in problem


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, "mine.yaml", GOOD.replace("      count: 2\n", "      count: 2\n      count: 3\n")
    )
    assert problems(path) == [f"{path}:7 field 'cluster.node_pools.pool': duplicate key 'count'"]


def test_unknown_base_names_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: Mine\nextends: HighLoadProduktion\n")
    [problem] = problems(path)
    assert problem.startswith(
        f"{path}:2 field 'extends': unknown base profile 'HighLoadProduktion'; known: "
    )
    assert "HighLoadProduction" in problem


def test_extends_cycle_is_reported_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "A.yaml", "name: A\nextends: B\n")
    write(tmp_path, "B.yaml", "name: B\nextends: C\n")
    write(tmp_path, "C.yaml", "name: C\nextends: A\n")
    assert problems(tmp_path / "A.yaml") == [
        f"{tmp_path / 'C.yaml'}:2 field 'extends': extends cycle: A -> B -> C -> A"
    ]


def test_a_profile_file_needs_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "description: nameless\n")
    assert problems(path) == [
        f"{path}:1 field 'name': every profile file needs a 'name' (a string)"
    ]


def test_an_error_in_the_base_is_reported_in_the_base_file(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "Base.yaml",
        GOOD.replace("name: Mine", "name: Base").replace("count: 2", "count: -1"),
    )
    child = write(tmp_path, "child.yaml", "name: Child\nextends: Base\n")
    [problem] = problems(child)
    assert problem.startswith(f"{base}:6 field 'cluster.node_pools.pool.count': ")


def test_unknown_block_names_the_known_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.yaml",
        GOOD.replace("    default:\n", "    default:\n      workloads: [HighThroughputService]\n"),
    )
    [problem] = problems(path)
    assert problem.startswith(
        f"{path}:12 field 'cluster.namespaces.default.workloads.0': unknown workloads block "
        "'HighThroughputService'; known: "
    )
    assert "HighThroughputServices" in problem


def test_a_resources_block_used_as_workloads_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.yaml",
        GOOD.replace(
            "    default:\n", "    default:\n      workloads: [ProductionResourceLimits]\n"
        ),
    )
    assert problems(path) == [
        f"{path}:12 field 'cluster.namespaces.default.workloads.0': block "
        "'ProductionResourceLimits' is not a workloads block"
    ]


def test_an_error_inside_a_local_block_is_reported_in_the_block_file(tmp_path: Path) -> None:
    block = write(
        tmp_path,
        "blocks/Tiny.yaml",
        """\
        name: Tiny
        kind: workloads
        deployments:
          tiny:
            replicas: 1
            requets: {cpu: 10m}
        """,
    )
    path = write(
        tmp_path,
        "mine.yaml",
        GOOD.replace("    default:\n", "    default:\n      workloads: [Tiny]\n"),
    )
    assert problems(path) == [f"{block}:6 field 'deployments.tiny.requets': unknown field"]


def test_a_pod_bigger_than_every_node_cannot_fit(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.yaml",
        GOOD.replace("requests: {cpu: 100m, memory: 128Mi}", "requests: {cpu: '3', memory: 128Mi}"),
    )
    found = problems(path)
    assert (
        f"{path}:14 field 'cluster.namespaces.default.deployments.web': deployment 'web' in "
        "namespace 'default': one pod requests 3 CPU / 128Mi, more than any node it may run on "
        "offers (node-N 2 CPU / 4096Mi); it could never be scheduled"
    ) in found
    assert any("more CPU than the namespace quota allows (1)" in p for p in found)


def test_a_pod_without_requests_in_a_quotaed_namespace_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, "mine.yaml", GOOD.replace("          requests: {cpu: 100m, memory: 128Mi}\n", "")
    )
    found = problems(path)
    assert len(found) == 2
    assert "the namespace quota limits CPU requests but its pods request no CPU" in found[0]


def test_a_pod_that_tolerates_no_pool_cannot_be_scheduled(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.yaml",
        GOOD.replace(
            "      pods: 20\n", "      pods: 20\n      taints: [{key: gpu, effect: NoSchedule}]\n"
        ),
    )
    [problem] = problems(path)
    assert "no node pool matches its node_selector and tolerations" in problem


def test_timed_event_on_an_unknown_node(tmp_path: Path) -> None:
    path = write(
        tmp_path, "mine.yaml", GOOD + "  events:\n    - {at: 10, node: node-9, event: NotReady}\n"
    )
    assert problems(path) == [
        f"{path}:18 field 'cluster.events.0.node': no node named 'node-9' in the profile's node "
        "pools (use a node name, 'first' or 'last')"
    ]


def test_timed_event_kind_and_fault_code_are_checked(tmp_path: Path) -> None:
    text = (
        GOOD + "  events:\n    - {at: 10, node: last, event: Explode}\nfaults:\n  - {error: 418}\n"
    )
    found = problems(write(tmp_path, "mine.yaml", text))
    assert found[0].startswith(
        f"{tmp_path / 'mine.yaml'}:18 field 'cluster.events.0.event': Input should be 'NotReady'"
    )
    assert found[1].startswith(
        f"{tmp_path / 'mine.yaml'}:20 field 'faults.0.error': Input should be 409, 429, 500, 503 or 504"
    )


def test_load_must_be_a_mapping(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "mine.yaml", GOOD + "load: [fast]\n"))
    assert found == [
        f"{tmp_path / 'mine.yaml'}:17 field 'load': Input should be a valid dictionary"
    ]


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(
        ProfileError, match="no scenario profile named 'Nope'; known: BasicDevelopment"
    ):
        load_profile("Nope")
