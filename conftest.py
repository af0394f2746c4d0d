"""Repository-wide pytest configuration: deterministic Hypothesis profiles, loop hygiene.

Hypothesis must not make the suite flaky, so CI runs derandomized. The profile is
chosen by ``WINDTUNNEL_HYPOTHESIS_PROFILE`` (``dev``, ``ci`` or ``nightly``); when it
is unset, ``ci`` is used under CI (``CI`` set) and ``dev`` elsewhere. The hook at the
end closes the stray event loop looptime leaves behind a synchronous test, so that
warnings can stay errors without excusing any real leak.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ("pytester",)

settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

_default_profile = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("WINDTUNNEL_HYPOTHESIS_PROFILE", _default_profile))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """Close the event loop looptime's hook creates around a *sync* test.

    looptime 0.9 asks the policy for the current loop around every test; for a sync
    test that silently creates a loop nobody closes, and the next async test then
    fails on its ResourceWarning. A loop that appeared during the call and is not
    running is that stray one.
    """
    before = _policy_loop()
    try:
        return (yield)
    finally:
        after = _policy_loop()
        if (
            after is not None
            and after is not before
            and not after.is_running()
            and not after.is_closed()
        ):
            after.close()
            asyncio.get_event_loop_policy().set_event_loop(None)


def _policy_loop() -> asyncio.AbstractEventLoop | None:
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    loop: asyncio.AbstractEventLoop | None = getattr(local, "_loop", None)
    return loop
