"""The workflow mix: weighted, seeded per user, with the profile's defaults applied."""

from __future__ import annotations

from collections import Counter

from loadtests.mix import WorkflowMix
from scenarios import load_profile


def test_each_user_draws_the_same_sequence_for_the_same_seed() -> None:
    mix = WorkflowMix.of(load_profile("HighLoadProduction"))
    first = mix.picker("42:0:1")
    again = mix.picker("42:0:1")
    other = mix.picker("42:0:2")
    a = [first().name for _ in range(50)]
    assert a == [again().name for _ in range(50)]
    assert a != [other().name for _ in range(50)]


def test_draws_follow_the_weights() -> None:
    mix = WorkflowMix.of(load_profile("HighLoadProduction"))
    pick = mix.picker("weights")
    counts = Counter(pick().name for _ in range(10_000))
    assert [e.weight for e in mix.entries] == [6, 3, 1]
    assert 5700 < counts["load-remediate"] < 6300
    assert 2700 < counts["load-one-step"] < 3300
    assert 800 < counts["load-flaky"] < 1200


def test_templates_carry_the_profiles_defaults_so_both_users_run_the_same() -> None:
    mix = WorkflowMix.of(load_profile("HighLoadProduction"))
    one = next(e for e in mix.entries if e.name == "load-one-step")
    assert one.template.timeout == 600  # the profile's workflow_timeout
    assert one.template.steps[0].timeout == 60  # its step_timeout
    assert one.template.retry.max_attempts == 3  # its default retry policy
    flaky = next(e for e in mix.entries if e.name == "load-flaky")
    assert flaky.template.steps[0].retry is not None
    assert flaky.template.steps[0].retry.max_attempts == 4  # its own, kept
    data = one.template_json()
    assert data["name"] == "load-one-step"
    assert data["steps"][0]["action"] == "noop"
    assert one.expect == frozenset({"Succeeded"})
