"""Helpers for the kubectl suite: the server thread with controllers, manifests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from fakes.kube.clock import WallClock
from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.http_server import ServerThread
from fakes.kube.simulation import SimulatedCluster

KUBECTL = shutil.which("kubectl")

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def fast_config() -> SimulationConfig:
    return SimulationConfig(
        start_latency=Delay.fixed(0.05),
        ready_latency=Delay.fixed(0.05),
        termination_latency=Delay.fixed(0.05),
        job_run_seconds=Delay.fixed(0.2),
    )


class RunningCluster:
    """The server thread plus the simulated cluster it serves."""

    def __init__(self) -> None:
        self.sim: SimulatedCluster | None = None
        self.thread = ServerThread(self._setup, teardown=self._teardown)

    async def _setup(self) -> Any:
        self.sim = SimulatedCluster(seed=7, nodes=3, clock=WallClock(), config=fast_config())
        await self.sim.start()
        return self.sim.cluster.router

    async def _teardown(self) -> None:
        if self.sim is not None:
            await self.sim.stop()

    @property
    def url(self) -> str:
        return self.thread.url


def deployment(name: str, replicas: int = 2, image: str = "nginx:1.25", app: str = "") -> str:
    app = app or name
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {app}}}
  template:
    metadata:
      labels: {{app: {app}}}
    spec:
      containers:
      - name: web
        image: {image}
        resources:
          requests: {{cpu: 10m, memory: 16Mi}}
"""


def pod(name: str, labels: str = "app: solo", node: str = "") -> str:
    node_line = f"  nodeName: {node}\n" if node else ""
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{{labels}}}
spec:
{node_line}  containers:
  - name: main
    image: busybox:1.36
"""


def configmap(name: str, value: str = "one") -> str:
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  key: {value}
"""
