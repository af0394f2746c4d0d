"""``SimulatedCluster``: an API server with controllers, nodes and faults, on the event loop.

The core :class:`fakes.kube.cluster.Cluster` is a passive API server; this adds what
makes it behave like a cluster -- scheduler, kubelets, workload and node controllers
(``fakes.kube.controllers``) -- and a seeded fault injector (``fakes.kube.faults``)
on its request path::

    sim = SimulatedCluster(seed=1)           # 3 nodes by default
    await sim.start()                        # on the running loop (virtual time welcome)
    apps = kubernetes.client.AppsV1Api(sim.api_client())
    ...create a Deployment...
    await sim.settle()                       # until no work is pending
    sim.set_node_ready("node-2", False)      # node failure
    sim.faults.add(Rule(verb="list", resource="pods", error=429, retry_after=3))
    sim.images.unpullable("nginx:broken")    # pods wait in ImagePullBackOff
    sim.probes.fail_readiness(deployment="web", namespace="default")
    await sim.stop()

Everything waits on the running loop's clock and object timestamps follow it
(:class:`fakes.kube.clock.LoopClock`), so under looptime a five-minute rollout takes
milliseconds and is identical for a seed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from fakes.kube.clock import LoopClock
from fakes.kube.cluster import Cluster
from fakes.kube.controllers import bulk
from fakes.kube.controllers.access import Access
from fakes.kube.controllers.base import Context
from fakes.kube.controllers.config import NodeShape, SimulationConfig
from fakes.kube.controllers.events import EventRecorder
from fakes.kube.controllers.manager import ControllerManager
from fakes.kube.faults import FaultInjector

if TYPE_CHECKING:
    from fakes.kube.clock import Clock
    from fakes.kube.controllers.images import Images
    from fakes.kube.controllers.probes import ProbeFaults

JsonObj = dict[str, Any]


class SettleTimeout(TimeoutError):
    """The cluster still had pending work when ``settle`` gave up."""


class ControllerFailure(RuntimeError):
    """A simulated controller raised; the traceback is in the message."""


class SimulatedCluster:
    """See module docstring."""

    def __init__(
        self,
        *,
        seed: int = 0,
        nodes: int = 3,
        config: SimulationConfig | None = None,
        clock: Clock | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        self.seed = seed
        self.config = config or SimulationConfig()
        self.cluster = cluster or Cluster(clock=clock or LoopClock(), seed=seed)
        self.api = self.cluster.api
        self.store = self.cluster.store
        self.access = Access(self.api)
        self.recorder = EventRecorder(self.access)
        self.ctx = Context(self.access, self.recorder, self.config, seed=seed)
        self.manager = ControllerManager(self.ctx)
        self.faults = FaultInjector(seed=seed)
        self.cluster.reactors.append(self.faults)
        self._initial_nodes = nodes
        self._placer: bulk.Placer | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> SimulatedCluster:
        """Start the controllers on the running loop and add the initial nodes."""
        self.faults.bind_loop(asyncio.get_running_loop())
        self.manager.start()
        for i in range(1, self._initial_nodes + 1):
            name = f"node-{i}"
            if self.store.get(self.api.registry.resolve("nodes"), "", name) is None:
                self.add_node(name)
        return self

    async def stop(self) -> None:
        await self.manager.stop()

    async def __aenter__(self) -> SimulatedCluster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def idle(self) -> bool:
        return self.manager.idle

    async def settle(self, timeout: float = 600.0) -> None:
        """Wait (loop time) until no work is pending: pods started or terminated,
        workloads' observed generations and statuses caught up.

        Pods that cannot be scheduled and crash-looping containers do not count as
        pending. Raises :class:`ControllerFailure` if a controller crashed and
        :class:`SettleTimeout` after ``timeout`` loop seconds.
        """
        self._placer = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while True:
            self._raise_failures()
            if self.manager.idle:
                quiet += 1
                if quiet >= 3:
                    return
                await asyncio.sleep(0)
                continue
            quiet = 0
            if loop.time() >= deadline:
                busy = [c.name for c in self.manager.controllers if not c.idle]
                raise SettleTimeout(
                    f"cluster not settled after {timeout:g}s: busy controllers {busy}, "
                    f"{self.ctx.busy} delayed work items pending"
                )
            activity = self.ctx.activity
            if activity is None:
                await asyncio.sleep(0.05)
                continue
            activity.clear()
            if not self.manager.idle and all(c.idle for c in self.manager.controllers):
                # Only delayed work is left: sleep until a timer queues something.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(activity.wait(), deadline - loop.time())
            else:
                await asyncio.sleep(0)

    def _raise_failures(self) -> None:
        if self.ctx.failures:
            raise ControllerFailure("\n".join(self.ctx.failures))

    # -- cluster shaping -----------------------------------------------------------

    def add_node(
        self,
        name: str,
        shape: NodeShape | None = None,
        labels: dict[str, str] | None = None,
        taints: list[JsonObj] | None = None,
    ) -> JsonObj:
        """Create a node; its kubelet reports it Ready at once."""
        node = bulk.node_object(name, shape or self.config.node_shape, self.api.now())
        del node["status"]["conditions"]  # reported by the kubelet's node stage
        node["metadata"]["labels"].update(labels or {})
        if taints:
            node["spec"]["taints"] = taints
        created: JsonObj = self.api.create("nodes", node)
        return created

    def add_nodes(
        self, count: int, prefix: str = "node-", start: int = 1, shape: NodeShape | None = None
    ) -> list[str]:
        """Bulk-create ``count`` Ready nodes (``node-1``...): the fast path for big clusters."""
        names = [f"{prefix}{i}" for i in range(start, start + count)]
        bulk.add_nodes(self.api, names, shape or self.config.node_shape)
        self._placer = None
        return names

    def add_settled_deployment(self, body: JsonObj, namespace: str = "default") -> int:
        """Write a Deployment already rolled out: its ReplicaSet and Running/Ready pods.

        The fast path for big clusters (see ``fakes.kube.controllers.bulk``); pods
        are spread round-robin over schedulable nodes with room. Returns the pod count.
        """
        if self._placer is None:
            self._placer = bulk.Placer(self.api)
        return bulk.settled_deployment(self.api, self._placer, body, namespace)

    def set_node_ready(self, name: str, ready: bool) -> None:
        """Make a node's kubelet stop (``False``) or resume (``True``) posting Ready."""
        self.manager.node_lifecycle.set_node_ready(name, ready)

    def cordon(self, name: str, unschedulable: bool = True) -> None:
        self.api.patch("nodes", name, {"spec": {"unschedulable": unschedulable or None}})

    # -- workload faults -------------------------------------------------------------

    @property
    def images(self) -> Images:
        """The images the kubelets cannot pull: ``sim.images.unpullable("nginx:broken")``."""
        return self.manager.kubelet.images

    @property
    def probes(self) -> ProbeFaults:
        """The pods whose probes fail: ``sim.probes.fail_readiness(deployment="api")``."""
        return self.manager.kubelet.probes

    # -- clients ---------------------------------------------------------------------

    def api_client(self) -> Any:
        """A sync ``kubernetes.client.ApiClient`` served in-process by this cluster."""
        return self.cluster.api_client()

    def aio_api_client(self) -> Any:
        """A ``kubernetes.aio.client.ApiClient`` served in-process by this cluster."""
        return self.cluster.aio_api_client()
