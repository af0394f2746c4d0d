"""Running coroutines on a virtual clock outside pytest.

Inside pytest, looptime's marker fast-forwards the test's loop. Commands such as
``windtunnel demo`` need the same clock without pytest: a loop whose time jumps
straight to the next scheduled timer whenever nothing else is ready.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import looptime

T = TypeVar("T")


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh loop whose clock starts at 0 and is virtual."""
    loop = looptime.new_event_loop(start=0)
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
