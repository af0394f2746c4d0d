"""The pytest process never imports locust (it monkey-patches everything for gevent)."""

from __future__ import annotations

import sys

import pytest


def test_locust_is_not_imported_in_the_pytest_process(request: pytest.FixtureRequest) -> None:
    assert not request.config.pluginmanager.has_plugin("locust"), (
        "locust's auto-loaded pytest plugin must stay disabled (-p no:locust in addopts)"
    )
    loaded = sorted(m for m in sys.modules if m == "locust" or m.startswith("locust."))
    assert loaded == []
    monkey = sys.modules.get("gevent.monkey")  # gevent itself may be imported, unpatched
    assert monkey is None or not monkey.is_anything_patched()  # type: ignore[attr-defined]
