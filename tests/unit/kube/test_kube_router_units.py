"""The router's request parsing and the sync seam's response, without a client on top.

Both sit on every in-process call and are written for speed (no unquote or query
parse unless needed, a slotted response); these tests pin what that must not change.
"""

from __future__ import annotations

import json

import pytest

from fakes.kube import Cluster
from fakes.kube import router as router_module
from fakes.kube.inprocess import RouterPoolManager, RouterResponse
from fakes.kube.messages import JSON_HEADERS, Request, RequestInfo, Response


def _info(
    cluster: Cluster, method: str, url: str
) -> tuple[str, str | None, str | None, str | None]:
    request = Request.from_url(method, url)
    cluster.router.dispatch(request)
    info = request.info
    assert isinstance(info, RequestInfo)
    plural = info.kind.plural if info.kind is not None else None
    return info.verb, plural, info.namespace, info.name


def test_from_url_drops_scheme_and_host_and_parses_only_present_queries() -> None:
    request = Request.from_url("get", "http://h.invalid:8080/api/v1/pods?limit=5&watch")
    assert (request.method, request.path) == ("GET", "/api/v1/pods")
    assert request.query == {"limit": ["5"], "watch": [""]}
    assert Request.from_url("GET", "https://h.invalid").path == "/"
    assert Request.from_url("GET", "/api/v1/pods").query == {}
    headers = {"Accept": "application/json"}
    copied = Request.from_url("GET", "/api", headers)
    headers["Accept"] = "changed"
    assert copied.headers == {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("GET", "/api/v1/namespaces/ns/pods/p", ("get", "pods", "ns", "p")),
        ("GET", "/api/v1/namespaces/ns/pods", ("list", "pods", "ns", None)),
        ("GET", "/api/v1/namespaces/ns/pods?watch=1", ("watch", "pods", "ns", None)),
        ("GET", "/api/v1/watch/namespaces/ns/pods/p", ("watch", "pods", "ns", "p")),
        ("POST", "/api/v1/namespaces/ns/pods", ("create", "pods", "ns", None)),
        ("POST", "/api/v1/namespaces/ns/pods/p/eviction", ("create", "pods", "ns", "p")),
        ("POST", "/api/v1/namespaces/ns/pods/p", ("unsupported", "pods", "ns", "p")),
        ("PUT", "/api/v1/namespaces/ns/pods", ("unsupported", "pods", "ns", None)),
        ("DELETE", "/api/v1/namespaces/ns/pods", ("deletecollection", "pods", "ns", None)),
        ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", ("patch", "deployments", "ns", "d")),
        ("GET", "/api/v1/namespaces/ns", ("get", "namespaces", None, "ns")),
        ("GET", "/api/v1/nodes/n%3A1", ("get", "nodes", None, "n:1")),
        ("GET", "/api/v1/namespaces/ns/configmaps/a%2Fb", ("get", "configmaps", "ns", "a/b")),
        ("GET", "/api/v1/namespaces/ns/nodes/n", ("unknown", None, None, None)),
        ("GET", "/api/v1/watch", ("unknown", None, None, None)),
    ],
)
def test_paths_parse_like_kube_apiserver(
    method: str, url: str, expected: tuple[str, str | None, str | None, str | None]
) -> None:
    assert _info(Cluster(), method, url) == expected


def test_router_response_serves_the_router_bytes_with_lowercase_headers() -> None:
    body = b'{"kind":"Pod"}'
    shared = RouterResponse(Response.json(200, body))
    assert (shared.status, shared.reason, shared.data, shared.read()) == (200, "OK", body, body)
    assert shared.getheaders() == {
        "content-type": "application/json",
        "cache-control": "no-cache, private",
    }
    assert shared.getheader("Content-Type") is None  # lowercase names, like HTTP/2
    assert shared.getheader("content-type") == "application/json"
    own = RouterResponse(Response(429, {**JSON_HEADERS, "Retry-After": "1"}, body))
    assert (own.reason, own.headers["retry-after"]) == ("Too Many Requests", "1")
    assert list(own.stream()) == [body]
    assert own.read(amt=10) == body
    assert own.read(amt=10) == b""


def test_pool_manager_answers_misses_with_status_bodies() -> None:
    pool = RouterPoolManager(Cluster().router)
    response = pool.request("GET", "http://windtunnel.invalid/api/v1/namespaces/ns/pods/nope")
    assert response.status == 404
    assert json.loads(response.data)["reason"] == "NotFound"


def test_cached_routes_still_take_the_verb_from_method_and_query() -> None:
    cluster = Cluster()
    path = "/api/v1/namespaces/ns/pods"
    assert _info(cluster, "GET", path)[0] == "list"
    assert _info(cluster, "GET", path + "?watch=true")[0] == "watch"
    assert _info(cluster, "DELETE", path)[0] == "deletecollection"
    assert _info(cluster, "GET", path + "/p")[0] == "get"
    assert _info(cluster, "DELETE", path + "/p")[0] == "delete"
    assert _info(cluster, "GET", "/api/v1/nope")[0] == "unknown"
    assert _info(cluster, "GET", "/api/v1/nope")[0] == "unknown"


def test_route_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router_module, "ROUTE_CACHE_SIZE", 8)
    cluster = Cluster()
    for i in range(50):
        assert _info(cluster, "GET", f"/api/v1/namespaces/ns/pods/p{i}")[3] == f"p{i}"
    assert len(cluster.router._routes) <= 8
