"""``windtunnel bench cluster``: the simulated cluster's costs as ratios to in-run baselines.

The command function lives here so the ``bench`` group (``harness/commands/bench.py``)
mounts it with one line: ``app.command("cluster")(bench_cluster.cluster)``.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table


def cluster(
    large_nodes: int = typer.Option(5_000, "--nodes", min=1, help="Nodes in the large cluster."),
    large_pods: int = typer.Option(
        150_000, "--pods", min=100, help="Pods in the large cluster (groups of 100 by label)."
    ),
    compare_pods: int = typer.Option(
        1_500, "--compare-pods", min=100, help="Smaller build for the per-pod build-cost ratio."
    ),
    memory_pods: int = typer.Option(
        20_000, "--memory-pods", min=100, help="Pods stored under tracemalloc for KiB/pod."
    ),
    seconds: float = typer.Option(
        0.5, "--seconds", min=0.05, help="Length of each timed round of client calls."
    ),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line of the results."),
) -> None:
    """API reads in-process vs over HTTP vs the client's own floor; a 150k-pod cluster."""
    from harness.bench.cluster_bench import TARGETS, meets, run_cluster_bench

    console = Console(stderr=as_json)
    result = run_cluster_bench(
        large_nodes=large_nodes,
        large_pods=large_pods,
        compare_pods=compare_pods,
        memory_pods=memory_pods,
        seconds=seconds,
        progress=lambda text: console.print(f"[dim]… {text}[/dim]"),
    )
    figures = result.as_dict()
    table = Table(title="simulated cluster: figures and ratios to in-run baselines")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("inprocess_reads_per_s", "read_namespaced_pod/s, in-process"),
        ("http_reads_per_s", "read_namespaced_pod/s, over HTTP"),
        ("deserialize_only_per_s", "client response_deserialize of the same bytes/s"),
        ("deserialize_text_only_per_s", "client deserialize of the decoded text/s"),
        ("client_canned_reads_per_s", "client call, zero-cost transport/s"),
        ("inprocess_lists_per_s", "100-pod labelled list/s, in-process"),
        ("http_lists_per_s", "100-pod labelled list/s, over HTTP"),
        ("deserialize_only_lists_per_s", "client response_deserialize of the same list/s"),
        ("deserialize_text_only_lists_per_s", "client deserialize of the decoded list text/s"),
        ("client_canned_lists_per_s", "client list call, zero-cost transport/s"),
        ("inprocess_raw_reads_per_s", "raw read (no models)/s, in-process"),
        ("http_raw_reads_per_s", "raw read (no models)/s, over HTTP"),
        ("client_canned_raw_reads_per_s", "raw read (no models)/s, zero-cost transport"),
        ("inprocess_raw_lists_per_s", "raw 100-pod list (no models)/s, in-process"),
        ("http_raw_lists_per_s", "raw 100-pod list (no models)/s, over HTTP"),
        ("client_canned_raw_lists_per_s", "raw 100-pod list (no models)/s, zero-cost transport"),
        ("large_cluster_build_s", f"build {large_nodes:,} nodes + {large_pods:,} pods, s"),
        ("build_us_per_pod_large", f"build µs/pod at {large_pods:,}"),
        ("build_us_per_pod_small", f"build µs/pod at {compare_pods:,}"),
        ("selective_list_ms", f"label list of 100 of {large_pods:,} pods at the core, ms"),
        ("small_cluster_selective_list_ms", "the same list in a 100-pod cluster, ms"),
        ("kib_per_pod", "memory per stored pod, KiB"),
        ("inprocess_vs_deserialize", "in-process ÷ deserialize-only (reads)"),
        ("inprocess_lists_vs_deserialize", "in-process ÷ deserialize-only (lists)"),
        ("canned_vs_deserialize", "zero-cost transport ÷ deserialize-only: the ceiling (reads)"),
        ("canned_lists_vs_deserialize", "zero-cost transport ÷ deserialize-only (lists)"),
        ("inprocess_vs_canned", "in-process ÷ zero-cost transport (reads)"),
        ("inprocess_lists_vs_canned", "in-process ÷ zero-cost transport (lists)"),
        ("inprocess_vs_deserialize_cpu", "in-process ÷ deserialize-only, CPU time (reads)"),
        ("inprocess_lists_vs_deserialize_cpu", "in-process ÷ deserialize-only, CPU time (lists)"),
        ("canned_vs_deserialize_cpu", "zero-cost transport ÷ deserialize-only, CPU time"),
        ("inprocess_vs_canned_cpu", "in-process ÷ zero-cost transport, CPU time (reads)"),
        ("inprocess_vs_http", "in-process ÷ HTTP (reads)"),
        ("inprocess_lists_vs_http", "in-process ÷ HTTP (lists)"),
        ("inprocess_raw_reads_vs_http", "in-process ÷ HTTP, raw bytes (reads)"),
        ("inprocess_raw_lists_vs_http", "in-process ÷ HTTP, raw bytes (lists)"),
        ("selective_list_ratio", "selective list: large ÷ small cluster"),
        ("build_per_pod_ratio", f"build µs/pod: {large_pods:,} ÷ {compare_pods:,}"),
    ]
    for key, label in rows:
        value = float(figures[key])
        target = TARGETS.get(key)
        verdict = meets(key, value)
        mark = "" if verdict is None else (" [green]ok[/green]" if verdict else " [red]miss[/red]")
        table.add_row(label, f"{value:,.3f}", f"{target[0]} {target[1]:g}{mark}" if target else "")
    console.print(table)
    if as_json:
        print(json.dumps(figures))
