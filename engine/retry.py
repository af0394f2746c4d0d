"""Applying a retry policy: which failures are retried and how long to wait.

The policy itself is data (:class:`engine.template.RetryPolicy`); this module is the
behaviour, kept apart so it can be tested without running a workflow.
"""

from __future__ import annotations

import random

from engine.errors import ActionError, StepTimeoutError
from engine.template import RetryPolicy


def is_retryable(
    policy: RetryPolicy, error: BaseException, retryable_types: tuple[type[BaseException], ...]
) -> bool:
    """Whether ``policy`` retries ``error``.

    ``retryable_types`` are the exception classes the action declared retryable, on top
    of any :class:`ActionError` whose ``retryable`` flag is set.
    """
    retry_on = policy.retry_on
    if "any" in retry_on:
        return True
    if isinstance(error, StepTimeoutError):
        return "timeout" in retry_on
    if "retryable" not in retry_on:
        return False
    if isinstance(error, ActionError):
        return error.retryable
    return isinstance(error, retryable_types)


def backoff_delay(policy: RetryPolicy, failures: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``failures``-th failed attempt, before the next one.

    ``rng`` supplies the jitter; pass a generator seeded per execution, step and attempt
    so that a rerun with the same seed waits exactly as long.
    """
    if failures < 1:
        raise ValueError(f"failures must be at least 1, got {failures}")
    if policy.backoff == "fixed":
        base = policy.delay
    elif policy.backoff == "linear":
        base = policy.delay * failures
    else:
        # Cap the exponent first: multiplier ** failures overflows long before 1000 tries.
        exponent = min(failures - 1, 1024)
        try:
            base = policy.delay * policy.multiplier**exponent
        except OverflowError:
            base = policy.max_delay
    delay = min(base, policy.max_delay)
    if policy.jitter and rng is not None:
        delay *= 1.0 + rng.uniform(-policy.jitter, policy.jitter)
        delay = min(max(delay, 0.0), policy.max_delay)
    return delay


def retry_after(error: BaseException) -> float:
    """Seconds the failed target asked us to wait (Retry-After, a breaker's cool-down), or 0."""
    value = getattr(error, "retry_after", None)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0.0
    return float(value)


def jitter_rng(seed: int, execution_id: str, step_id: str, attempt: int) -> random.Random:
    """A generator that gives the same jitter for the same seed, execution, step and attempt."""
    return random.Random(f"{seed}:{execution_id}:{step_id}:{attempt}")
