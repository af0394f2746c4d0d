"""The plan of one load run: what ``windtunnel load`` hands to every Locust process.

The CLI resolves the profile and the command-line overrides into a :class:`LoadPlan`
and passes it to Locust as one JSON option (``--windtunnel-plan``). Locust forwards
custom options from the master to its workers, so a worker on another machine, started
with nothing but ``--worker --master-host H``, runs the same plan; it resolves the
profile by name from its own checkout. The service's bearer token travels apart, in
``WINDTUNNEL_LOAD_TOKEN`` (an option read from the environment, so it never appears
on a command line), and is forwarded the same way.

Everything here is plain data: no Locust, no gevent, no event loop.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from loadtests.schedule import scaled
from scenarios import Profile, load_profile
from scenarios.schema import Load, LoadShape

Mode = Literal["http", "inprocess"]
MODES: tuple[Mode, ...] = ("http", "inprocess")

PLAN_OPTION = "--windtunnel-plan"
TOKEN_OPTION = "--windtunnel-token"
TOKEN_ENV = "WINDTUNNEL_LOAD_TOKEN"
STORE_TAG_ENV = "WINDTUNNEL_LOAD_TAG"
"""Names this machine's in-process store files, so a worker finds its own afterwards."""
STORE_ROOT_ENV = "WINDTUNNEL_LOAD_STORE_ROOT"
"""A worker's own ``reports/load``: its stores go to ``<root>/<run-id>/stores/`` there."""
PROGRESS_MARK = "WINDTUNNEL-PROGRESS "
"""Prefix of the progress lines the Locust master prints on stdout for the CLI."""


class PlanError(ValueError):
    """The plan cannot run as given; the message says what to change."""


@dataclass(frozen=True)
class LoadPlan:
    """One run (see module docstring). ``users``/``duration`` rescale the profile's shape."""

    run_id: str
    scenario: str
    """A shipped profile's name or a profile file's path."""
    mode: Mode
    seed: int
    store_dir: str
    """Where in-process engines keep their SQLite stores (one file per process)."""
    users: int | None = None
    duration: float | None = None
    spawn_rate: float | None = None
    wait_seconds: float | None = None
    """Think time between a user's executions; None: the profile's."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LoadPlan:
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise PlanError(
                f"{PLAN_OPTION} is not a load plan ({exc}); start Locust through "
                "'windtunnel load', which writes it"
            ) from None

    # -- what the plan implies ---------------------------------------------------

    def profile(self) -> Profile:
        return _profile(self.scenario)

    def load(self) -> Load:
        return load_of(self.profile())

    def shape(self) -> LoadShape:
        return scaled(self.load().shape, users=self.users, duration=self.duration)

    def think_time(self) -> float:
        return self.load().wait_seconds if self.wait_seconds is None else self.wait_seconds

    def store_path(self, tag: str, pid: int, root: str | None = None) -> Path:
        """The SQLite file of one process's in-process engine."""
        folder = Path(root) / self.run_id / "stores" if root else Path(self.store_dir)
        return folder / f"inprocess-{tag}-{pid}.sqlite"


@cache
def _profile(scenario: str) -> Profile:
    return load_profile(scenario)


def load_of(profile: Profile) -> Load:
    """The profile's ``load:`` section; a clear error when it has none."""
    if profile.load is None:
        raise PlanError(
            f"profile {profile.name!r} has no 'load:' section: add one with a shape, a "
            "workflow mix and SLOs (see the README's load-testing section), or choose a "
            "profile that has one (HighLoadProduction, BasicDevelopment)"
        )
    return profile.load
