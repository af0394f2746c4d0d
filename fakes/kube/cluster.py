"""``Cluster``: one simulated Kubernetes API server, wired together.

A cluster owns the object store, the API semantics, the router with its reactor
chain, and hands out official clients connected to it in-process::

    cluster = Cluster(seed=1)
    v1 = kubernetes.client.CoreV1Api(cluster.api_client())          # sync
    aio = kubernetes.aio.client.CoreV1Api(cluster.aio_api_client())  # asyncio

    cluster.api        # Python-level verbs for controllers (fakes.kube.api.Api)
    cluster.store      # encoded objects, indexes, watch fan-out (fakes.kube.store)
    cluster.router     # Request -> Response, for the HTTP front end (fakes.kube.router)
    cluster.reactors   # ordered fault-injection hook (fakes.kube.reactors)

Nothing runs in the background: controllers are separate objects that use
``cluster.api`` on the event loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube import inprocess, inprocess_aio
from fakes.kube.api import Api
from fakes.kube.conversion import ConvertingRouter
from fakes.kube.kinds import DEFAULT_REGISTRY, KindRegistry
from fakes.kube.store import ObjectStore

if TYPE_CHECKING:
    from fakes.kube.clock import Clock
    from fakes.kube.reactors import Reactor


class Cluster:
    """A simulated API server: store + semantics + router + client factories."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        history_size: int = 10_000,
        graceful_pod_deletion: bool = True,
        registry: KindRegistry = DEFAULT_REGISTRY,
    ) -> None:
        self.registry = registry
        self.store = ObjectStore(registry.kinds, history_size)
        self.api = Api(
            self.store, registry, clock, seed=seed, graceful_pod_deletion=graceful_pod_deletion
        )
        self.router = ConvertingRouter(self.api)

    @property
    def reactors(self) -> list[Reactor]:
        return self.router.reactors

    def api_client(self) -> Any:
        """A new sync ``kubernetes.client.ApiClient`` served by this cluster, no sockets."""
        return inprocess.new_api_client(self.router)

    def aio_api_client(self) -> Any:
        """A new ``kubernetes.aio.client.ApiClient`` served by this cluster, no sockets."""
        return inprocess_aio.new_api_client(self.router)


def connect(api_client: Any, cluster: Cluster) -> Any:
    """Route an existing official ApiClient (sync or aio) to ``cluster``."""
    module = type(api_client).__module__
    if module.startswith("kubernetes.aio"):
        return inprocess_aio.connect(api_client, cluster.router)
    return inprocess.connect(api_client, cluster.router)
