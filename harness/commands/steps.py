"""``windtunnel steps``: the step library's catalogue, each step with an example line.

Like behave's ``--steps-catalog``: what a feature can say without writing Python,
grouped by module, with the first paragraph of each step's docstring.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape


def steps(
    plain: bool = typer.Option(False, "--plain", help="Examples only, one per line."),
) -> None:
    """Print every library step with an example line and what it does."""
    from harness.steps import step_modules
    from harness.steps.catalog import catalogue

    console = Console(soft_wrap=True)
    docs = catalogue(step_modules())
    if plain:
        for doc in docs:
            typer.echo(doc.example)
        return
    module = None
    for doc in docs:
        if doc.module != module:
            module = doc.module
            console.print(f"\n[bold]{escape(module.rsplit('.', 1)[-1])}[/bold]")
        console.print(f"  [cyan]{escape(doc.example)}[/cyan]")
        if doc.doc:
            console.print(f"      {escape(' '.join(doc.doc.split()))}")
