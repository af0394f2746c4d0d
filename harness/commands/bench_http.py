"""``windtunnel bench http``: the service's submit rate against a bare Starlette endpoint.

Measured in one run, with the same client settings against two servers started the
same way (uvicorn, one process each, 127.0.0.1, access log off):

* the baseline: a bare Starlette app whose ``POST /v1/executions`` answers a constant
  JSON body, so it costs only HTTP, routing and JSON;
* the service: ``windtunnel serve`` on the profile with its SQLite store in a temporary
  directory (``--store memory``: in-memory stores), where every submit validates the
  body, starts a one-step no-op execution and commits it before answering (and the
  executions run in the same process).

The client is an asyncio aiohttp client in this process (``--clients`` connections,
each sending the next request as soon as the last one is answered), for ``--warmup``
then ``--duration`` seconds on each server in turn. The figure is the ratio of the
service's submits/s to the baseline's requests/s; the issue's target is ≥ 0.5. p50/p95
latencies of both are printed too. Nothing here is a timed assertion.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import typer

LISTENING = re.compile(r"listening on (http://\S+)")
ONE_STEP = {"name": "bench-http-one-step", "steps": [{"id": "work", "action": "noop"}]}
TOKEN = "bench-http-token"


@dataclass(frozen=True)
class Side:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class HttpBench:
    profile: str
    store: str
    clients: int
    duration: float
    baseline_per_s: float
    service_per_s: float
    ratio: float
    baseline_p95_ms: float
    service_p95_ms: float
    service_errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------- servers


def _baseline_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    body = {"execution_id": "00000000-0000-4000-8000-000000000000", "status": "Running"}

    async def submit(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(body, status_code=201)

    return Starlette(routes=[Route("/v1/executions", submit, methods=["POST"])])


def serve_baseline() -> None:
    """The baseline server's process: uvicorn as ``windtunnel serve`` runs it."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    config = uvicorn.Config(
        _baseline_app(), lifespan="off", log_level="warning", access_log=False,
        server_header=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    original = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original(sockets)
        port = sock.getsockname()[1]
        sys.stdout.write(f"baseline: listening on http://127.0.0.1:{port}\n")
        sys.stdout.flush()

    server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])


class _Process:
    """A server subprocess; waits for its "listening on" line by reading its output."""

    def __init__(self, args: list[str], cwd: Path, timeout: float = 120.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        found = threading.Event()
        self.url = ""

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip())
                match = LISTENING.search(line)
                if match and not self.url:
                    self.url = match.group(1)
                    found.set()
            found.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not found.wait(timeout) or not self.url:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "\n".join(self.lines[-30:]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# ---------------------------------------------------------------------- client


async def _load(
    url: str, body: bytes, headers: dict[str, str], clients: int, warmup: float, duration: float
) -> Side:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    loop = asyncio.get_running_loop()
    start = loop.time() + warmup
    end = start + duration
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def client() -> None:
            while (now := loop.time()) < end:
                async with session.post(url + "/v1/executions", data=body) as response:
                    await response.read()
                    done = loop.time()
                if now >= start and done <= end:
                    if response.status in (200, 201):
                        counts["ok"] += 1
                        latencies.append(done - now)
                    else:
                        counts["errors"] += 1

        await asyncio.gather(*(client() for _ in range(clients)))
    latencies.sort()
    p50 = statistics.median(latencies) * 1e3 if latencies else 0.0
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1e3 if latencies else 0.0
    return Side(counts["ok"], counts["errors"], duration, p50, p95)


def _register(url: str) -> None:
    import urllib.request

    request = urllib.request.Request(
        url + "/v1/templates",
        data=json.dumps(ONE_STEP).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"registering the bench template: HTTP {response.status}")


def run_http_bench(
    profile: str, clients: int, duration: float, warmup: float, store: str = "sqlite"
) -> tuple[HttpBench, Side, Side]:
    body = json.dumps({"template": ONE_STEP["name"]}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    with tempfile.TemporaryDirectory(prefix="windtunnel-bench-http-") as tmp:
        work = Path(tmp)
        baseline_server = _Process(
            [sys.executable, "-m", "harness.commands.bench_http"], cwd=Path.cwd()
        )
        try:
            baseline = asyncio.run(
                _load(baseline_server.url, body, headers, clients, warmup, duration)
            )
        finally:
            baseline_server.stop()
        (work / "token").write_text(TOKEN)
        service_args = [
            sys.executable, "-m", "harness.cli", "serve", "--scenario", profile,
            "--store", f"sqlite:{work / 'engine.sqlite'}" if store == "sqlite" else "memory",
            "--port", "0",
            "--token-file", str(work / "token"),
        ]  # fmt: skip
        service_server = _Process(service_args, cwd=work)
        try:
            _register(service_server.url)
            service = asyncio.run(
                _load(service_server.url, body, headers, clients, warmup, duration)
            )
        finally:
            service_server.stop()
    ratio = service.per_s / baseline.per_s if baseline.per_s else 0.0
    result = HttpBench(
        profile=profile,
        store=store,
        clients=clients,
        duration=duration,
        baseline_per_s=round(baseline.per_s, 1),
        service_per_s=round(service.per_s, 1),
        ratio=round(ratio, 3),
        baseline_p95_ms=round(baseline.p95_ms, 2),
        service_p95_ms=round(service.p95_ms, 2),
        service_errors=service.errors,
    )
    return result, baseline, service


def bench_http(
    scenario: str = typer.Option("HighLoadProduction", "--scenario", help="Profile to serve."),
    clients: int = typer.Option(32, "--clients", min=1, help="Concurrent connections."),
    duration: float = typer.Option(10.0, "--duration", min=1, help="Seconds measured per side."),
    warmup: float = typer.Option(2.0, "--warmup", min=0, help="Seconds before measuring."),
    store: str = typer.Option("sqlite", "--store", help="The service's store: sqlite or memory."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """The service's submit rate against a bare Starlette endpoint (target ratio ≥ 0.5)."""
    from rich.console import Console
    from rich.table import Table

    if store not in ("sqlite", "memory"):
        raise typer.BadParameter(f"--store must be sqlite or memory, got {store!r}")
    started = time.perf_counter()
    result, baseline, service = run_http_bench(scenario, clients, duration, warmup, store)
    table = Table(
        title=f"HTTP submits: windtunnel serve ({scenario}, {store}) vs bare Starlette, "
        f"{clients} clients, {duration:g} s each"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("bare Starlette requests/s", f"{baseline.per_s:,.1f}")
    table.add_row("service submits/s", f"{service.per_s:,.1f}")
    table.add_row("ratio (target ≥ 0.5)", f"{result.ratio:.3f}")
    table.add_row("p50 ms: bare / service", f"{baseline.p50_ms:.2f} / {service.p50_ms:.2f}")
    table.add_row("p95 ms: bare / service", f"{baseline.p95_ms:.2f} / {service.p95_ms:.2f}")
    table.add_row("service errors", str(service.errors))
    table.add_row("wall time s", f"{time.perf_counter() - started:.1f}")
    Console().print(table)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict()) + "\n")


if __name__ == "__main__":
    serve_baseline()
