"""The simulated cluster over HTTP on 127.0.0.1, for kubectl and other processes.

Why a separate front end: the official client talks to the core in-process with no
sockets; everything else (kubectl, a second process, a Locust worker) needs a real
server. This one is :mod:`aiohttp.web` on the asyncio loop the controllers use ("one
clock"), HTTP/1.1 keep-alive with TCP_NODELAY (aiohttp sets it on every connection;
without it small responses stall ~40 ms on delayed ACKs), chunked watch streams
written event by event.

Contract
--------
* Requests go to a :class:`Router` -- the core's HTTP-shaped entry point,
  ``(method, path, query, headers, body) -> response`` -- unchanged, except for what
  only an HTTP front end needs, answered here:

  - ``/healthz``, ``/readyz``, ``/livez`` (``ok``);
  - ``/openapi/v3`` and per-group-version documents (:mod:`fakes.kube.openapi`),
    ``/openapi/v2`` answers 404 so kubectl uses v3;
  - ``meta.k8s.io/v1 Table`` output when ``Accept`` asks for it
    (:mod:`fakes.kube.tables`), for gets, lists and watches;
  - protobuf request bodies (kubectl's ``create deployment|configmap|...``
    generators; ``kubectl run`` sends JSON and works) answer 415 with a message
    telling the user to use ``-f`` with YAML/JSON.

* :class:`ClusterHttpServer` runs on the *current* loop (``await start()`` /
  ``await stop()``); :class:`ServerThread` runs one in a background thread with its
  own loop for tests, benchmarks and sync callers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakes.kube import errors, openapi
from fakes.kube.kinds import DEFAULT_REGISTRY, KindRegistry
from fakes.kube.messages import Request
from fakes.kube.tables import to_table

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    from fakes.kube.messages import Response
    from fakes.kube.router import Router
    from fakes.kube.watch import Watcher

JsonObj = dict[str, Any]

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_HEALTH = frozenset({"/healthz", "/readyz", "/livez"})
_PROTOBUF_HINT = (
    "this simulated cluster does not decode protobuf bodies, which kubectl's generator "
    "commands (kubectl create deployment, kubectl create configmap, ...) send; write the "
    "object as YAML or JSON and use kubectl create -f FILE or kubectl apply -f FILE"
)


def _status_response(error: errors.ApiError) -> web.Response:
    return web.Response(
        status=error.code,
        body=errors.status_bytes(error),
        content_type=JSON,
        headers=error.headers or None,
    )


def _wants_table(accept: str) -> bool:
    """True when the first acceptable media type is a v1 (or v1beta1) Table."""
    for clause in accept.split(","):
        params = [p.strip() for p in clause.split(";")]
        if "as=Table" in params:
            return True
        if params[0] in (JSON, "*/*", "application/*"):
            return False
    return False


def _only_protobuf(accept: str) -> bool:
    types = [c.split(";", 1)[0].strip() for c in accept.split(",") if c.strip()]
    return bool(types) and all(t == PROTOBUF for t in types)


def _group_plural(path: str) -> tuple[str, str] | None:
    """``(group, plural)`` of a resource URL (``None`` for subresources and non-resources)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"]:
        group, rest = parts[1] if len(parts) > 1 else "", parts[3:]
    else:
        return None
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    if len(rest) not in (1, 2):
        return None
    return group, rest[0]


