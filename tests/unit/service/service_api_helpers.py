"""Constants and assertions shared by the service's API tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

TOKEN = "unit-test-token-0c9e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

NOOP = {"name": "noop-flow", "steps": [{"id": "only", "action": "noop"}]}
TWO_STEPS = {
    "name": "two-steps",
    "steps": [
        {"id": "first", "action": "noop", "params": {"n": 1}},
        {"id": "second", "action": "noop", "depends_on": ["first"]},
    ],
}
SLOW = {"name": "slow", "steps": [{"id": "wait", "action": "sleep", "params": {"seconds": 600}}]}
FAILING = {
    "name": "always-fails",
    "steps": [{"id": "boom", "action": "fail_with_probability", "params": {"probability": 1.0}}],
}


Register = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Submit = Callable[..., Awaitable[str]]


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of that status and kind; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:windtunnel:problem:{kind}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    return body
