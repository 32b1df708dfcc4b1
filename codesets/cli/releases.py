"""`codesets releases`: the release catalog and its lineage."""

from __future__ import annotations

from typing import Optional

import typer

from codesets.cli.common import Format, columns_option, render, warehouse


def register(app: typer.Typer) -> None:
    app.command("releases")(releases)


def releases(
    ctx: typer.Context,
    fmt: Format = typer.Option(Format.table, "--format", help="Output format: table, csv, json or ndjson."),
    columns: Optional[str] = columns_option(),  # a list by the time it arrives: see columns_option
) -> None:
    """List releases: effective window, rows, and what changed against the release each follows."""
    from codesets.query import releases as list_releases

    render(list_releases(warehouse(ctx)), fmt, columns=columns)
