"""``windtunnel serve``: the engine as an HTTP service, on the testbed, in real time.

It builds a :class:`harness.testbed.Testbed` for the profile (its simulated cluster
in-process on the wall clock, or the cluster a kubeconfig names) with the SQLite store
by default, registers again the templates the service registered before (they live in
``<store>.service.sqlite``), recovers the unfinished executions, resumes the ones a
previous drain paused, and serves :func:`engine.service.create_app` with uvicorn on the
testbed's own event loop.

Once listening it prints ``windtunnel serve: listening on http://HOST:PORT`` and, with
``--ready-file``, writes ``{"url": ..., "pid": ...}`` there (atomically), so a parent
process waits for the file instead of polling the port.

Security: binds 127.0.0.1 unless ``--host`` says otherwise; every route but the health
probes needs the bearer token (``--token``, else ``--token-file``, else
``$WINDTUNNEL_TOKEN``, else a new one written to ``reports/service/token`` with mode
0600: its path is printed, never the token); ``--insecure-local`` serves without a
token, on a loopback address only. Access logs are off unless asked for, and carry no
headers anyway.

SIGTERM (or Ctrl-C): stop accepting connections, answer 503 to requests that would
start work, end the event streams, let in-flight requests finish, then drain the
engine (:func:`engine.service.drain`: pause the executions, let running steps end and
persist) and exit 0. A second signal skips the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import uvicorn

    from engine.service import ServiceStore, TemplateCatalog
    from harness.testbed import Testbed

DEFAULT_DIR = Path("reports") / "service"
DEFAULT_STORE = DEFAULT_DIR / "engine.sqlite"
TOKEN_FILE = DEFAULT_DIR / "token"
TOKEN_ENV = "WINDTUNNEL_TOKEN"
DEFAULT_PORT = 8080
DEFAULT_SCENARIO = "HighLoadProduction"


def _say(text: str) -> None:
    sys.stdout.write(f"windtunnel serve: {text}\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class ServeSettings:
    scenario: str
    store: str
    """``memory`` or ``sqlite``."""
    sqlite_path: Path | None
    host: str
    port: int
    cluster: str
    token: str | None
    ready_file: Path | None
    drain_timeout: float
    max_body_bytes: int
    access_log: bool
    seed: int | None


def parse_store(value: str) -> tuple[str, Path | None]:
    """``memory``, ``sqlite`` (the default file) or ``sqlite:PATH``."""
    if value == "memory":
        return "memory", None
    if value == "sqlite":
        return "sqlite", DEFAULT_STORE
    if value.startswith("sqlite:") and len(value) > len("sqlite:"):
        return "sqlite", Path(value[len("sqlite:") :]).expanduser()
    raise typer.BadParameter(
        f"{value!r} is not a store: write memory, sqlite, or sqlite:PATH", param_hint="--store"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_token(
    token: str | None, token_file: Path | None, insecure_local: bool, host: str
) -> str | None:
    """The bearer token to require (None: --insecure-local); prints where a new one went."""
    given = [name for name, v in (("--token", token), ("--token-file", token_file)) if v]
    if insecure_local:
        if given:
            raise typer.BadParameter(
                f"--insecure-local serves without a token: drop {' and '.join(given)}",
                param_hint="--insecure-local",
            )
        if not is_loopback(host):
            raise typer.BadParameter(
                f"--insecure-local is for local development and needs a loopback --host "
                f"(127.0.0.1, ::1 or localhost), not {host!r}",
                param_hint="--insecure-local",
            )
        return None
    if len(given) > 1:
        raise typer.BadParameter("give --token or --token-file, not both", param_hint="--token")
    if token is not None:
        if not token.strip():
            raise typer.BadParameter("the token must not be empty", param_hint="--token")
        return token.strip()
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {token_file}: {exc.strerror}", param_hint="--token-file"
            ) from None
        if not text:
            raise typer.BadParameter(f"{token_file} is empty", param_hint="--token-file")
        return text
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return env
    new = secrets.token_urlsafe(32)
    _write_private(TOKEN_FILE, new + "\n")
    _say(f"bearer token written to {TOKEN_FILE.resolve()} (mode 0600)")
    return new


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def _write_ready_file(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content) + "\n", encoding="utf-8")
    partial.replace(path)  # atomic: a reader never sees half a file


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given explicitly: asyncio turns Nagle off only on sockets that say they are
    # TCP, and without that every small response waits out a delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _make_server(config: uvicorn.Config) -> tuple[uvicorn.Server, asyncio.Event]:
    """A uvicorn server for ``config`` and the event it sets once it listens."""
    import uvicorn

    listening = asyncio.Event()

    class Server(uvicorn.Server):
        """uvicorn's server with the command's signal handling and a started event.

        uvicorn re-raises a captured SIGTERM once it has stopped, which would end the
        process with the signal instead of exit 0 after the drain: the command installs
        its own handlers on the loop instead.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                listening.set()

    return Server(config), listening


