"""The engine's HTTP service as a subprocess of a load run, and the drain over its API.

:func:`start_service` runs ``windtunnel serve`` on the profile with a SQLite store in
the run's folder and a bearer token from a 0600 file, and waits for the line it prints
when it listens (``windtunnel serve: listening on http://HOST:PORT``) by reading its
output, not by probing the port. Its output goes on to ``service.log``.

:func:`drain` runs after the load stopped: it lists the executions the service still
has running and follows each one's event stream until it ends (the same stream the
HTTP user reads), within a deadline. :meth:`Service.stop` sends SIGTERM, which the
service answers by letting running steps reach a persisted state and exiting 0.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from loadtests.ledger import UNFINISHED

LISTENING = re.compile(r"windtunnel serve: listening on (http://\S+)")


class ServiceError(RuntimeError):
    """The service did not start, or did not stop cleanly; the message says why."""


@dataclass
class Service:
    process: subprocess.Popen[str]
    url: str
    store: Path
    log: Path
    token: str
    _pump: threading.Thread

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait; a service that does not exit in time is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._pump.join(timeout=5)
        return code


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def start_service(
    scenario: str, run_dir: Path, token: str, *, host: str = "127.0.0.1", timeout: float = 120.0
) -> Service:
    store = run_dir / "service.sqlite"
    token_file = run_dir / "token"
    token_file.write_text(token, encoding="utf-8")
    os.chmod(token_file, 0o600)
    log = run_dir / "service.log"
    cmd = [
        sys.executable, "-m", "harness.cli", "serve",
        "--scenario", scenario,
        "--store", f"sqlite:{store}",
        "--host", host,
        "--port", str(free_port(host)),
        "--token-file", str(token_file),
        "--ready-file", str(run_dir / "service.json"),
    ]  # fmt: skip
    process = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    found: list[str] = []
    listening = threading.Event()

    def pump(out: IO[str]) -> None:
        with log.open("w", encoding="utf-8") as sink:
            for line in out:
                sink.write(line)
                sink.flush()
                match = LISTENING.search(line)
                if match and not found:
                    found.append(match.group(1))
                    listening.set()
        listening.set()  # the service exited: stop waiting

    assert process.stdout is not None
    thread = threading.Thread(target=pump, args=(process.stdout,), daemon=True)
    thread.start()
    if not listening.wait(timeout) or not found:
        process.kill()
        process.wait()
        thread.join(timeout=5)
        tail = log.read_text(encoding="utf-8")[-2000:] if log.exists() else ""
        raise ServiceError(
            f"windtunnel serve did not start listening within {timeout:g} s "
            f"(exit code {process.poll()}); its output ({log}):\n{tail}"
        )
    return Service(process, found[0], store, log, token, thread)


# -- the drain -------------------------------------------------------------------------


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)


def _get_json(url: str, path: str, token: str, timeout: float) -> Any:
    conn = _connection(url, timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise ServiceError(f"GET {path}: HTTP {resp.status} {body[:300]!r}")
        return json.loads(body)
    finally:
        conn.close()


def running_ids(url: str, token: str, timeout: float = 30.0) -> list[str]:
    """Ids the service lists as not terminal (every unfinished status, every page)."""
    ids: list[str] = []
    for status in UNFINISHED:
        cursor: str | None = None
        while True:
            query = {"status": str(status), "limit": "500"}
            if cursor:
                query["cursor"] = cursor
            page = _get_json(url, "/v1/executions?" + urllib.parse.urlencode(query), token, timeout)
            ids.extend(str(item["execution_id"]) for item in page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return ids


def follow(url: str, token: str, execution_id: str, timeout: float) -> bool:
    """Read the execution's event stream to its end; True if it ended in time."""
    conn = _connection(url, timeout)
    try:
        conn.request(
            "GET",
            f"/v1/executions/{execution_id}/events",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        )
        resp = conn.getresponse()
        if resp.status != 200:
            return False
        for _ in _chunks(resp):
            pass
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _chunks(resp: http.client.HTTPResponse) -> Iterator[bytes]:
    while chunk := resp.read1(65536):
        yield chunk


def drain(url: str, token: str, timeout: float) -> tuple[int, int]:
    """Follow every running execution to its end; (running at the start, still running)."""
    deadline = time.monotonic() + timeout
    ids = running_ids(url, token)
    if ids:
        with ThreadPoolExecutor(max_workers=min(32, len(ids))) as pool:
            list(
                pool.map(
                    lambda i: follow(url, token, i, max(1.0, deadline - time.monotonic())), ids
                )
            )
    left = running_ids(url, token) if ids else []
    return len(ids), len(left)
