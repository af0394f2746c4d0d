"""Repository-wide pytest configuration: the pytester plugin and event-loop hygiene.

The hook below closes the stray event loop looptime leaves behind a synchronous test,
so that warnings can stay errors without excusing any real leak. Hypothesis profiles
live in ``tests/conftest.py``: the feature suite does not use Hypothesis, and
``windtunnel run`` leaves its plugin out to start its workers faster.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest_plugins = ("pytester",)


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
