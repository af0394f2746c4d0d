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


async def _serve(
    scenario: str | None, port: int, kubeconfig: Path, seed: int | None, nodes: int
) -> None:
    from fakes.kube.clock import WallClock
    from fakes.kube.http_server import ClusterHttpServer
    from fakes.kube.kubeconfig import write_kubeconfig
    from fakes.kube.simulation import SimulatedCluster

    if scenario:
        from scenarios import ProfileError, build_cluster, load_profile

        try:
            profile = load_profile(scenario)
        except ProfileError as exc:
            raise typer.BadParameter(str(exc), param_hint="--scenario") from None
        if seed is not None:
            profile = profile.model_copy(update={"seed": seed})
        _say(f"Building scenario {profile.name} (real time; settling)...")
        sim: SimulatedCluster = await build_cluster(profile, clock=WallClock())
        what = f"scenario {profile.name}, {len(sim.api.list('nodes'))} nodes"
        seed = profile.seed
    else:
        seed = seed or 0
        sim = SimulatedCluster(seed=seed, nodes=nodes, clock=WallClock())
        await sim.start()
        what = f"{nodes} nodes"
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
    _say(f"Simulated cluster serving at {url} ({what}, seed {seed})")
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
            help="Scenario profile (a name from `windtunnel scenarios list`, or a file) to "
            "build the cluster from; without it a default cluster of --nodes nodes is served."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1; 0 picks a free one.")] = 0,
    kubeconfig: Annotated[
        Path, typer.Option(help="Where to write the kubeconfig for kubectl and clients.")
    ] = DEFAULT_KUBECONFIG,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed for uids, names and latencies (default: the profile's, or 0)."),
    ] = None,
    nodes: Annotated[
        int, typer.Option(min=0, help="Nodes in the default cluster (ignored with --scenario).")
    ] = DEFAULT_NODES,
) -> None:
    """Serve the simulated cluster over HTTP until SIGINT/SIGTERM.

    With ``--scenario NAME`` the profile's cluster is built (nodes, namespaces, quotas,
    workloads; its timed events and faults run on the wall clock from the start) and
    settled before the URL is printed. Without it, a default cluster of three Ready
    nodes (4 CPU, 16Gi, 110 pods each). Every controller runs in real time. kubectl
    works with the written kubeconfig; its protobuf-sending generator commands
    (kubectl create deployment, create configmap, ...) are refused with advice to use
    -f with YAML/JSON.
    """
    asyncio.run(_serve(scenario, port, kubeconfig, seed, nodes))
