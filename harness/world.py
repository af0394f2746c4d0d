"""The world of one scenario: its event loop, its testbed, and what its steps remember.

Every scenario gets a fresh :class:`World`: a new virtual-time event loop, no testbed
until a step needs one, and empty memory. Steps share state only through it, so
scenarios are independent of each other and of the order (or process) they run in.

The loop is looptime's: time jumps straight to the next timer whenever nothing is
ready, so a step that waits five virtual minutes returns at once, and the same seed
gives the same run. The loop only runs while a step runs: between steps, nothing moves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import looptime

from engine import CompiledWorkflow, ExecutionState
from harness.evidence import ExecutionEvidence, StepEvidence
from harness.testbed import Testbed, TestbedError, TestbedOptions
from scenarios import Profile, load_profile

T = TypeVar("T")

DEFAULT_WAIT = 3600.0
"""How long (virtual seconds) a waiting step waits before it fails, unless told."""


@cache
def cached_profile(name: str) -> Profile:
    """Profiles are immutable once resolved; parse each once per process."""
    return load_profile(name)


@dataclass
class World:
    """See the module docstring."""

    options: TestbedOptions
    default_profile: str
    loop: asyncio.AbstractEventLoop = field(
        default_factory=lambda: looptime.new_event_loop(start=0)
    )
    profile_name: str | None = None
    testbed: Testbed | None = None
    templates: dict[str, CompiledWorkflow] = field(default_factory=dict)
    """Templates the scenario defined, by name (the latest version)."""
    executions: dict[str, str] = field(default_factory=dict)
    """Execution ids by the label a step gave them (``"the execution"`` is the last)."""
    last_execution: str | None = None
    batch: list[str] = field(default_factory=list)
    """Ids of the last group of executions submitted together."""
    errors: list[BaseException] = field(default_factory=list)
    """Errors a step expected (for example a rejected template), for later steps to check."""
    memory: dict[str, Any] = field(default_factory=dict)
    """Anything else a step library module wants to keep for later steps."""
    started_at: float = 0.0
    closed: bool = False

    def __post_init__(self) -> None:
        self.started_at = self.loop.time()

    # -- running -------------------------------------------------------------------

    def run(self, awaitable: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the scenario's loop (virtual time) until it is done."""
        if self.closed:
            awaitable.close()
            raise TestbedError("the scenario is over: its event loop is closed")
        return self.loop.run_until_complete(awaitable)

    def now(self) -> float:
        """Virtual seconds since the scenario began."""
        return self.loop.time() - self.started_at

    # -- the testbed ---------------------------------------------------------------

    def bed(self) -> Testbed:
        """The scenario's testbed, built on the default profile if no step chose one."""
        if self.testbed is None:
            self.use_profile(self.default_profile)
        assert self.testbed is not None
        return self.testbed

    def use_profile(self, name: str) -> Testbed:
        """Build the testbed for profile ``name`` (once; a second, different one is an error)."""
        if self.testbed is not None:
            if self.profile_name == name:
                return self.testbed
            raise TestbedError(
                f"this scenario already runs on the {self.profile_name} cluster; a scenario "
                f"uses one profile, so choose {name} in its first step"
            )
        profile = cached_profile(name)
        bed = Testbed(profile, self.options)
        self.run(bed.start())
        self.testbed, self.profile_name = bed, name
        return bed

    def close(self) -> None:
        """Stop the testbed, cancel what is left on the loop and close it."""
        if self.closed:
            return
        try:
            if self.testbed is not None:
                self.loop.run_until_complete(self.testbed.stop())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.closed = True
            self.loop.close()

    # -- memory --------------------------------------------------------------------

    def remember(self, execution_id: str, label: str | None = None) -> None:
        self.last_execution = execution_id
        if label:
            self.executions[label] = execution_id

    def execution_id(self, label: str | None = None) -> str:
        """The id of a labelled execution, or of the last one submitted."""
        if label is not None:
            try:
                return self.executions[label]
            except KeyError:
                known = ", ".join(repr(k) for k in self.executions) or "none"
                raise AssertionError(
                    f"no execution labelled {label!r} was submitted in this scenario "
                    f"(labelled: {known})"
                ) from None
        if self.last_execution is None:
            raise AssertionError("no execution was submitted yet in this scenario")
        return self.last_execution

    def template(self, name: str | None = None) -> CompiledWorkflow:
        """A template this scenario defined, by name; the only or last one without a name."""
        if name is None:
            if not self.templates:
                raise AssertionError("no workflow was defined yet in this scenario")
            return list(self.templates.values())[-1]
        try:
            return self.templates[name]
        except KeyError:
            known = ", ".join(repr(k) for k in self.templates) or "none"
            raise AssertionError(
                f"no workflow named {name!r} was defined in this scenario (defined: {known})"
            ) from None

    async def wait_for(self, execution_id: str, within: float = DEFAULT_WAIT) -> ExecutionState:
        """The execution once terminal; fails after ``within`` virtual seconds."""
        bed = self.bed()
        try:
            async with asyncio.timeout(within):
                return await bed.engine.wait(execution_id)
        except TimeoutError:
            state = bed.engine.get(execution_id)
            raise AssertionError(
                f"execution {execution_id} did not finish within {within:g} virtual seconds: "
                f"it is {state.status} with steps {_statuses(state)}"
            ) from None

    async def until(
        self,
        condition: Callable[[], bool],
        within: float,
        what: str,
        wake: Callable[[Callable[[], None]], Callable[[], None]] | None = None,
    ) -> None:
        """Wait until ``condition()`` holds, re-checked on every engine event.

        ``wake`` subscribes a callback to whatever else can make it true (defaults to
        the engine's event stream). Fails after ``within`` virtual seconds.
        """
        if condition():
            return
        changed = asyncio.Event()
        subscribe = wake or (lambda cb: self.bed().engine.events.subscribe(lambda _e: cb()))
        unsubscribe = subscribe(changed.set)
        try:
            async with asyncio.timeout(within):
                while not condition():
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(f"{what}: not so after {within:g} virtual seconds") from None
        finally:
            unsubscribe()

    # -- evidence ------------------------------------------------------------------

    def execution_evidence(self) -> list[ExecutionEvidence]:
        """Every execution the scenario ran, as the reports draw them."""
        if self.testbed is None or self.closed:
            return []
        out: list[ExecutionEvidence] = []
        bed = self.testbed
        for execution_id in bed.executions:
            with contextlib.suppress(Exception):
                state = bed.engine.get(execution_id)
                out.append(self._evidence(state))
        return out

    def _evidence(self, state: ExecutionState) -> ExecutionEvidence:
        shift = self.started_at

        def at(t: float | None) -> float | None:
            return None if t is None else round(t - shift, 6)

        steps: list[StepEvidence] = []
        for sid, rec in state.steps.items():
            steps.append(
                {
                    "step_id": sid,
                    "status": str(rec.status),
                    "started_at": at(rec.started_at),
                    "finished_at": at(rec.finished_at),
                    "attempts": [
                        {
                            "number": a.number,
                            "started_at": round(a.started_at - shift, 6),
                            "finished_at": round(a.finished_at - shift, 6),
                            "error": a.error,
                            "retry_delay": a.retry_delay,
                        }
                        for a in rec.attempts
                    ],
                    "error": rec.error,
                }
            )
        ex = state.execution
        return {
            "execution_id": ex.execution_id,
            "workflow": ex.workflow,
            "version": ex.version,
            "status": str(ex.status),
            "started_at": at(ex.started_at),
            "finished_at": at(ex.finished_at),
            "steps": steps,
        }


def _statuses(state: ExecutionState) -> str:
    return ", ".join(f"{sid}={status}" for sid, status in state.statuses().items())
