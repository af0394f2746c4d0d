"""How Kubernetes API errors become engine errors, so retry policies do the right thing.

The engine's retry policies read :attr:`engine.errors.ActionError.retryable`; this
module decides it from the API server's answer:

* 429 TooManyRequests and 5xx -> :class:`KubeTransientError`, carrying the server's
  ``Retry-After`` (header, or ``details.retryAfterSeconds`` of the Status body) as
  ``retry_after`` so a backoff can wait at least that long;
* 409 Conflict (optimistic concurrency) -> :class:`KubeConflictError`, retryable: the
  next attempt reads the object afresh;
* 400/401/403/404/410/422 and other 4xx -> :class:`KubeApiError` (permanent) with the
  server's message; a 403 "exceeded quota" is a :class:`QuotaExceededError` naming
  the quota.

Waits that run out are :class:`WaitTimeoutError` (retryable, like a step timeout),
with what was last observed; :class:`EffectNotConfirmedError` is the one whose write
was answered but whose effect never showed in what the cluster read back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from engine.errors import ActionError, PermanentError, TransientError

_QUOTA = re.compile(r"exceeded quota: ([^,\s]+)")


class KubeTransientError(TransientError):
    """Throttling (429) or a server-side failure (5xx): worth another attempt.

    ``retry_after`` is the server's ``Retry-After`` in seconds (0 when it sent none);
    a retry should not come sooner.
    """

    def __init__(self, message: str, *, status: int, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transient, (str(self), self.status, self.retry_after))


def _rebuild_transient(message: str, status: int, retry_after: float) -> KubeTransientError:
    return KubeTransientError(message, status=status, retry_after=retry_after)


class KubeConflictError(TransientError):
    """409 Conflict: the object changed under us; a fresh read and retry will do."""

    status = 409


class KubeApiError(PermanentError):
    """A request the server refused for good (invalid, forbidden, not found)."""

    def __init__(self, message: str, *, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_api_error, (type(self), str(self), self.status, self.reason))


def _rebuild_api_error(
    cls: type[KubeApiError], message: str, status: int, reason: str
) -> KubeApiError:
    error = KubeApiError.__new__(cls)
    KubeApiError.__init__(error, message, status=status, reason=reason)
    if isinstance(error, QuotaExceededError):
        match = _QUOTA.search(message)
        error.quota = match.group(1) if match else ""
    return error


class QuotaExceededError(KubeApiError):
    """A ResourceQuota refused the request; ``quota`` is its name."""

    def __init__(self, message: str, *, quota: str, status: int = 403) -> None:
        super().__init__(message, status=status, reason="Forbidden")
        self.quota = quota


class WaitTimeoutError(ActionError):
    """The effect was not observed within the action's ``timeout``."""

    retryable = True


class EffectNotConfirmedError(WaitTimeoutError):
    """A write the API answered did not show in the object read back within ``timeout``.

    The message names the object and what was read back instead. Retryable: the next
    attempt writes again.
    """


def quota_name(message: str) -> str | None:
    """The quota named by an "exceeded quota: NAME, ..." message, if it is one."""
    match = _QUOTA.search(message)
    return match.group(1) if match else None


def _retry_after(headers: Mapping[str, str] | None, status: Mapping[str, Any]) -> float:
    value: Any = None
    if headers is not None:
        value = headers.get("Retry-After")
    if value is None:
        value = (status.get("details") or {}).get("retryAfterSeconds")
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def parse_status(body: bytes | str | None) -> dict[str, Any]:
    """The ``Status`` object of an error body, or ``{}`` when it is not one."""
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def classify(
    status: int,
    body: bytes | str | None,
    headers: Mapping[str, str] | None = None,
    *,
    what: str = "",
) -> ActionError:
    """The engine error for an API answer with HTTP ``status`` (see module docstring).

    ``what`` names the request ("PATCH deployments default/web") for the message.
    """
    doc = parse_status(body)
    message = str(doc.get("message") or (body.decode() if isinstance(body, bytes) else body) or "")
    reason = str(doc.get("reason") or "")
    prefix = f"{what}: " if what else ""
    text = f"{prefix}{status} {reason}: {message}".rstrip(": ")
    if status == 429 or status >= 500 or status == 0:
        wait = _retry_after(headers, doc)
        hint = f" (server asks to retry after {wait:g}s)" if wait else ""
        return KubeTransientError(text + hint, status=status, retry_after=wait)
    if status == 409:
        return KubeConflictError(text)
    if status == 403:
        quota = quota_name(message)
        if quota is not None:
            return QuotaExceededError(
                f"{prefix}ResourceQuota '{quota}' would be exceeded: {message}", quota=quota
            )
    return KubeApiError(text, status=status, reason=reason)


def from_api_exception(exc: Any, *, what: str = "") -> ActionError:
    """:func:`classify` for a ``kubernetes`` client ``ApiException``."""
    return classify(int(exc.status or 0), exc.body, exc.headers, what=what)
