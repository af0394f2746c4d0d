"""``windtunnel bench cluster``: the simulated API server against the client's own floor.

What a user of the simulated cluster pays for, each figure with its in-run baseline:

* **reads through the official client, in-process** (``read_namespaced_pod`` and a
  100-pod labelled ``list_namespaced_pod``) against the client's own cost of turning
  the same response bytes into models: ``ApiClient.response_deserialize`` of a
  response object carrying those bytes and the server's headers (decode, JSON,
  models, the ``ApiResponse`` wrapper) -- the floor no in-process fake can beat.
  Target: in-process ≥ 0.75× deserialize-only.
* **the client's whole call against a zero-cost transport** (``client_canned_*``):
  a pool manager that hands back one pre-built response, so what remains is only
  the client -- argument validation, request building, response handling and
  deserialization. ``canned_vs_deserialize`` is therefore the ceiling of
  ``inprocess_vs_deserialize`` for *any* in-process seam under this client, and
  ``inprocess_vs_canned`` is the share the seam and the simulated API leave.
* **the same reads over the HTTP mode** (a real socket to 127.0.0.1, server on its
  own loop thread). Target: in-process ≥ 2× HTTP. The client deserializes the same
  models on both sides, so for a 100-pod list that cost dominates both; the
  ``*_raw_*`` figures repeat the calls with ``_preload_content=False`` (bytes only,
  no models) so the server+transport ratio is visible on its own.
* **a large cluster** (5,000 nodes, 150,000 pods) built through the bulk path; a
  label-selector list of 100 of its pods at the core against the same list in a
  100-pod cluster (target ≤ 2×: cost follows the result, not the store), and build
  cost per pod against a 1,500-pod build (target ≤ 1.3×).
* **memory per stored pod** (tracemalloc over a bulk build). Target ≤ 4 KiB.

Rates are the best of many short timed slices, by the wall clock; the ``*_cpu`` ratios
repeat the in-thread comparisons (in-process, zero-cost transport, deserialize-only)
on the bench thread's CPU time, which time stolen by the machine does not disturb.
No figure is asserted in a test.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

JsonObj = dict[str, Any]

NAMESPACE = "bench"
GROUP_SIZE = 100


@dataclass(frozen=True)
class ClusterBenchResult:
    """The figures ``windtunnel bench cluster`` prints (``as_dict`` is the JSON line)."""

    inprocess_reads_per_s: float
    http_reads_per_s: float
    deserialize_only_per_s: float
    inprocess_lists_per_s: float
    http_lists_per_s: float
    deserialize_only_lists_per_s: float
    large_cluster_nodes: int
    large_cluster_pods: int
    large_cluster_build_s: float
    build_us_per_pod_large: float
    build_us_per_pod_small: float
    selective_list_ms: float
    small_cluster_selective_list_ms: float
    kib_per_pod: float
    client_canned_reads_per_s: float
    client_canned_lists_per_s: float
    deserialize_text_only_per_s: float
    deserialize_text_only_lists_per_s: float
    inprocess_raw_reads_per_s: float
    http_raw_reads_per_s: float
    client_canned_raw_reads_per_s: float
    inprocess_raw_lists_per_s: float
    http_raw_lists_per_s: float
    client_canned_raw_lists_per_s: float
    inprocess_vs_canned: float
    inprocess_lists_vs_canned: float
    canned_vs_deserialize: float
    canned_lists_vs_deserialize: float
    inprocess_vs_deserialize: float
    inprocess_lists_vs_deserialize: float
    inprocess_vs_deserialize_cpu: float
    inprocess_lists_vs_deserialize_cpu: float
    canned_vs_deserialize_cpu: float
    inprocess_vs_canned_cpu: float
    inprocess_vs_http: float
    inprocess_lists_vs_http: float
    inprocess_raw_reads_vs_http: float
    inprocess_raw_lists_vs_http: float
    selective_list_ratio: float
    build_per_pod_ratio: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


TARGETS: dict[str, tuple[str, float]] = {
    "inprocess_vs_deserialize": (">=", 0.75),
    "inprocess_lists_vs_deserialize": (">=", 0.75),
    "inprocess_vs_deserialize_cpu": (">=", 0.75),
    "inprocess_lists_vs_deserialize_cpu": (">=", 0.75),
    "inprocess_vs_http": (">=", 2.0),
    "inprocess_lists_vs_http": (">=", 2.0),
    "selective_list_ratio": ("<=", 2.0),
    "build_per_pod_ratio": ("<=", 1.3),
    "kib_per_pod": ("<=", 4.0),
}


def bench_pod(i: int, node: str, namespace: str = NAMESPACE) -> JsonObj:
    """A pod as a ReplicaSet and the kubelet leave it: owner, spec defaults, Running status."""
    name = f"web-{i // GROUP_SIZE}-{i:06d}"
    ts = "2026-01-01T00:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app": "web",
                "group": f"g{i // GROUP_SIZE}",
                "pod-template-hash": "5d8f7c9b4",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"web-{i // GROUP_SIZE}-5d8f7c9b4",
                    "uid": f"00000000-0000-4000-8000-{i // GROUP_SIZE:012d}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.25",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
            "nodeName": node,
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": ts}
                for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
            ],
            "hostIP": "10.0.0.1",
            "podIP": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
            "startTime": ts,
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "restartCount": 0,
                    "image": "nginx:1.25",
                    "imageID": "docker-pullable://nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
                    "containerID": f"containerd://{i:064x}",
                    "started": True,
                    "state": {"running": {"startedAt": ts}},
                }
            ],
            "qosClass": "Burstable",
        },
    }


def bench_node(i: int) -> JsonObj:
    name = f"node-{i:05d}"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _pods(n: int, nodes: int) -> Iterator[JsonObj]:
    for i in range(n):
        yield bench_pod(i, f"node-{i % max(nodes, 1):05d}")


def build_cluster(nodes: int, pods: int) -> tuple[Any, float]:
    """A core-only cluster of ``nodes`` nodes and ``pods`` pods, and the pods' build seconds."""
    from fakes.kube.cluster import Cluster

    cluster = Cluster(seed=1)
    cluster.api.create("namespaces", {"metadata": {"name": NAMESPACE}})
    cluster.api.bulk_create("nodes", (bench_node(i) for i in range(nodes)))
    start = time.perf_counter()
    cluster.api.bulk_create("pods", _pods(pods, nodes))
    return cluster, time.perf_counter() - start


