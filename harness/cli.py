"""The ``windtunnel`` command line.

Each command group lives in its own module under ``harness/commands`` and is mounted
here, so adding a group is one line and importing this module does no work.
"""

from __future__ import annotations

import typer

from harness.commands import bench, cluster, demo, load, nightly, run, scenarios, serve, steps
from harness.commands.bench_http import bench_http

app = typer.Typer(
    name="windtunnel",
    help="Prove a workflow engine right before it touches production.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Prove a workflow engine right before it touches production."""


app.add_typer(bench.app, name="bench")
app.add_typer(cluster.app, name="cluster")
app.add_typer(scenarios.app, name="scenarios")
bench.app.command("http")(bench_http)
bench.app.command("inprocess")(load.bench_inprocess)
app.command("demo")(demo.demo)
app.command("load")(load.load)
app.command("nightly")(nightly.nightly)
app.command("run", context_settings={"allow_extra_args": False})(run.run)
app.command("serve")(serve.serve)
app.command("steps")(steps.steps)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
