"""``windtunnel scenarios``: the shipped scenario profiles, listed and shown resolved.

``list`` prints each profile's name and description; ``show NAME`` prints the profile
after ``extends`` is merged and its named blocks expanded -- exactly what the builder
builds -- as YAML. ``NAME`` may also be a path to a profile file of your own. An
invalid profile exits with status 2 and every problem at its file:line.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(help="List and inspect scenario profiles.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the shipped scenario profiles with their descriptions."""
    from rich.console import Console
    from rich.table import Table

    from scenarios import ProfileError, list_profiles, load_profile

    table = Table("Profile", "Description", show_lines=False, expand=True)
    failed = False
    for name in list_profiles():
        try:
            table.add_row(name, load_profile(name).description)
        except ProfileError as exc:
            failed = True
            table.add_row(name, f"[red]invalid:[/red] {exc}")
    Console(soft_wrap=False, width=max(100, Console().width)).print(table)
    if failed:
        raise typer.Exit(2)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="A shipped profile's name, or a profile file.")],
) -> None:
    """Print a profile resolved (extends merged, blocks expanded) as YAML."""
    import yaml

    from scenarios import ProfileError, load_profile

    try:
        profile = load_profile(name)
    except ProfileError as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(2) from None
    data = profile.model_dump(mode="json", exclude_none=True)
    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