async def _ready_check(bed: Testbed, service_store: ServiceStore) -> list[str]:
    from kubernetes.aio import client

    from engine import StoreError

    failing: list[str] = []
    problem = service_store.probe()
    if problem is not None:
        failing.append(f"stores writable: {problem}")
    flush = getattr(bed.state, "flush", None)
    if flush is not None:
        try:
            flush()
        except StoreError as exc:
            failing.append(f"stores writable: {exc}")
    try:
        async with asyncio.timeout(2.0):
            await client.VersionApi(bed.api_client).get_code()
    except Exception as exc:  # any failure to answer is "unreachable", with its reason
        failing.append(f"cluster reachable: {type(exc).__name__}: {exc}"[:300])
    return failing


async def run_service(settings: ServeSettings) -> int:
    """Build, serve until a signal, drain; the process exit code."""
    from engine import EngineError, StoreError, TemplateError
    from engine.kube_actions.client import KubeconfigError
    from engine.service import (
        MemoryServiceStore,
        SqliteServiceStore,
        TemplateCatalog,
        resume_drained,
        service_store_path,
    )
    from harness.testbed import Testbed, TestbedOptions
    from scenarios import ProfileError, load_profile

    try:
        profile = load_profile(settings.scenario)
    except ProfileError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scenario") from None
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            param_hint="--port",
        ) from None
    try:
        options = TestbedOptions(
            store="sqlite" if settings.store == "sqlite" else "memory",
            sqlite_path=settings.sqlite_path,
            cluster=settings.cluster,
            seed=settings.seed,
            real_time=True,
            record=False,  # a service runs for days: no evidence for reports
        )
    except KubeconfigError as exc:
        sock.close()
        raise typer.BadParameter(str(exc), param_hint="--cluster") from None
    bed = Testbed(profile, options)
    _say(f"starting on profile {profile.name} (cluster {settings.cluster}, store {settings.store})")
    try:
        await bed.start()
    except (StoreError, KubeconfigError) as exc:
        sock.close()
        _say(f"cannot start: {exc}")
        return 1
    service_store: ServiceStore = (
        SqliteServiceStore(service_store_path(settings.sqlite_path))
        if settings.sqlite_path is not None
        else MemoryServiceStore()
    )
    try:
        catalog = TemplateCatalog(service_store)
        for document in service_store.templates():
            try:
                catalog.add(bed.template(document), persist=False)
            except (TemplateError, EngineError) as exc:
                _say(f"a recorded template no longer registers and is skipped: {exc}")
        try:
            recovered = await bed.engine.recover()
        except EngineError as exc:
            _say(f"cannot recover the store's executions: {exc}")
            return 1
        resumed = resume_drained(bed.engine, service_store)
        if recovered or resumed:
            _say(f"recovered {len(recovered)} unfinished executions, resumed {len(resumed)}")
        return await _serve(settings, bed, sock, catalog, service_store)
    finally:
        sock.close()
        await bed.stop(cancel=False)
        service_store.close()


