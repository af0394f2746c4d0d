"""Error types of the engine, each carrying what a user needs to act on it.

Two families matter:

* :class:`TemplateError` is raised *before* anything runs. It collects every problem
  found in a template (file, line, step id, field, message) so that a user fixes them
  all in one pass instead of one per run.
* :class:`ActionError` and its subclasses are raised *by actions* while a step runs.
  Their ``retryable`` flag is what a retry policy's ``retry_on: [retryable]`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a template or a submission, and where it is."""

    message: str
    field: str = ""
    step_id: str | None = None
    source: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source if self.line is None else f"{self.source}:{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        parts = [where] if where else []
        if self.step_id is not None:
            parts.append(f"step '{self.step_id}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class TemplateError(ValueError):
    """A workflow template (or a submission against one) is invalid.

    ``problems`` lists every problem found, in document order.
    """

    def __init__(self, problems: Iterable[Problem], *, name: str | None = None) -> None:
        # Document order: a user fixes a file top to bottom.
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        )
        self.name = name
        head = f"workflow template '{name}'" if name else "workflow template"
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{head} is invalid ({count} {noun}):\n{lines}")


def describe_schema_error(error_type: str, message: str) -> str:
    """A schema error in the project's words (pydantic's are terse for a template author)."""
    if error_type == "extra_forbidden":
        return "unknown field"
    if error_type == "missing":
        return "required field is missing"
    return message


class InputError(TemplateError):
    """The inputs given to a submission do not match the template's declared inputs."""


class EngineError(RuntimeError):
    """The engine was asked to do something it cannot do in its current state."""


class UnknownExecutionError(EngineError, KeyError):
    """No execution with the given id is known to this engine or its stores."""

    def __init__(self, execution_id: str) -> None:
        self.execution_id = execution_id
        super().__init__(f"no execution with id '{execution_id}'")

    def __str__(self) -> str:
        return str(self.args[0])


class ActionError(Exception):
    """An action failed. ``retryable`` tells retry policies whether another try may help."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class TransientError(ActionError):
    """A failure that may go away on its own (throttling, a 5xx, a lost connection)."""

    retryable = True


class PermanentError(ActionError):
    """A failure that another attempt cannot fix (invalid request, forbidden)."""

    retryable = False


class StepTimeoutError(ActionError):
    """A step attempt ran past its ``timeout`` and was cancelled."""

    retryable = True