@dataclass
class _Rates:
    """Best calls per second of each timed function: by the wall clock and by CPU time.

    ``cpu`` counts only this thread's CPU time, so a slice the machine stole from the
    benchmark (another process, VM steal) does not count against the function; it is
    the steadier figure for comparisons made inside one thread. Anything with a server
    on another thread (the HTTP mode) is compared on ``wall`` only.
    """

    wall: dict[str, float]
    cpu: dict[str, float]

    def update(self, other: _Rates) -> None:
        self.wall.update(other.wall)
        self.cpu.update(other.cpu)


def _rates(
    fns: dict[str, Callable[[], object]], seconds: float, rounds: int = 8, slices: int = 5
) -> _Rates:
    """Calls per second of each function: the best of ``rounds * slices`` short timings.

    Each round of about ``seconds`` per function is cut into ``slices`` timings that
    alternate between the functions, so drift on a shared machine (frequency
    scaling, a neighbour's load, allocator warm-up) hits every side alike, and the
    best timing -- the least disturbed one -- is likelier to be undisturbed than a
    long one on a busy 2-core machine. The time spent collecting between slices is
    not counted.
    """
    wall = dict.fromkeys(fns, 0.0)
    cpu = dict.fromkeys(fns, 0.0)
    length = seconds / slices
    for fn in fns.values():
        fn()
    # The heap as it stands is moved out of the collector's reach (``gc.freeze``), so
    # collecting the young generations between slices is cheap.
    gc.collect()
    gc.freeze()
    try:
        _timed_slices(fns, rounds * slices, length, wall, cpu)
    finally:
        gc.unfreeze()
    return _Rates(wall, cpu)


def _timed_slices(
    fns: dict[str, Callable[[], object]],
    count: int,
    length: float,
    wall: dict[str, float],
    cpu: dict[str, float],
) -> None:
    for _ in range(count):
        for key, fn in fns.items():
            # Each slice starts from a collected heap and runs without the cyclic
            # collector, so a collection the previous function's garbage triggers is
            # not billed to this one (a 100-pod list allocates ~5,000 models per call).
            gc.collect(1)
            gc.disable()
            try:
                n = 0
                cpu_start = time.thread_time()
                start = time.perf_counter()
                deadline = start + length
                while True:
                    fn()
                    n += 1
                    now = time.perf_counter()
                    if now >= deadline:
                        break
                cpu_used = time.thread_time() - cpu_start
            finally:
                gc.enable()
            wall[key] = max(wall[key], n / (now - start))
            if cpu_used > 0:
                cpu[key] = max(cpu[key], n / cpu_used)


def _median_ms(fn: Callable[[], object], repeats: int = 50) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


class _CannedResponse:
    """What the client reads from a urllib3 response, fixed: status, reason, headers, data."""

    __slots__ = ("data", "headers", "reason", "status")

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.status = 200
        self.reason = "OK"
        self.headers = headers
        self.data = body

    def getheaders(self) -> dict[str, str]:
        return self.headers

    def release_conn(self) -> None:
        pass


