"""The HTTP front end: what other processes and kubectl rely on, over a real socket.

Real time, no looptime: the server runs on its own loop in a background thread.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from fakes.kube.cluster import Cluster
from fakes.kube.http_server import ServerThread

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(lambda: Cluster(seed=1).router) as running:
        yield running


@pytest.fixture
def v1(server: ServerThread) -> Iterator[kubernetes.client.CoreV1Api]:
    config = kubernetes.client.Configuration()
    config.host = server.url
    with kubernetes.client.ApiClient(config) as client:
        yield kubernetes.client.CoreV1Api(client)


def _pod(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
    }


def _conn(server: ServerThread) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)


def test_health_endpoints_answer_ok(server: ServerThread) -> None:
    for path in ("/healthz", "/readyz", "/livez"):
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            assert response.read() == b"ok"


def test_server_listens_on_loopback_only(server: ServerThread) -> None:
    assert urlsplit(server.url).hostname == "127.0.0.1"


def test_version_and_discovery_through_the_official_client(
    server: ServerThread, v1: kubernetes.client.CoreV1Api
) -> None:
    client = v1.api_client
    info = kubernetes.client.VersionApi(client).get_code()
    assert info.git_version.startswith("v1.")
    groups = kubernetes.client.ApisApi(client).get_api_versions()
    assert "apps" in {g.name for g in groups.groups}
    resources = v1.get_api_resources()
    pods = next(r for r in resources.resources if r.name == "pods")
    assert pods.namespaced
    assert "po" in pods.short_names


def test_official_client_crud_and_selectors_over_http(v1: kubernetes.client.CoreV1Api) -> None:
    v1.create_namespaced_pod("default", _pod("crud-a", {"tier": "web"}))
    v1.create_namespaced_pod("default", _pod("crud-b", {"tier": "db"}))
    assert v1.read_namespaced_pod("crud-a", "default").metadata.labels == {"tier": "web"}
    listed = v1.list_namespaced_pod("default", label_selector="tier=web")
    assert [p.metadata.name for p in listed.items] == ["crud-a"]
    by_field = v1.list_namespaced_pod("default", field_selector="metadata.name=crud-b")
    assert [p.metadata.name for p in by_field.items] == ["crud-b"]
    with pytest.raises(ApiException) as caught:
        v1.read_namespaced_pod("missing", "default")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["reason"] == "NotFound"


def test_watch_delivers_each_event_while_the_stream_stays_open(
    server: ServerThread, v1: kubernetes.client.CoreV1Api
) -> None:
    conn = _conn(server)
    rv = v1.list_namespaced_pod("default").metadata.resource_version
    conn.request(
        "GET", f"/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}&timeoutSeconds=60"
    )
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    v1.create_namespaced_pod("default", _pod("watched"))
    # The stream stays open for 60 s: reading the line within the socket timeout
    # proves the event was written when it happened, not when the watch closed.
    event = json.loads(response.readline())
    assert event["type"] == "ADDED"
    assert event["object"]["metadata"]["name"] == "watched"
    conn.close()


def test_official_client_watch_over_http(v1: kubernetes.client.CoreV1Api) -> None:
    rv = v1.list_namespaced_pod("default").metadata.resource_version
    seen: list[str] = []

    def consume() -> None:
        w = kubernetes.watch.Watch()
        for event in w.stream(
            v1.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=30
        ):
            seen.append(event["object"].metadata.name)
            w.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    v1.create_namespaced_pod("default", _pod("client-watched"))
    thread.join(30)
    assert seen == ["client-watched"]


def test_keep_alive_reuses_one_connection(server: ServerThread) -> None:
    conn = _conn(server)
    conn.request("GET", "/api/v1/namespaces")
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    conn.request("GET", "/api/v1/nodes")
    second = conn.getresponse()
    second.read()
    assert second.status == 200
    assert conn.sock is sock
    conn.close()


def test_table_output_carries_the_real_pod_columns(
    server: ServerThread, v1: kubernetes.client.CoreV1Api
) -> None:
    v1.create_namespaced_pod("default", _pod("tabled", {"show": "me"}))
    request = urllib.request.Request(
        server.url + "/api/v1/namespaces/default/pods?labelSelector=show%3Dme",
        headers={"Accept": TABLE},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        table = json.loads(response.read())
    assert table["kind"] == "Table"
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns[:5] == [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0)]
    assert ("IP", 1) in columns
    assert ("Node", 1) in columns
    [row] = table["rows"]
    assert row["cells"][:4] == ["tabled", "0/1", "Pending", "0"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"] == {"show": "me"}


def test_table_watch_wraps_each_event(
    server: ServerThread, v1: kubernetes.client.CoreV1Api
) -> None:
    rv = v1.list_namespaced_pod("default").metadata.resource_version
    conn = _conn(server)
    conn.request(
        "GET",
        f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&timeoutSeconds=60",
        headers={"Accept": TABLE},
    )
    response = conn.getresponse()
    v1.create_namespaced_pod("default", _pod("table-watched"))
    event = json.loads(response.readline())
    assert event["type"] == "ADDED"
    assert event["object"]["kind"] == "Table"
    assert event["object"]["rows"][0]["cells"][0] == "table-watched"
    conn.close()


def test_protobuf_bodies_are_refused_with_advice(server: ServerThread) -> None:
    conn = _conn(server)
    conn.request(
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        body=b"k8s\x00\n\x0f\n\x07apps/v1",
        headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
    )
    response = conn.getresponse()
    status = json.loads(response.read())
    assert response.status == 415
    assert status["kind"] == "Status"
    assert status["reason"] == "UnsupportedMediaType"
    assert "-f" in status["message"]
    conn.close()


def test_openapi_v3_advertises_server_side_field_validation(server: ServerThread) -> None:
    with urllib.request.urlopen(server.url + "/openapi/v3", timeout=10) as response:
        index = json.loads(response.read())
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    with urllib.request.urlopen(server.url + url, timeout=10) as response:
        doc = json.loads(response.read())
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}


def test_unknown_paths_answer_a_404_status(server: ServerThread) -> None:
    conn = _conn(server)
    conn.request("GET", "/openapi/v3/apis/nope/v1")
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 404
    assert body["kind"] == "Status"
    conn.close()


def test_stopping_the_server_ends_open_watches() -> None:
    running = ServerThread(lambda: Cluster(seed=2).router).start()
    conn = _conn(running)
    try:
        conn.request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=600")
        response = conn.getresponse()
        assert response.status == 200
        running.stop()
        assert response.read() == b""
    finally:
        running.stop()
        conn.close()
