"""In-process front end for the official *asyncio* client (``kubernetes.aio``).

The seam is ``api_client.rest_client.pool_manager``, normally an
``aiohttp.ClientSession`` created lazily on the first request. We put a
:class:`RouterSession` there first; its ``request(**args)`` hands the call to the
cluster's router on the running loop and returns a :class:`RouterClientResponse`
with what the generated code and ``kubernetes.aio.watch.Watch`` read: ``status``,
``reason``, case-insensitive ``headers``, ``await read()`` and, for watches,
``content.readline()`` which yields one event line as soon as it happens and
``b""`` when the stream ends. No sockets, no aiohttp connector.

Use :func:`connect` on an existing client or ``Cluster.aio_api_client()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy

from fakes.kube.inprocess import HOST, reason_phrase
from fakes.kube.messages import JSON_HEADERS, Request

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fakes.kube.messages import Response
    from fakes.kube.router import Router


class WatchContent:
    """The ``response.content`` stream of a watch: one event line per ``readline()``."""

    def __init__(self, response: Response) -> None:
        self._lines: AsyncIterator[bytes] = response.watch_lines()
        self._done = False

    async def readline(self) -> bytes:
        if self._done:
            return b""
        try:
            return await self._lines.__anext__()
        except StopAsyncIteration:
            self._done = True
            return b""

    async def read(self, n: int = -1) -> bytes:
        return await self.readline()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[bytes]:
        while True:
            line = await self.readline()
            if not line:
                return
            yield line


class _BodyContent:
    def __init__(self, body: bytes) -> None:
        self._body = body

    async def readline(self) -> bytes:
        body, self._body = self._body, b""
        return body

    async def read(self, n: int = -1) -> bytes:
        return await self.readline()


# Read-only, so every JSON answer can share one instead of building a multidict per call.
_SHARED_JSON_HEADERS = CIMultiDictProxy(CIMultiDict(JSON_HEADERS))


class RouterClientResponse:
    """An ``aiohttp.ClientResponse`` look-alike over a router :class:`Response`."""

    def __init__(self, response: Response) -> None:
        self._response = response
        self.status = response.status
        self.reason = reason_phrase(response.status)
        headers = response.headers
        self.headers = (
            _SHARED_JSON_HEADERS
            if headers is JSON_HEADERS
            else CIMultiDictProxy(CIMultiDict(headers))
        )
        self.content: WatchContent | _BodyContent = (
            WatchContent(response) if response.watch is not None else _BodyContent(response.body)
        )

    async def read(self) -> bytes:
        if self._response.watch is not None:
            return b"".join([line async for line in self._response.watch_lines()])
        return self._response.body

    async def text(self, encoding: str = "utf-8") -> str:
        return (await self.read()).decode(encoding)

    def release(self) -> None:
        if self._response.watch is not None:
            self._response.watch.close()

    def close(self) -> None:
        self.release()

    async def __aenter__(self) -> RouterClientResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class RouterSession:
    """Stands in for ``aiohttp.ClientSession`` in the aio REST client."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.closed = False

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        data: Any = None,
        **_: Any,
    ) -> RouterClientResponse:
        body = data if isinstance(data, bytes | str) or data is None else str(data)
        request = Request.from_url(method, url, headers, body)
        return RouterClientResponse(await self.router.handle(request))

    async def close(self) -> None:
        self.closed = True


def connect(api_client: Any, router: Router) -> Any:
    """Route a ``kubernetes.aio.client.ApiClient`` to ``router``; returns the same client."""
    api_client.configuration.host = HOST
    api_client.rest_client.pool_manager = RouterSession(router)
    return api_client


_NO_TLS_CA = str(Path(__file__).with_name("data") / "inprocess-ca.pem")
"""A one-certificate CA bundle for the client's SSL context, which in-process never
speaks TLS: without a bundle the client loads the system's whole CA store for every new
ApiClient (~17 ms each; a testbed per scenario makes that a fifth of a feature run)."""


def new_api_client(router: Router) -> Any:
    """A fresh ``kubernetes.aio.client.ApiClient`` wired to ``router``."""
    from kubernetes.aio import client

    configuration = client.Configuration()
    configuration.host = HOST
    configuration.ssl_ca_cert = _NO_TLS_CA
    return connect(client.ApiClient(configuration), router)
