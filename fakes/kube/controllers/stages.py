"""kwok-style lifecycle stages: (selector, delay, next state) instead of hand-written loops.

A :class:`Stage` says *which* objects it applies to (``match``), *how long* after the
object entered that state it fires (``delay``, sampled from a seeded stream), and
*what* it does (``apply``: write the next state, or delete). A :class:`StageRunner`
follows one kind: on every change it finds the first matching stage for the object
and arms one loop timer; when the timer fires it re-reads the object and applies the
stage only if it still matches. Writing the next state triggers the next stage.

Stages marked ``steady`` describe a state that never converges (a crash loop); their
timers do not keep the simulation "busy", so ``settle`` can return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.base import Context, Controller

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from fakes.kube.store import Change

JsonObj = dict[str, Any]


@dataclass(frozen=True)
class Stage:
    """One lifecycle step (see module docstring)."""

    name: str
    match: Callable[[JsonObj], bool]
    delay: Callable[[JsonObj, random.Random], float]
    apply: Callable[[JsonObj], None]
    steady: bool = False


class StageRunner(Controller):
    """Drives the objects of one kind through an ordered list of stages."""

    def __init__(self, ctx: Context, kind_name: str, stages: list[Stage], name: str) -> None:
        super().__init__(ctx)
        self.kind_name = kind_name
        self.stages = stages
        self.name = name
        self.resource = self.kind(kind_name)
        self.rng = ctx.rng(name)
        self._armed: dict[tuple[str, str], str] = {}

    def setup(self) -> None:
        self.watch(self.kind_name, self._on_change)

    def resync(self) -> None:
        for stored in self.access.store.select(self.resource):
            self.enqueue((stored.namespace, stored.name))

    def _on_change(self, change: Change) -> None:
        self.enqueue((change.namespace, change.name))

    def stage_for(self, obj: JsonObj) -> Stage | None:
        for stage in self.stages:
            if stage.match(obj):
                return stage
        return None

    def reconcile(self, key: Any) -> None:
        if isinstance(key, tuple) and len(key) == 3:
            self._fire(key)
            return
        namespace, name = key
        obj = self.access.get(self.resource, namespace, name)
        stage = self.stage_for(obj) if obj is not None else None
        armed = self._armed.get(key)
        if stage is None:
            if armed is not None:
                del self._armed[key]
                self.cancel_after((namespace, name, armed))
            return
        if armed == stage.name:
            return
        if armed is not None:
            self.cancel_after((namespace, name, armed))
        assert obj is not None
        self._armed[key] = stage.name
        delay = stage.delay(obj, self.rng)
        self.enqueue_after((namespace, name, stage.name), delay, counts=not stage.steady)

    def _fire(self, key: tuple[str, str, str]) -> None:
        namespace, name, stage_name = key
        if self._armed.get((namespace, name)) != stage_name:
            return
        del self._armed[(namespace, name)]
        obj = self.access.get(self.resource, namespace, name)
        if obj is None:
            return
        stage = self.stage_for(obj)
        if stage is None or stage.name != stage_name:
            self.enqueue((namespace, name))
            return
        stage.apply(obj)
        # The write re-enters through the listener; if apply wrote nothing, re-check.
        self.enqueue((namespace, name))
