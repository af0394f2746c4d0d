"""The messages of the HTTP-shaped core: :class:`Request` in, :class:`Response` out.

Every front end (the in-process clients, the HTTP server) builds a :class:`Request`
and hands it to ``fakes.kube.router.Router``; reactors and fault rules see the same
objects. Kept apart from the router so the front ends and the fault layer depend on
the message shapes, not on routing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from fakes.kube.errors import ApiError, status_bytes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from fakes.kube.kinds import ResourceKind
    from fakes.kube.watch import Watcher

JSON = "application/json"
# Shared by every JSON response; treat as read-only (copy before changing).
JSON_HEADERS: dict[str, str] = {"Content-Type": JSON, "Cache-Control": "no-cache, private"}


@dataclass(slots=True)
class RequestInfo:
    """What a request addresses; ``verb`` uses Kubernetes verbs (get, list, watch, ...)."""

    verb: str
    kind: ResourceKind | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    path_kind: str = "resource"  # or "discovery"/"version"/"unknown"


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    info: RequestInfo | None = None

    @classmethod
    def from_url(
        cls,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes | str | None = None,
    ) -> Request:
        """Build from a URL (scheme and host, if any, are ignored).

        Runs once per in-process client call, so it does no more than split: the
        query is parsed only when there is one.
        """
        scheme = url.find("://")
        if scheme >= 0:
            slash = url.find("/", scheme + 3)
            url = url[slash:] if slash >= 0 else "/"
        path, _, qs = url.partition("?")
        query = parse_qs(qs, keep_blank_values=True) if qs else {}
        if isinstance(body, str):
            body = body.encode()
        return cls(method.upper(), path, query, dict(headers) if headers else {}, body or b"")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def flag(self, name: str) -> bool:
        """A boolean query parameter, parsed like apimachinery's Convert_Slice_string_To_bool."""
        values = self.query.get(name)
        if not values:
            return False
        return not (values[0] == "0" or values[0].lower() == "false")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    watch: Watcher | None = None

    @classmethod
    def json(cls, status: int, body: bytes) -> Response:
        """A JSON answer; its ``headers`` is the shared :data:`JSON_HEADERS` (read-only)."""
        return cls(status, JSON_HEADERS, body)

    @classmethod
    def error(cls, error: ApiError) -> Response:
        headers = dict(JSON_HEADERS)
        headers.update(error.headers)
        return cls(error.code, headers, status_bytes(error))

    async def watch_lines(self) -> AsyncIterator[bytes]:
        """The encoded event lines of a watch response, as they happen (event loop)."""
        if self.watch is None:
            return
        async for event in self.watch:
            yield event.line()

    def watch_lines_sync(self) -> Iterator[bytes]:
        """Same as :meth:`watch_lines`, blocking, for threads."""
        if self.watch is None:
            return
        for event in self.watch:
            yield event.line()
