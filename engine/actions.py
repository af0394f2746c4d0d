"""The action registry: what a step's ``action`` name means.

An action is an ``async`` callable ``(context, params) -> outputs``. It is registered
under a name with what the engine needs to know about it: which exception types are
worth retrying, a pydantic model its parameters must fit (checked when a template is
validated, and again after templates are resolved), and whether running it twice is
harmless (crash recovery reruns only idempotent steps).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.errors import PermanentError, TransientError, describe_schema_error
from engine.expressions import is_templated

Outputs = Mapping[str, Any] | None
ActionFn = Callable[["ActionContext", Mapping[str, Any]], Awaitable[Outputs]]
UndoFn = Callable[[Mapping[str, Any]], "tuple[str, Mapping[str, Any]] | None"]
"""From a step's outputs, the (action, params) that undo it, or None if nothing to undo."""


class ActionContext:
    """What an action may know about the attempt it runs in.

    ``rng`` is seeded by the engine seed, execution id, step id and attempt, so actions
    that need randomness (fault injection, sampling) are reproducible run after run.
    """

    __slots__ = (
        "_rng",
        "attempt",
        "dry_run",
        "engine",
        "execution_id",
        "inputs",
        "seed",
        "step_id",
    )

    def __init__(
        self,
        execution_id: str,
        step_id: str,
        attempt: int,
        inputs: Mapping[str, Any],
        seed: int,
        dry_run: bool = False,
        engine: Any = None,
    ) -> None:
        self.execution_id = execution_id
        self.step_id = step_id
        self.attempt = attempt
        self.inputs = inputs
        self.seed = seed
        self.dry_run = dry_run
        # The engine running the step, for actions that start work of their own (subflow).
        self.engine = engine
        self._rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        """A generator seeded for this execution, step and attempt (created on first use)."""
        if self._rng is None:
            key = f"{self.seed}:{self.execution_id}:{self.step_id}:{self.attempt}"
            self._rng = random.Random(key)
        return self._rng


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A registered action and the facts the engine needs about it."""

    name: str
    fn: ActionFn
    params_model: type[BaseModel] | None = None
    retryable: tuple[type[BaseException], ...] = (TransientError,)
    idempotent: bool = False
    description: str = ""
    dry_run: ActionFn | None = None
    """What the action does in a dry run (it must mutate nothing). Without one, a dry
    run only validates the parameters and reports the call it would have made."""
    undo: UndoFn | None = None
    """The action's own compensation, used on rollback when a step declares none
    (e.g. scaling back to the replicas a scale step's outputs say it found)."""

    def check_params(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Problems with ``params`` as written in a template, as ``(field, message)``.

        Values that are ``${{ }}`` templates are only known at run time; they are left out
        here (and a "missing" report for them is not a problem) and checked by
        :meth:`parse_params` once resolved.
        """
        if self.params_model is None:
            return []
        templated = {k for k, v in params.items() if is_templated(v)}
        literal = {k: v for k, v in params.items() if k not in templated}
        try:
            self.params_model.model_validate(literal)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                if err["type"] == "missing" and loc in templated:
                    continue
                message = describe_schema_error(err["type"], err["msg"])
                problems.append((f"params.{loc}" if loc else "params", message))
            return problems
        return []

    def parse_params(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """Validate resolved parameters; a mismatch is a :class:`PermanentError`."""
        if self.params_model is None:
            return params
        try:
            model = self.params_model.model_validate(dict(params))
        except ValidationError as exc:
            details = "; ".join(
                f"params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise PermanentError(f"action '{self.name}' got invalid parameters: {details}") from exc
        return model.model_dump()


@dataclass
class ActionRegistry:
    """Actions by name. Registering the same name twice is an error, not an override."""

    _actions: dict[str, ActionSpec] = field(default_factory=dict)

    def register(
        self,
        name: str,
        fn: ActionFn,
        *,
        params_model: type[BaseModel] | None = None,
        retryable: tuple[type[BaseException], ...] = (TransientError,),
        idempotent: bool = False,
        description: str = "",
        dry_run: ActionFn | None = None,
        undo: UndoFn | None = None,
    ) -> ActionSpec:
        """Register ``fn`` under ``name`` and return its spec."""
        if name in self._actions:
            raise ValueError(f"action '{name}' is already registered")
        spec = ActionSpec(name, fn, params_model, retryable, idempotent, description, dry_run, undo)
        self._actions[name] = spec
        return spec

    def action(
        self,
        name: str,
        *,
        params_model: type[BaseModel] | None = None,
        retryable: tuple[type[BaseException], ...] = (TransientError,),
        idempotent: bool = False,
    ) -> Callable[[ActionFn], ActionFn]:
        """Decorator form of :meth:`register`; the docstring becomes the description."""

        def decorate(fn: ActionFn) -> ActionFn:
            doc = (fn.__doc__ or "").strip().splitlines()
            self.register(
                name,
                fn,
                params_model=params_model,
                retryable=retryable,
                idempotent=idempotent,
                description=doc[0] if doc else "",
            )
            return fn

        return decorate

    def get(self, name: str) -> ActionSpec | None:
        """The spec registered under ``name``, or None."""
        return self._actions.get(name)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._actions)

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(self._actions.values())