async def _serve(
    settings: ServeSettings,
    bed: Testbed,
    sock: socket.socket,
    catalog: TemplateCatalog,
    service_store: ServiceStore,
) -> int:
    import uvicorn

    from engine.service import create_app, drain

    async def ready_check() -> list[str]:
        return await _ready_check(bed, service_store)

    app = create_app(
        bed.engine,
        token=settings.token,
        ready_check=ready_check,
        max_body_bytes=settings.max_body_bytes,
        catalog=catalog,
        register=bed.template,
        metrics=bed.metrics,
    )
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=settings.access_log,
        server_header=False,
        timeout_graceful_shutdown=max(1, int(settings.drain_timeout)),
    )
    server, started = _make_server(config)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if server.should_exit:
            server.force_exit = True  # a second signal: stop waiting
            return
        _say("shutting down: no new work, draining")
        app.state.service.start_draining()
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    try:
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        listening = asyncio.ensure_future(started.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        if listening.done():
            port = sock.getsockname()[1]
            url = _url(settings.host, port)
            if settings.ready_file is not None:  # before the line: it promises the file
                _write_ready_file(settings.ready_file, {"url": url, "pid": os.getpid()})
            _say(f"listening on {url}")
            if not is_loopback(settings.host):
                _say(f"note: {settings.host} is reachable from other machines")
        else:
            listening.cancel()
        await serving
        app.state.service.start_draining()
        report = await drain(bed.engine, service_store, timeout=settings.drain_timeout)
        _say(
            f"drained: {report.paused} executions paused for the next start, "
            f"{report.left_running} steps still running"
        )
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if settings.ready_file is not None:
            with contextlib.suppress(OSError):
                settings.ready_file.unlink()
    return 0


def serve(
    scenario: Annotated[
        str,
        typer.Option(help="Scenario profile: its cluster, engine limits and template defaults."),
    ] = DEFAULT_SCENARIO,
    store: Annotated[
        str,
        typer.Option(
            help="memory, sqlite (reports/service/engine.sqlite) or sqlite:PATH; executions "
            "and templates on SQLite survive a restart."
        ),
    ] = "sqlite",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one.")] = (
        DEFAULT_PORT
    ),
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback is reachable from outside.")
    ] = "127.0.0.1",
    cluster: Annotated[
        str, typer.Option(help="sim (the profile's simulated cluster) or kubeconfig:PATH.")
    ] = "sim",
    token: Annotated[
        str | None,
        typer.Option(help="Bearer token clients must send (visible in ps: prefer a file)."),
    ] = None,
    token_file: Annotated[Path | None, typer.Option(help="File holding the bearer token.")] = None,
    insecure_local: Annotated[
        bool, typer.Option(help="No token at all: local development only, loopback only.")
    ] = False,
    ready_file: Annotated[
        Path | None, typer.Option(help='Write {"url": ..., "pid": ...} here once listening.')
    ] = None,
    drain_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds a shutdown waits for running steps.")
    ] = 20.0,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body accepted (413 beyond).")
    ] = 1_048_576,
    access_log: Annotated[bool, typer.Option(help="Log every request line.")] = False,
    seed: Annotated[int | None, typer.Option(help="Overrides the profile's seed.")] = None,
) -> None:
    """Serve the engine over HTTP (templates, executions, events, metrics) until SIGTERM.

    The API is described at /openapi.json; errors are RFC 9457 problem details.
    """
    kind, path = parse_store(store)
    if cluster != "sim" and not cluster.startswith("kubeconfig:"):
        raise typer.BadParameter(
            f"{cluster!r} is not a cluster: write sim or kubeconfig:PATH", param_hint="--cluster"
        )
    resolved = resolve_token(token, token_file, insecure_local, host)
    if resolved is None:
        _say("WARNING: --insecure-local: no authentication; never expose this port")
    settings = ServeSettings(
        scenario=scenario,
        store=kind,
        sqlite_path=path,
        host=host,
        port=port,
        cluster=cluster,
        token=resolved,
        ready_file=ready_file,
        drain_timeout=drain_timeout,
        max_body_bytes=max_body_bytes,
        access_log=access_log,
        seed=seed,
    )
    code = asyncio.run(run_service(settings))
    if code:
        raise typer.Exit(code)
