"""Where a load shape stands at second ``t``: the pure part of every load shape.

A profile's ``load.shape`` (``scenarios.schema.LoadShape``) is exactly one of four
kinds; :func:`users_at` says, for a moment of the run, how many users should run and
how fast Locust should start or stop users to get there, or None once the run is over.
The Locust classes in :mod:`loadtests.shapes` only call this, so every shape is tested
here without Locust.

=======  ==================================================================
kind     users over time
=======  ==================================================================
steady   ``users`` until ``duration``
ramp     ``start_users`` to ``end_users`` in ``steps`` equal steps over
         ``duration`` (the first step is already one step up), then
         ``hold`` seconds at ``end_users``
spike    ``users``; ``spike_users`` from ``at`` for ``length``; until ``duration``
soak     ``users`` reached linearly over ``ramp_up``, until ``duration``
=======  ==================================================================

Unless a spawn rate is given, a change of user count happens within a second (the rate
is the new count). :func:`scaled` is what ``windtunnel load --users/--duration`` does
to a profile's shape: every user count and every time scaled by one factor each, so a
ramp stays a ramp and a spike stays where it was in the run.
"""

from __future__ import annotations

import math
from typing import Any

from scenarios.schema import LoadShape, RampShape, SoakShape, SpikeShape, SteadyShape

Tick = tuple[int, float]


def total_duration(shape: LoadShape) -> float:
    """Seconds from the start of the run to its end."""
    if shape.ramp is not None:
        return shape.ramp.duration + shape.ramp.hold
    part = shape.steady or shape.spike or shape.soak
    assert part is not None
    return part.duration


def peak_users(shape: LoadShape) -> int:
    """The most users the shape ever asks for."""
    if shape.steady is not None:
        return shape.steady.users
    if shape.ramp is not None:
        return max(shape.ramp.start_users, shape.ramp.end_users)
    if shape.spike is not None:
        return shape.spike.spike_users
    assert shape.soak is not None
    return shape.soak.users


def users_at(shape: LoadShape, t: float, spawn_rate: float | None = None) -> Tick | None:
    """``(users, spawn rate)`` at ``t`` seconds into the run, or None when it is over."""
    if t < 0:
        t = 0.0
    if shape.steady is not None:
        return _steady(shape.steady, t, spawn_rate)
    if shape.ramp is not None:
        return _ramp(shape.ramp, t, spawn_rate)
    if shape.spike is not None:
        return _spike(shape.spike, t, spawn_rate)
    assert shape.soak is not None
    return _soak(shape.soak, t, spawn_rate)


def _rate(users: int, spawn_rate: float | None) -> float:
    return spawn_rate if spawn_rate is not None else float(max(users, 1))


def _steady(s: SteadyShape, t: float, spawn_rate: float | None) -> Tick | None:
    if t >= s.duration:
        return None
    return s.users, spawn_rate or s.spawn_rate or float(s.users)


def _ramp(r: RampShape, t: float, spawn_rate: float | None) -> Tick | None:
    if t >= r.duration + r.hold:
        return None
    if t >= r.duration:
        return r.end_users, _rate(r.end_users, spawn_rate)
    step = min(int(t / (r.duration / r.steps)), r.steps - 1)
    users = r.start_users + round((r.end_users - r.start_users) * (step + 1) / r.steps)
    users = max(users, 1)
    return users, _rate(users, spawn_rate)


def _spike(s: SpikeShape, t: float, spawn_rate: float | None) -> Tick | None:
    if t >= s.duration:
        return None
    users = s.spike_users if s.at <= t < s.at + s.length else s.users
    return users, _rate(users, spawn_rate)


def _soak(s: SoakShape, t: float, spawn_rate: float | None) -> Tick | None:
    if t >= s.duration:
        return None
    if s.ramp_up > 0 and t < s.ramp_up:
        # Locust starts users at the rate given until it has them all: a linear ramp.
        return s.users, spawn_rate or s.users / s.ramp_up
    return s.users, _rate(s.users, spawn_rate)


def scaled(
    shape: LoadShape, *, users: int | None = None, duration: float | None = None
) -> LoadShape:
    """The shape with its peak at ``users`` and its end at ``duration`` (see module doc)."""
    if users is not None and users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if duration is not None and duration <= 0:
        raise ValueError(f"duration must be above 0 seconds, got {duration:g}")
    g = 1.0 if users is None else users / peak_users(shape)
    f = 1.0 if duration is None else duration / total_duration(shape)

    def n(value: int, least: int = 1) -> int:
        return max(least, round(value * g)) if users is not None else value

    def s(value: float) -> float:
        return value * f

    data: dict[str, Any]
    if shape.steady is not None:
        st = shape.steady
        data = {"steady": {"users": n(st.users), "duration": s(st.duration)}}
        if st.spawn_rate is not None:
            data["steady"]["spawn_rate"] = st.spawn_rate * g
    elif shape.ramp is not None:
        r = shape.ramp
        data = {
            "ramp": {
                "start_users": n(r.start_users, 0),
                "end_users": n(r.end_users),
                "duration": s(r.duration),
                "steps": r.steps,
                "hold": s(r.hold),
            }
        }
    elif shape.spike is not None:
        sp = shape.spike
        base = n(sp.users)
        data = {
            "spike": {
                "users": base,
                "spike_users": max(n(sp.spike_users), base + 1),
                "at": s(sp.at),
                "length": s(sp.length),
                "duration": s(sp.duration),
            }
        }
    else:
        so = shape.soak
        assert so is not None
        data = {
            "soak": {"users": n(so.users), "duration": s(so.duration), "ramp_up": s(so.ramp_up)}
        }
    return LoadShape.model_validate(data)


def ticks(shape: LoadShape, every: float = 1.0, spawn_rate: float | None = None) -> list[Tick]:
    """The shape sampled every ``every`` seconds until it ends (for plans and tests)."""
    out: list[Tick] = []
    for i in range(math.ceil(total_duration(shape) / every) + 1):
        tick = users_at(shape, i * every, spawn_rate)
        if tick is None:
            break
        out.append(tick)
    return out