class _CannedPool:
    """A urllib3 pool manager stand-in that hands back one pre-built response.

    The official client's whole call path (argument validation, request building,
    response handling, deserialization) over a transport that costs nothing: not
    even a response object is built per call. The floor of any in-process fake.
    """

    def __init__(self, body: bytes) -> None:
        self.response = _CannedResponse(body, _response_headers())

    def request(self, method: str, url: str, **kwargs: Any) -> _CannedResponse:
        return self.response

    def clear(self) -> None:
        pass


def _response_headers() -> dict[str, str]:
    """The headers the in-process seam answers a JSON read with (lowercase names)."""
    from fakes.kube.inprocess import lowercase_headers
    from fakes.kube.messages import JSON_HEADERS

    return lowercase_headers(JSON_HEADERS)


def _canned_client(body: bytes) -> Any:
    import kubernetes

    client = kubernetes.client.ApiClient(kubernetes.client.Configuration())
    client.rest_client.pool_manager = _CannedPool(body)  # type: ignore[assignment]
    return client


def _deserializer(api_client: Any, body: bytes, response_type: str) -> Callable[[], object]:
    """The client's own deserialization of ``body``, as it runs after every call.

    ``ApiClient.response_deserialize`` of a response object carrying ``body`` and
    the server's headers: the status-to-type lookup, the charset check, the bytes
    decode, JSON, the models and the ``ApiResponse`` wrapper -- exactly what the
    generated method does with the bytes once they have arrived, and nothing of
    the request side.
    """
    from kubernetes.client.rest import RESTResponse

    response = RESTResponse(_CannedResponse(body, _response_headers()))
    response.read()  # type: ignore[no-untyped-call]
    types = {"200": response_type}
    return lambda: api_client.response_deserialize(response, types)


def _raw(call: Callable[[], Any]) -> Callable[[], object]:
    """``call`` returns an undecoded urllib3-like response; read its bytes and release it."""

    def run() -> object:
        response = call()
        data = response.data
        response.release_conn()
        return data

    return run


def _large_cluster(nodes: int, pods: int) -> tuple[float, float, float]:
    """Build the large cluster; total build s, pod build s, median selective list ms."""
    start = time.perf_counter()
    large, pods_s = build_cluster(nodes, pods)
    build_s = time.perf_counter() - start
    kind = large.api.registry.resolve("pods")
    target = f"group=g{(pods // GROUP_SIZE) // 2}"
    list_ms = _median_ms(lambda: large.api.list_raw(kind, None, label_selector=target))
    return build_s, pods_s, list_ms


def _kib_per_pod(pods: int) -> float:
    from fakes.kube.cluster import Cluster

    gc.collect()
    tracemalloc.start()
    try:
        cluster = Cluster(seed=2)
        before = tracemalloc.get_traced_memory()[0]
        cluster.api.bulk_create("pods", _pods(pods, 100))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del cluster
    return (after - before) / pods / 1024