class ClusterHttpServer:
    """aiohttp front end on the running loop; see the module docstring."""

    def __init__(
        self,
        router: Router,
        registry: KindRegistry = DEFAULT_REGISTRY,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.router = router
        self.registry = registry
        # Ages in Table output are measured on the cluster's clock, like its timestamps.
        clock = getattr(getattr(router, "api", None), "clock", None)
        self.now = now or (clock.now if clock is not None else time.time)
        self.host = "127.0.0.1"
        self.port = 0
        self._runner: web.ServerRunner | None = None
        self._watchers: set[Watcher] = set()
        self._openapi_cache: dict[str, bytes] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (``port=0`` picks a free port) and return the base URL."""
        server = web.Server(self._handle, handler_cancellation=True)
        self._runner = runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, port, reuse_address=True)
        await site.start()
        sockets = runner.addresses
        self.port = int(sockets[0][1])
        return self.url

    async def stop(self) -> None:
        """Close open watches, then the listener and connections."""
        for watcher in list(self._watchers):
            watcher.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- request handling --------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        # Still percent-encoded: the router splits on "/" before unquoting each segment.
        path = request.rel_url.raw_path
        try:
            if path in _HEALTH:
                return web.Response(text="ok", content_type="text/plain")
            if path.startswith("/openapi/"):
                return self._openapi(path)
            body = await request.read() if request.can_read_body else b""
            ctype = request.headers.get("Content-Type", "")
            if body and ctype.split(";", 1)[0].strip() == PROTOBUF:
                raise errors.unsupported_media_type(
                    "application/json, application/yaml, application/merge-patch+json, "
                    "application/strategic-merge-patch+json, application/json-patch+json, "
                    "application/apply-patch+yaml",
                    _PROTOBUF_HINT,
                )
            accept = request.headers.get("Accept", "")
            if accept and _only_protobuf(accept):
                raise errors.ApiError(
                    406, "NotAcceptable", f"only the following media types are accepted: {JSON}", {}
                )
            table = _wants_table(accept)
            headers = dict(request.headers)
            if table:
                headers["Accept"] = JSON
            query: dict[str, list[str]] = {}
            for key, value in request.query.items():
                query.setdefault(key, []).append(value)
            result = await self.router.handle(Request(request.method, path, query, headers, body))
        except errors.ApiError as exc:
            return _status_response(exc)
        include = (query.get("includeObject") or ["Metadata"])[0]
        if result.watch is not None:
            return await self._stream(request, result, result.watch, table, path, include)
        out_headers = dict(result.headers)
        out_body = result.body
        if table and 200 <= result.status < 300:
            out_body = self._as_table(path, out_body, include)
        out_headers.setdefault("Content-Type", JSON)
        return web.Response(status=result.status, body=out_body, headers=out_headers)

    def _as_table(self, path: str, body: bytes, include: str) -> bytes:
        gp = _group_plural(path)
        if gp is None:
            return body
        obj = json.loads(body)
        if obj.get("kind") == "Status":
            return body
        table = to_table(gp[0], gp[1], obj, self.now(), include)
        return errors.dumps(table)

    async def _stream(
        self,
        request: web.BaseRequest,
        result: Response,
        stream: Watcher,
        table: bool,
        path: str,
        include: str,
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=result.status, headers=dict(result.headers))
        response.content_type = JSON
        response.enable_chunked_encoding()
        self._watchers.add(stream)
        gp = _group_plural(path) if table else None
        try:
            await response.prepare(request)
            async for event in stream:
                if gp is not None and event.type in ("ADDED", "MODIFIED", "DELETED"):
                    obj = to_table(gp[0], gp[1], json.loads(event.raw), self.now(), include)
                    line = (
                        b'{"type":"'
                        + event.type.encode()
                        + b'","object":'
                        + errors.dumps(obj)
                        + b"}\n"
                    )
                else:
                    line = event.line()
                await response.write(line)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client went away; closing the watcher below is all there is to do
        finally:
            stream.close()
            self._watchers.discard(stream)
        return response

    def _openapi(self, path: str) -> web.Response:
        cached = self._openapi_cache.get(path)
        if cached is None:
            if path == "/openapi/v3":
                doc: JsonObj | None = openapi.index(self.registry)
            elif path.startswith("/openapi/v3/"):
                parts = path[len("/openapi/v3/") :].strip("/").split("/")
                if parts[:1] == ["api"] and len(parts) == 2:
                    doc = openapi.group_version_document(self.registry, "", parts[1])
                elif parts[:1] == ["apis"] and len(parts) == 3:
                    doc = openapi.group_version_document(self.registry, parts[1], parts[2])
                else:
                    doc = None
            else:
                doc = None
            if doc is None:
                return _status_response(errors.resource_not_found())
            cached = self._openapi_cache[path] = errors.dumps(doc)
        return web.Response(body=cached, content_type=JSON)


class ServerThread:
    """A :class:`ClusterHttpServer` on its own event loop in a daemon thread.

    ``setup`` runs *on that loop* (it may be a coroutine function), so whatever needs a
    running loop -- controllers -- is started where it will live; it returns the
    router to serve. ``teardown`` (optional) runs on the loop after the server stops.
    Use as a context manager::

        with ServerThread(lambda: Cluster().router) as server:
            subprocess.run(["kubectl", "--server", server.url, "get", "pods"])
    """

    def __init__(
        self,
        setup: Callable[[], Router | Awaitable[Router]],
        *,
        teardown: Callable[[], Awaitable[None]] | None = None,
        registry: KindRegistry = DEFAULT_REGISTRY,
        port: int = 0,
        now: Callable[[], float] | None = None,
    ) -> None:
        self._setup = setup
        self._teardown = teardown
        self._registry = registry
        self._port = port
        self._now = now
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self.loop = asyncio.new_event_loop()
        self.server: ClusterHttpServer | None = None
        self.router: Router | None = None
        self._thread = threading.Thread(target=self._run, name="windtunnel-http", daemon=True)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            made = self._setup()
            router = await made if inspect.isawaitable(made) else made
            self.router = router
            self.server = ClusterHttpServer(router, self._registry, self._now)
            await self.server.start(self._port)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()
            if self._teardown is not None:
                await self._teardown()

    def call(self, fn: Callable[[], Any], timeout: float = 30) -> Any:
        """Run ``fn()`` on the server's loop thread and return its result."""

        async def wrapper() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["ClusterHttpServer", "ServerThread"]
