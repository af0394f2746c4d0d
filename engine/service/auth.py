"""Bearer-token authentication for every route but the health probes.

A request carries ``Authorization: Bearer <token>``; the scheme is case-insensitive
(RFC 6750) and the token is compared in constant time. Without it, or with another
token, the answer is 401 with a problem-details body and ``WWW-Authenticate: Bearer``.
``/healthz`` and ``/readyz`` stay open so an orchestrator can probe without a secret.

The token is held as bytes here and nowhere else in the service: it is never logged,
echoed in an error or put in a metric. A middleware (not a dependency per route) so
that a route added later cannot forget it.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.service.problems import PROBLEM_JSON, problem_body

OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class BearerAuth:
    """ASGI middleware: reject HTTP requests without the right bearer token."""

    def __init__(self, app: ASGIApp, *, token: str, open_paths: frozenset[str] = OPEN_PATHS):
        if not token:
            raise ValueError("the bearer token must not be empty")
        self.app = app
        self._token = token.encode("utf-8")
        self._open = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open:
            await self.app(scope, receive, send)
            return
        problem = self._check(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        error, detail = problem
        body = json.dumps(
            problem_body(401, detail, kind="unauthorized", instance=scope["path"])
        ).encode()
        challenge = 'Bearer realm="windtunnel"' + (f', error="{error}"' if error else "")
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _check(self, scope: Scope) -> tuple[str, str] | None:
        """None when authorised, else (RFC 6750 error code, detail for the client)."""
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if header is None:
            return "", "send 'Authorization: Bearer <token>' (see `windtunnel serve --help`)"
        scheme, _, credentials = header.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not credentials.strip():
            return (
                "invalid_request",
                "the Authorization header must be 'Bearer <token>'",
            )
        if not hmac.compare_digest(credentials.strip(), self._token):
            return "invalid_token", "the bearer token is not the service's token"
        return None
