"""In-process front end for the official *sync* client (``kubernetes.client``).

The seam is ``api_client.rest_client.pool_manager``: the generated REST client calls
``pool_manager.request(method, url, body=..., headers=..., preload_content=False)``
and reads ``.status``, ``.reason``, ``.headers``, ``.data`` from the answer. We
replace the urllib3 ``PoolManager`` with :class:`RouterPoolManager`, whose
``request`` hands the call to the cluster's router and returns a
:class:`RouterResponse` that quacks like ``urllib3.HTTPResponse`` -- including
``stream()``, which yields watch events line by line as they happen, so
``kubernetes.watch.Watch().stream(...)`` works unchanged. No sockets are opened.

Use :func:`connect` on an existing ``ApiClient`` or ``Cluster.api_client()``.
A sync watch blocks its thread while waiting for events; its timeouts and bookmarks,
and injected latency, follow the cluster clock's timer (real time by default, instant
under a ``VirtualClock``: see ``fakes.kube.clock``). On the event loop use the asyncio
client (``fakes.kube.inprocess_aio``) instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.messages import JSON_HEADERS, Request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fakes.kube.messages import Response
    from fakes.kube.router import Router

HOST = "http://windtunnel.invalid"
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def reason_phrase(status: int) -> str:
    return _REASONS.get(status, "Unknown")


def lowercase_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header names lowercased, as HTTP/2 and aiohttp deliver them.

    The generated client looks up ``headers.get("content-type")`` and scans for
    ``retry-after`` case-insensitively, so a plain dict with lowercase names is all
    it needs -- and, unlike ``HTTPHeaderDict``, costs nothing to build or validate.
    """
    return {k.lower(): v for k, v in headers.items()}


_SHARED_JSON_HEADERS = lowercase_headers(JSON_HEADERS)


class RouterResponse:
    """A ``urllib3.HTTPResponse`` look-alike over a router :class:`Response`.

    Built once per in-process call, so it does the least it can: slots, the reason
    from a table, the shared lowercase JSON headers when the router used the shared
    :data:`~fakes.kube.messages.JSON_HEADERS`, and ``data`` as the router's bytes
    (nothing is copied or decoded).
    """

    __slots__ = ("_consumed", "_response", "headers", "reason", "status")

    def __init__(self, response: Response) -> None:
        self._response = response
        self.status = response.status
        self.reason = _REASONS.get(response.status, "Unknown")
        headers = response.headers
        self.headers = (
            _SHARED_JSON_HEADERS if headers is JSON_HEADERS else lowercase_headers(headers)
        )
        self._consumed = False

    @property
    def data(self) -> bytes:
        response = self._response
        if response.watch is None:
            return response.body
        return self.read()

    def read(self, amt: int | None = None, decode_content: bool = True) -> bytes:
        if self._response.watch is not None:
            return b"".join(self.stream())
        if self._consumed and amt is not None:
            return b""
        if amt is not None:
            self._consumed = True
        return self._response.body

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        if self._response.watch is None:
            if self._response.body:
                yield self._response.body
            return
        yield from self._response.watch_lines_sync()

    def getheaders(self) -> dict[str, str]:
        return self.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        value = self.headers.get(name, default)
        return value if value is None else str(value)

    def close(self) -> None:
        if self._response.watch is not None:
            self._response.watch.close()

    def release_conn(self) -> None:
        self.close()

    def drain_conn(self) -> None:
        self.close()


class RouterPoolManager:
    """Stands in for ``urllib3.PoolManager``: routes every request to the router."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        fields: Any = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> RouterResponse:
        if fields and body is None and method.upper() not in ("GET", "HEAD", "DELETE"):
            body = "&".join(
                f"{k}={v}" for k, v in (fields.items() if isinstance(fields, dict) else fields)
            )
        request = Request.from_url(method, url, headers, body)
        return RouterResponse(self.router.handle_sync(request))

    def clear(self) -> None:
        """``RESTClientObject.close`` calls this; nothing to release."""


def connect(api_client: Any, router: Router) -> Any:
    """Route a ``kubernetes.client.ApiClient`` to ``router``; returns the same client."""
    api_client.configuration.host = HOST
    api_client.rest_client.pool_manager = RouterPoolManager(router)
    return api_client


def new_api_client(router: Router) -> Any:
    """A fresh ``kubernetes.client.ApiClient`` wired to ``router``."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = HOST
    return connect(client.ApiClient(configuration), router)
