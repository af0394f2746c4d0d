"""``windtunnel cluster``: run the simulated Kubernetes cluster for kubectl and other processes.

``windtunnel cluster serve`` starts the API server over HTTP on 127.0.0.1 with the
simulated controllers (scheduler, kubelets, workload and node controllers) on one
asyncio loop in real time, writes a kubeconfig pointing at it, prints the URL and
the kubeconfig path, and runs until SIGINT or SIGTERM, then stops cleanly.

Imports of the cluster happen inside the command, so ``windtunnel --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Run the simulated Kubernetes cluster (API server + controllers).",
    no_args_is_help=True,
)

DEFAULT_KUBECONFIG = Path(".windtunnel") / "kubeconfig"
DEFAULT_NODES = 3


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def _serve(scenario: str | None, port: int, kubeconfig: Path, seed: int, nodes: int) -> None:
    from fakes.kube.clock import WallClock
    from fakes.kube.http_server import ClusterHttpServer
    from fakes.kube.kubeconfig import write_kubeconfig
    from fakes.kube.simulation import SimulatedCluster

    if scenario:
        _say(
            f"note: scenario profiles are not available yet; serving the built-in default "
            f"cluster of {nodes} nodes instead of {scenario!r}"
        )
    sim = SimulatedCluster(seed=seed, nodes=nodes, clock=WallClock())
    await sim.start()
    server = ClusterHttpServer(sim.cluster.router, sim.api.registry, sim.api.clock.now)
    try:
        url = await server.start(port)
    except OSError as exc:
        await sim.stop()
        raise typer.BadParameter(
            f"cannot listen on 127.0.0.1:{port}: {exc}", param_hint="--port"
        ) from exc
    path = write_kubeconfig(kubeconfig, url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _say(f"Simulated cluster serving at {url} ({nodes} nodes, seed {seed})")
    _say(f"kubeconfig: {path.resolve()}")
    _say(f"  export KUBECONFIG={path.resolve()}")
    _say("Press Ctrl-C to stop.")
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
        await sim.stop()
        _say("Simulated cluster stopped.")


@app.command()
def serve(
    scenario: Annotated[
        str | None,
        typer.Option(
            help="Scenario profile to build the cluster from. Accepted, but until scenario "
            "profiles exist the built-in default cluster of three nodes is served."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1; 0 picks a free one.")] = 0,
    kubeconfig: Annotated[
        Path, typer.Option(help="Where to write the kubeconfig for kubectl and clients.")
    ] = DEFAULT_KUBECONFIG,
    seed: Annotated[int, typer.Option(help="Seed for uids, names and controller latencies.")] = 0,
    nodes: Annotated[
        int, typer.Option(min=0, help="Nodes in the default cluster.")
    ] = DEFAULT_NODES,
) -> None:
    """Serve the simulated cluster over HTTP until SIGINT/SIGTERM.

    Without scenario profiles (not available yet) it serves a built-in default cluster
    of three Ready nodes (4 CPU, 16Gi, 110 pods each) with every controller running in
    real time. kubectl works with the written kubeconfig; its protobuf-sending generator
    commands (kubectl create deployment, create configmap, ...) are refused with advice
    to use -f with YAML/JSON.
    """
    asyncio.run(_serve(scenario, port, kubeconfig, seed, nodes))
