"""The controller manager: builds every controller on one context, starts and stops them.

``idle`` is the simulation's definition of "no pending work": every work queue is
empty and nothing is mid-reconcile, and no delayed work that must finish (pod start,
readiness, termination, evictions) is armed. Steady-state timers (crash-loop
restarts, progress deadlines) do not count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.kube.controllers.deployment import DeploymentController
from fakes.kube.controllers.disruption import DisruptionController
from fakes.kube.controllers.endpoints import EndpointsController
from fakes.kube.controllers.garbage import GarbageCollector
from fakes.kube.controllers.kubelet import Kubelet
from fakes.kube.controllers.kubernetes_service import KubernetesServiceController
from fakes.kube.controllers.namespace import NamespaceController
from fakes.kube.controllers.node_lifecycle import NodeLifecycleController
from fakes.kube.controllers.replicaset import ReplicaSetController
from fakes.kube.controllers.scheduler import Scheduler
from fakes.kube.controllers.workloads import (
    DaemonSetController,
    JobController,
    StatefulSetController,
)

if TYPE_CHECKING:
    from fakes.kube.controllers.base import Context, Controller


class ControllerManager:
    """All simulated controllers of one cluster (see module docstring)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.kubelet = Kubelet(ctx)
        self.scheduler = Scheduler(ctx)
        self.node_lifecycle = NodeLifecycleController(ctx, self.kubelet)
        self.controllers: list[Controller] = [
            self.kubelet.nodes,
            self.node_lifecycle,
            NamespaceController(ctx),
            KubernetesServiceController(ctx),
            self.scheduler,
            self.kubelet.pods,
            ReplicaSetController(ctx),
            DeploymentController(ctx),
            StatefulSetController(ctx),
            DaemonSetController(ctx),
            JobController(ctx),
            DisruptionController(ctx),
            EndpointsController(ctx),
            GarbageCollector(ctx),
        ]
        self.running = False

    def start(self) -> None:
        """Start every controller on the running event loop."""
        for c in self.controllers:
            c.start()
        self.running = True

    async def stop(self) -> None:
        for c in reversed(self.controllers):
            await c.stop()
        self.running = False

    @property
    def idle(self) -> bool:
        return self.ctx.busy == 0 and all(c.idle for c in self.controllers)
