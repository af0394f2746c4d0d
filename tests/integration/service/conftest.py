"""Fixtures for the service's integration tests (the helpers are in ``service_live``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from service_live import ServeProcess


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``windtunnel serve`` with the given arguments (cwd: a temporary directory)."""
    started: list[ServeProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> ServeProcess:
        process = ServeProcess(list(args), tmp_path, env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()
