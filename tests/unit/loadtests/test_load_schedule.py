"""Load shapes over time: what each kind asks Locust for, second by second, and scaling."""

from __future__ import annotations

import pytest

from loadtests.schedule import peak_users, scaled, ticks, total_duration, users_at
from scenarios.schema import LoadShape


def shape(**data: object) -> LoadShape:
    return LoadShape.model_validate(data)


def test_steady_holds_its_users_until_the_end_then_stops() -> None:
    s = shape(steady={"users": 5, "duration": 3})
    assert ticks(s) == [(5, 5.0), (5, 5.0), (5, 5.0)]
    assert users_at(s, 2.999) == (5, 5.0)
    assert users_at(s, 3.0) is None


def test_steady_spawn_rate_comes_from_the_profile_unless_the_command_line_gives_one() -> None:
    s = shape(steady={"users": 10, "duration": 5, "spawn_rate": 2})
    assert users_at(s, 0) == (10, 2.0)
    assert users_at(s, 0, spawn_rate=4) == (10, 4.0)


def test_ramp_climbs_in_equal_steps_the_first_already_up_then_holds() -> None:
    s = shape(ramp={"start_users": 0, "end_users": 40, "duration": 4, "steps": 4, "hold": 2})
    assert [users for users, _ in ticks(s)] == [10, 20, 30, 40, 40, 40]
    assert users_at(s, 6.0) is None
    assert total_duration(s) == 6.0


def test_ramp_down_is_a_ramp_too() -> None:
    s = shape(ramp={"start_users": 30, "end_users": 10, "duration": 2, "steps": 2})
    assert [users for users, _ in ticks(s)] == [20, 10]
    assert peak_users(s) == 30


def test_spike_rises_at_its_second_for_its_length_only() -> None:
    s = shape(spike={"users": 2, "spike_users": 20, "at": 3, "length": 2, "duration": 8})
    assert [users for users, _ in ticks(s)] == [2, 2, 2, 20, 20, 2, 2, 2]
    assert users_at(s, 8) is None


def test_soak_ramps_up_linearly_through_locusts_spawn_rate() -> None:
    s = shape(soak={"users": 100, "duration": 600, "ramp_up": 50})
    assert users_at(s, 10) == (100, 2.0)  # 100 users over 50 s: 2 a second
    assert users_at(s, 50) == (100, 100.0)
    assert users_at(s, 600) is None


@pytest.mark.parametrize(
    "data",
    [
        {"steady": {"users": 200, "duration": 300, "spawn_rate": 20}},
        {"ramp": {"start_users": 20, "end_users": 200, "duration": 60, "steps": 9, "hold": 240}},
        {"spike": {"users": 50, "spike_users": 200, "at": 100, "length": 30, "duration": 300}},
        {"soak": {"users": 200, "duration": 300, "ramp_up": 60}},
    ],
)
def test_scaling_moves_the_peak_and_the_end_and_keeps_the_kind(data: dict[str, object]) -> None:
    s = shape(**data)
    small = scaled(s, users=20, duration=6)
    assert small.kind == s.kind
    assert peak_users(small) == 20
    assert total_duration(small) == pytest.approx(6.0)
    assert scaled(s) == s


def test_a_spike_scaled_down_stays_a_spike() -> None:
    s = shape(spike={"users": 10, "spike_users": 11, "at": 1, "length": 1, "duration": 3})
    small = scaled(s, users=1)
    assert small.spike is not None
    assert (small.spike.users, small.spike.spike_users) == (1, 2)


def test_scaling_refuses_what_no_shape_can_be() -> None:
    s = shape(steady={"users": 2, "duration": 2})
    with pytest.raises(ValueError, match="users must be at least 1"):
        scaled(s, users=0)
    with pytest.raises(ValueError, match="duration must be above 0"):
        scaled(s, duration=0)
