"""The injector's pure decision: seeded, ordered, independent per rule."""

from __future__ import annotations

import pytest

from fakes.kube.controllers.config import Delay
from fakes.kube.faults import FaultInjector, RequestMeta, Rule


def test_probabilistic_rules_are_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        faults = FaultInjector(seed=seed)
        faults.add(Rule(verb="get", error=500, probability=0.3))
        meta = RequestMeta("get", "pods", "", "default", "p")
        return [faults.decide(meta, float(i)).error is not None for i in range(200)]

    first = run(11)
    assert first == run(11)
    assert first != run(12)
    assert 30 < sum(first) < 90


def test_adding_a_rule_does_not_shift_another_rules_draws() -> None:
    meta = RequestMeta("get", "pods", "", "default", "p")
    alone = FaultInjector(seed=3)
    alone.add(Rule(label="flaky", verb="get", error=503, probability=0.5))
    both = FaultInjector(seed=3)
    both.add(Rule(label="slow", verb="get", latency=Delay.uniform(0, 1)))
    both.add(Rule(label="flaky", verb="get", error=503, probability=0.5))
    a = [alone.decide(meta, 0).error is not None for _ in range(50)]
    b = [both.decide(meta, 0).error is not None for _ in range(50)]
    assert a == b


def test_rule_rejects_errors_it_cannot_inject() -> None:
    with pytest.raises(ValueError, match="use one of 409, 429, 500, 503, 504"):
        Rule(error=418)
