"""Load shapes as Locust ``LoadTestShape`` classes: one per kind a profile may declare.

Each class reads the run's plan (the profile's ``load.shape``, rescaled by the command
line) at its first tick, from the master's options, and asks
:func:`loadtests.schedule.users_at` for the users at the current second. The
locustfile exposes exactly one of them, the class for the plan's kind (Locust uses
the shape class it finds in the locustfile's namespace).
"""

from __future__ import annotations

from typing import Any, ClassVar

from locust import LoadTestShape

from loadtests.plan import LoadPlan
from loadtests.reporting import plan_of
from loadtests.schedule import users_at
from scenarios.schema import LoadShape


class _PlanShape(LoadTestShape):
    abstract = True
    kind: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._plan: LoadPlan | None = None
        self._shape: LoadShape | None = None

    def tick(self) -> Any:
        if self._shape is None:
            assert self.runner is not None
            self._plan = plan_of(self.runner.environment)
            self._shape = self._plan.shape()
            if self._shape.kind != self.kind:
                raise ValueError(
                    f"{type(self).__name__} runs {self.kind} shapes, not {self._shape.kind}"
                )
        assert self._plan is not None
        elapsed: float = self.get_run_time()  # type: ignore[no-untyped-call]
        return users_at(self._shape, elapsed, self._plan.spawn_rate)


class SteadyShape(_PlanShape):
    """``users`` for ``duration`` seconds."""

    abstract = False
    kind = "steady"


class RampShape(_PlanShape):
    """From ``start_users`` to ``end_users`` in steps, then a hold."""

    abstract = False
    kind = "ramp"


class SpikeShape(_PlanShape):
    """A base load with a spike of ``spike_users`` in it."""

    abstract = False
    kind = "spike"


class SoakShape(_PlanShape):
    """A long steady load after a linear ramp-up."""

    abstract = False
    kind = "soak"


SHAPES: dict[str, type[_PlanShape]] = {
    c.kind: c for c in (SteadyShape, RampShape, SpikeShape, SoakShape)
}