def run_cluster_bench(
    *,
    large_nodes: int = 5_000,
    large_pods: int = 150_000,
    compare_pods: int = 1_500,
    memory_pods: int = 20_000,
    seconds: float = 0.5,
    progress: Callable[[str], None] | None = None,
) -> ClusterBenchResult:
    """Run every measurement once (see the module docstring) and return the figures."""
    import kubernetes

    from fakes.kube.http_server import ServerThread

    say = progress or (lambda _text: None)
    say("small cluster: 100 pods, official client in-process, over HTTP, deserialize-only")
    small, _ = build_cluster(3, GROUP_SIZE)
    kind = small.api.registry.resolve("pods")
    name = bench_pod(0, "")["metadata"]["name"]
    selector = "group=g0"
    pod_bytes = small.api.get_raw(kind, NAMESPACE, name)
    list_bytes = small.api.list_raw(kind, NAMESPACE, label_selector=selector)
    pod_text, list_text = pod_bytes.decode(), list_bytes.decode()
    in_v1 = kubernetes.client.CoreV1Api(small.api_client())
    deserialize = in_v1.api_client.deserialize
    deser_read = _deserializer(in_v1.api_client, pod_bytes, "V1Pod")
    deser_list = _deserializer(in_v1.api_client, list_bytes, "V1PodList")
    canned_read = kubernetes.client.CoreV1Api(_canned_client(pod_bytes))
    canned_list = kubernetes.client.CoreV1Api(_canned_client(list_bytes))
    with ServerThread(lambda: small.router) as server:
        config = kubernetes.client.Configuration()
        config.host = server.url
        with kubernetes.client.ApiClient(config) as http_client:
            http_v1 = kubernetes.client.CoreV1Api(http_client)

            def read(v1: Any, **kw: Any) -> Callable[[], Any]:
                return lambda: v1.read_namespaced_pod(name, NAMESPACE, **kw)

            def lister(v1: Any, **kw: Any) -> Callable[[], Any]:
                return lambda: v1.list_namespaced_pod(NAMESPACE, label_selector=selector, **kw)

            raw = {"_preload_content": False}
            read_rates = _rates(
                {
                    "in": read(in_v1),
                    "http": read(http_v1),
                    "deser": deser_read,
                    "canned": read(canned_read),
                    "text": lambda: deserialize(pod_text, "V1Pod", "application/json"),
                    "in_raw": _raw(read(in_v1, **raw)),
                    "http_raw": _raw(read(http_v1, **raw)),
                    "canned_raw": _raw(read(canned_read, **raw)),
                },
                seconds,
            )
            list_rates = _rates(
                {
                    "in": lister(in_v1),
                    "http": lister(http_v1),
                    "deser": deser_list,
                    "canned": lister(canned_list),
                    "text": lambda: deserialize(list_text, "V1PodList", "application/json"),
                },
                seconds * 2,
            )
            list_rates.update(
                _rates(
                    {
                        "in_raw": _raw(lister(in_v1, **raw)),
                        "http_raw": _raw(lister(http_v1, **raw)),
                        "canned_raw": _raw(lister(canned_list, **raw)),
                    },
                    seconds,
                )
            )
    small_list_ms = _median_ms(lambda: small.api.list_raw(kind, None, label_selector=selector))

    say(f"compare build: {compare_pods:,} pods, median of 5")
    compare_s = statistics.median(
        build_cluster(max(compare_pods // 30, 1), compare_pods)[1] for _ in range(5)
    )
    say(f"large cluster: {large_nodes:,} nodes, {large_pods:,} pods")
    large_build_s, large_pods_s, large_list_ms = _large_cluster(large_nodes, large_pods)
    gc.collect()

    say(f"memory: {memory_pods:,} pods under tracemalloc")
    kib = _kib_per_pod(memory_pods)

    reads, lists = read_rates.wall, list_rates.wall
    read_cpu, list_cpu = read_rates.cpu, list_rates.cpu
    build_large = large_pods_s / large_pods * 1e6
    build_small = compare_s / compare_pods * 1e6
    return ClusterBenchResult(
        inprocess_reads_per_s=reads["in"],
        http_reads_per_s=reads["http"],
        deserialize_only_per_s=reads["deser"],
        inprocess_lists_per_s=lists["in"],
        http_lists_per_s=lists["http"],
        deserialize_only_lists_per_s=lists["deser"],
        large_cluster_nodes=large_nodes,
        large_cluster_pods=large_pods,
        large_cluster_build_s=large_build_s,
        build_us_per_pod_large=build_large,
        build_us_per_pod_small=build_small,
        selective_list_ms=large_list_ms,
        small_cluster_selective_list_ms=small_list_ms,
        kib_per_pod=kib,
        client_canned_reads_per_s=reads["canned"],
        client_canned_lists_per_s=lists["canned"],
        deserialize_text_only_per_s=reads["text"],
        deserialize_text_only_lists_per_s=lists["text"],
        inprocess_raw_reads_per_s=reads["in_raw"],
        http_raw_reads_per_s=reads["http_raw"],
        client_canned_raw_reads_per_s=reads["canned_raw"],
        inprocess_raw_lists_per_s=lists["in_raw"],
        http_raw_lists_per_s=lists["http_raw"],
        client_canned_raw_lists_per_s=lists["canned_raw"],
        inprocess_vs_canned=reads["in"] / reads["canned"],
        inprocess_lists_vs_canned=lists["in"] / lists["canned"],
        canned_vs_deserialize=reads["canned"] / reads["deser"],
        canned_lists_vs_deserialize=lists["canned"] / lists["deser"],
        inprocess_vs_deserialize=reads["in"] / reads["deser"],
        inprocess_lists_vs_deserialize=lists["in"] / lists["deser"],
        inprocess_vs_deserialize_cpu=read_cpu["in"] / read_cpu["deser"],
        inprocess_lists_vs_deserialize_cpu=list_cpu["in"] / list_cpu["deser"],
        canned_vs_deserialize_cpu=read_cpu["canned"] / read_cpu["deser"],
        inprocess_vs_canned_cpu=read_cpu["in"] / read_cpu["canned"],
        inprocess_vs_http=reads["in"] / reads["http"],
        inprocess_lists_vs_http=lists["in"] / lists["http"],
        inprocess_raw_reads_vs_http=reads["in_raw"] / reads["http_raw"],
        inprocess_raw_lists_vs_http=lists["in_raw"] / lists["http_raw"],
        selective_list_ratio=large_list_ms / small_list_ms,
        build_per_pod_ratio=build_large / build_small,
    )


def meets(name: str, value: float) -> bool | None:
    """Whether ``value`` meets the target for ``name`` (``None`` when there is none)."""
    target = TARGETS.get(name)
    if target is None:
        return None
    op, limit = target
    return value >= limit if op == ">=" else value <= limit
