"""A profile's ``load:`` section: shapes, mix and SLOs validated like the rest, at file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loadtests.mix import check_mix
from scenarios import ProfileError, load_profile, resolve_profile

BASE = """\
name: Mine
cluster:
  node_pools:
    pool: {count: 1, cpu: "2", memory: 4Gi, pods: 20}
"""
MIX = """\
  workflows:
    - template:
        name: one
        steps:
          - {id: work, action: noop}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Mine.yaml"
    path.write_text(BASE + text)
    return path


def _resolve_and_check(path: Path) -> None:
    profile, origins = resolve_profile(path)
    check_mix(profile, origins)


def problems(path: Path) -> list[str]:
    with pytest.raises(ProfileError) as info:
        _resolve_and_check(path)
    return [str(p) for p in info.value.problems]


def test_a_profile_without_load_has_none() -> None:
    assert load_profile("LargeCluster").load is None


def test_the_shipped_load_profiles_resolve() -> None:
    load = load_profile("HighLoadProduction").load
    assert load is not None
    assert load.nightly
    assert load.shape.kind == "ramp"
    assert [w.template.name for w in load.workflows] == [
        "load-remediate",
        "load-one-step",
        "load-flaky",
    ]
    assert load.slos.p95_completion_ms == 30000
    inherited = load_profile("DisasterRecovery").load
    assert inherited is not None
    assert not inherited.nightly  # extends HighLoadProduction, not run every night
    assert inherited.shape == load.shape


def test_a_shape_field_out_of_range_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        textwrap.dedent("""\
        load:
          shape:
            ramp: {end_users: 0, duration: 10, hold: -1}
        """)
        + MIX,
    )
    assert problems(path) == [
        f"{path}:7 field 'load.shape.ramp.end_users': Input should be greater than or equal to 1",
        f"{path}:7 field 'load.shape.ramp.hold': Input should be greater than or equal to 0",
    ]


def test_a_shape_needs_exactly_one_kind(tmp_path: Path) -> None:
    two = write(
        tmp_path,
        textwrap.dedent("""\
        load:
          shape:
            steady: {users: 1, duration: 1}
            soak: {users: 1, duration: 10}
        """)
        + MIX,
    )
    assert problems(two) == [
        f"{two}:6 field 'load.shape': give exactly one of steady, ramp, spike or soak, not "
        "steady and soak (a profile inherits its base's shape: set the one you do not want to null)"
    ]
    none = write(tmp_path, "load:\n  shape: {}\n" + MIX)
    assert problems(none) == [
        f"{none}:6 field 'load.shape': give one of steady, ramp, spike or soak, e.g. "
        "{steady: {users: 10, duration: 60}}"
    ]


def test_an_unknown_shape_field_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "load:\n  shape:\n    steady: {users: 1, duration: 1, rate: 3}\n" + MIX)
    assert problems(path) == [f"{path}:7 field 'load.shape.steady.rate': unknown field"]


def test_a_spike_must_rise_and_end_inside_the_run(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "load:\n  shape:\n    spike: {users: 5, spike_users: 5, at: 8, length: 4, duration: 10}\n"
        + MIX,
    )
    assert problems(path) == [
        f"{path}:7 field 'load.shape.spike': spike_users 5 must be above users 5"
    ]
    path = write(
        tmp_path,
        "load:\n  shape:\n    spike: {users: 5, spike_users: 9, at: 8, length: 4, duration: 10}\n"
        + MIX,
    )
    assert problems(path) == [
        f"{path}:7 field 'load.shape.spike': the spike (8 s + 4 s) ends after duration 10 s: "
        "shorten it or lengthen duration"
    ]


def test_a_soak_ramp_must_end_before_the_run(tmp_path: Path) -> None:
    path = write(
        tmp_path, "load:\n  shape:\n    soak: {users: 5, duration: 10, ramp_up: 10}\n" + MIX
    )
    assert problems(path) == [
        f"{path}:7 field 'load.shape.soak': ramp_up 10 s must be shorter than duration 10 s"
    ]


def test_slos_are_checked_and_a_mix_is_required(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        textwrap.dedent("""\
        load:
          shape: {steady: {users: 1, duration: 1}}
          slos: {max_failure_ratio: 2, p95_completion_ms: 0}
        """),
    )
    assert problems(path) == [
        f"{path}:5 field 'load.workflows': required field is missing",
        f"{path}:7 field 'load.slos.p95_completion_ms': Input should be greater than 0",
        f"{path}:7 field 'load.slos.max_failure_ratio': Input should be less than or equal to 1",
    ]


def test_a_mix_template_is_compiled_and_its_problems_are_at_its_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        textwrap.dedent("""\
        load:
          shape: {steady: {users: 1, duration: 1}}
          workflows:
            - template:
                name: bad
                steps:
                  - {id: a, action: nope}
                  - {id: b, action: noop, depends_on: [zz]}
        """),
    )
    assert problems(path) == [
        f"{path}:11 step 'a' field 'load.workflows.0.template.action': unknown action 'nope' "
        "(did you mean 'noop'?)",
        f"{path}:12 step 'b' field 'load.workflows.0.template.depends_on': unknown step 'zz'",
    ]


def test_the_same_template_twice_in_the_mix_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        textwrap.dedent("""\
        load:
          shape: {steady: {users: 1, duration: 1}}
          workflows:
            - template: {name: one, steps: [{id: a, action: noop}]}
            - template: {name: one, steps: [{id: b, action: noop}]}
        """),
    )
    assert problems(path) == [
        f"{path}:7 field 'load.workflows': template 'one' version 1 is in the mix twice: give "
        "the entries other names or versions, or add their weights"
    ]


def test_an_expected_status_must_be_terminal(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        textwrap.dedent("""\
        load:
          shape: {steady: {users: 1, duration: 1}}
          workflows:
            - template: {name: one, steps: [{id: a, action: noop}]}
              expect: [Running]
        """),
    )
    [problem] = problems(path)
    assert problem.startswith(f"{path}:9 field 'load.workflows.0.expect.0': Input should be ")
