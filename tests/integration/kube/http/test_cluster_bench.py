"""``windtunnel bench cluster`` runs end to end and reports every figure (no timing asserted)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from harness.bench.cluster_bench import (
    NAMESPACE,
    _canned_client,
    _deserializer,
    _raw,
    bench_pod,
    build_cluster,
)
from harness.commands import bench_cluster

REQUIRED = {
    "inprocess_reads_per_s",
    "http_reads_per_s",
    "deserialize_only_per_s",
    "large_cluster_build_s",
    "selective_list_ms",
    "small_cluster_selective_list_ms",
    "kib_per_pod",
    "inprocess_vs_deserialize",
    "inprocess_vs_http",
    "selective_list_ratio",
    "build_per_pod_ratio",
}
# The ceiling and the transport-only comparison, printed beside the required figures.
EXTRA = {
    "client_canned_reads_per_s",
    "client_canned_lists_per_s",
    "deserialize_text_only_per_s",
    "inprocess_raw_reads_per_s",
    "http_raw_reads_per_s",
    "inprocess_raw_lists_per_s",
    "http_raw_lists_per_s",
    "inprocess_vs_canned",
    "canned_vs_deserialize",
    "inprocess_raw_lists_vs_http",
    "inprocess_vs_deserialize_cpu",
    "canned_vs_deserialize_cpu",
}

pytestmark = pytest.mark.slow


def test_bench_cluster_json_line_has_every_figure() -> None:
    app = typer.Typer()

    @app.callback()
    def _group() -> None:
        """bench"""

    app.command("cluster")(bench_cluster.cluster)
    result = CliRunner().invoke(
        app,
        [
            "cluster",
            "--json",
            "--nodes",
            "10",
            "--pods",
            "1000",
            "--compare-pods",
            "100",
            "--memory-pods",
            "200",
            "--seconds",
            "0.05",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures.keys() >= REQUIRED | EXTRA
    assert all(figures[key] > 0 for key in REQUIRED | EXTRA)


def test_every_baseline_yields_the_model_the_in_process_call_returns() -> None:
    """The floor and the zero-cost transport do the client's work on the same bytes."""
    import kubernetes

    cluster, _ = build_cluster(nodes=2, pods=100)
    kind = cluster.api.registry.resolve("pods")
    name = bench_pod(0, "")["metadata"]["name"]
    body = cluster.api.get_raw(kind, NAMESPACE, name)
    v1 = kubernetes.client.CoreV1Api(cluster.api_client())
    served = v1.read_namespaced_pod(name, NAMESPACE)
    floor = _deserializer(v1.api_client, body, "V1Pod")()
    assert floor.status_code == 200
    assert floor.data == served
    assert floor.raw_data == body
    canned = kubernetes.client.CoreV1Api(_canned_client(body))
    assert canned.read_namespaced_pod(name, NAMESPACE) == served
    raw = _raw(lambda: v1.read_namespaced_pod(name, NAMESPACE, _preload_content=False))
    assert raw() == body


def test_bench_clusters_answer_the_selective_list_with_exactly_one_group() -> None:
    cluster, _ = build_cluster(nodes=5, pods=1_000)
    kind = cluster.api.registry.resolve("pods")
    listed = json.loads(cluster.api.list_raw(kind, None, label_selector="group=g3"))
    names = [p["metadata"]["name"] for p in listed["items"]]
    assert len(names) == 100
    assert bench_pod(300, "")["metadata"]["name"] in names
