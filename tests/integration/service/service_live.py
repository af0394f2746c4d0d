"""Helpers of the service's integration tests: a live server in a thread, and the CLI.

:class:`LiveService` serves an app with uvicorn on 127.0.0.1 from its own thread and
event loop (the engine is built on that loop), for clients that make real HTTP calls
from the test's thread (schemathesis, ``requests``). :class:`ServeProcess` runs
``windtunnel serve`` as a subprocess and reads its output on a thread, so a test waits
for a line ("listening on") with a bound instead of sleeping or polling a port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "integration-token-5b1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
START_BOUND = 60.0
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a loop of its own without touching the policy's current loop.

    ``asyncio.run`` in a sync test resets the current loop to None, which orphans the
    loop looptime set up around the test (and fails the run on its ResourceWarning).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


class LiveService:
    """An app served by uvicorn on a thread of its own; ``build`` runs on that loop."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app: Starlette | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._run, name="live-service", daemon=True)

    def start(self) -> LiveService:
        self._thread.start()
        if not self._ready.wait(START_BOUND):
            raise TimeoutError("the live service did not start within the bound")
        if self._failure is not None:
            raise self._failure
        return self

    def stop(self) -> None:
        if self._server is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
        self._thread.join(START_BOUND)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the service's loop and return its result (for set-up)."""
        assert self._loop is not None
        done: queue.Queue[tuple[bool, Any]] = queue.Queue()

        def run() -> None:
            try:
                done.put((True, fn()))
            except BaseException as exc:
                done.put((False, exc))

        self._loop.call_soon_threadsafe(run)
        ok, value = done.get(timeout=START_BOUND)
        if not ok:
            raise value
        return value

    def _run(self) -> None:
        try:
            run_async(self._serve())
        except BaseException as exc:
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        app, cleanup = await self._build()
        self.app = app
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
        self._server = server = uvicorn.Server(config)
        server.install_signal_handlers = False  # type: ignore[attr-defined]

        @contextlib.contextmanager
        def no_signals() -> Iterator[None]:
            yield

        server.capture_signals = no_signals  # type: ignore[method-assign]
        original_startup = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original_startup(sockets)
            self._ready.set()

        server.startup = startup  # type: ignore[method-assign]
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()
            await cleanup()


class ServeProcess:
    """``windtunnel serve`` in a subprocess, its output read line by line on a thread."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = [sys.executable, "-m", "harness.cli", "serve", *args]
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            self.args,
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = START_BOUND) -> re.Match[str]:
        """The first new output line matching ``pattern``; fails at the bound or at exit."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(
                    f"windtunnel serve exited ({self.proc.wait()}) before printing "
                    f"{pattern!r}:\n" + "\n".join(self.lines)
                )
            match = regex.search(line)
            if match:
                return match
        raise AssertionError(
            f"no line matching {pattern!r} within {timeout}s:\n" + "\n".join(self.lines)
        )

    def listening_url(self) -> str:
        return self.wait_for(r"listening on (http://\S+)").group(1)

    def terminate(self, timeout: float = START_BOUND) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(START_BOUND)

    def output(self) -> str:
        self._reader.join(START_BOUND)
        return "\n".join(self.lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._reader.join(START_BOUND)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
