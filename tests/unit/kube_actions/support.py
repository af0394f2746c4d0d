"""A simulated cluster and an engine whose Kubernetes actions talk to it, for one test."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import yaml

from engine import Engine, ExecutionState, WorkflowTemplate
from engine.builtin_actions import default_registry
from engine.kube_actions import register_kube_actions
from fakes.kube.clock import LoopClock
from fakes.kube.cluster import Cluster
from fakes.kube.controllers.config import Delay, SimulationConfig
from fakes.kube.messages import Request
from fakes.kube.reactors import Reaction
from fakes.kube.simulation import SimulatedCluster
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage

JsonObj = dict[str, Any]


def deployment(
    name: str,
    replicas: int,
    *,
    cpu: str = "100m",
    memory: str = "64Mi",
    image: str = "nginx:1.25",
    labels: dict[str, str] | None = None,
    **rolling: Any,
) -> JsonObj:
    pod_labels = {"app": name, **(labels or {})}
    spec: JsonObj = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": pod_labels},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": image,
                        "resources": {
                            "requests": {"cpu": cpu, "memory": memory},
                            "limits": {"cpu": cpu, "memory": memory},
                        },
                    }
                ]
            },
        },
    }
    if rolling:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def pdb(name: str, app: str, **budget: Any) -> JsonObj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": app}}, **budget},
    }


def quota(name: str, **hard: str) -> JsonObj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": {"hard": {k.replace("_", "."): v for k, v in hard.items()}},
    }


def workflow(text: str | JsonObj) -> WorkflowTemplate:
    data = yaml.safe_load(text) if isinstance(text, str) else text
    return WorkflowTemplate.model_validate(data)


def fast_config() -> SimulationConfig:
    """Kubelet latencies of a fast cluster (fixed, so runs compare exactly)."""
    return SimulationConfig(
        start_latency=Delay.fixed(1.0),
        ready_latency=Delay.fixed(0.5),
        termination_latency=Delay.fixed(0.5),
    )


@dataclass
class KubeEnv:
    sim: SimulatedCluster
    engine: Engine
    api_client: Any

    async def run(self, template: WorkflowTemplate | str, **kwargs: Any) -> ExecutionState:
        if isinstance(template, str):
            template = workflow(template)
        self.engine.register(template)
        return await self.engine.run(template.name, **kwargs)

    def deployment(self, name: str, namespace: str = "default") -> JsonObj:
        return dict(self.sim.api.get("deployments", name, namespace))

    def pods(self, namespace: str = "default", selector: str = "") -> list[JsonObj]:
        return [
            p
            for p in self.sim.api.list("pods", namespace, label_selector=selector)
            if not p["metadata"].get("deletionTimestamp")
        ]


@dataclass
class Unstored:
    """A reactor for an API that lies: matching writes are answered as if stored, never stored.

    The answer is the server's own dry run of the same request (``dryRun=All``), so it
    is exactly the object the write would have produced -- an action that trusts it
    sees its change made. Add it with ``env.sim.cluster.reactors.append(...)``.
    ``lies`` counts the writes it answered.
    """

    sim: SimulatedCluster
    verbs: tuple[str, ...] = ("patch",)
    resource: str | None = None
    name: str | None = None
    subresource: str | None = None
    lies: int = 0

    def __call__(self, request: Request) -> Reaction | None:
        info = request.info
        if info is None or info.kind is None or info.verb not in self.verbs:
            return None
        if self.resource is not None and info.kind.plural != self.resource:
            return None
        if self.name is not None and info.name != self.name:
            return None
        if (info.subresource or None) != self.subresource or "dryRun" in request.query:
            return None
        self.lies += 1
        rehearsal = dataclasses.replace(request, query={**request.query, "dryRun": ["All"]})
        return Reaction(response=self.sim.cluster.router.dispatch(rehearsal))


@contextlib.asynccontextmanager
async def kube_env(
    *,
    seed: int = 1,
    nodes: int = 3,
    config: SimulationConfig | None = None,
    history_size: int | None = None,
) -> AsyncIterator[KubeEnv]:
    """``history_size``: how many changes per kind the API server keeps for watches
    to resume from (older resourceVersions get 410 Gone); the server's default if unset.
    """
    cluster = (
        None
        if history_size is None
        else Cluster(clock=LoopClock(), seed=seed, history_size=history_size)
    )
    sim = SimulatedCluster(seed=seed, nodes=nodes, config=config or fast_config(), cluster=cluster)
    await sim.start()
    api_client = sim.aio_api_client()
    engine = Engine(
        state_storage=InMemoryStateStorage(),
        repository=InMemoryExecutionRepository(),
        actions=register_kube_actions(default_registry(), api_client),
        seed=seed,
    )
    try:
        yield KubeEnv(sim, engine, api_client)
    finally:
        await engine.aclose()
        await api_client.close()
        await sim.stop()
