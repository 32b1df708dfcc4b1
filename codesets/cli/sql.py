"""`codesets sql`: read-only SQL against the warehouse views."""

from __future__ import annotations

import typer

from codesets.cli.common import Format, render, warehouse


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)


def sql(
    ctx: typer.Context,
    query: str = typer.Argument(..., help='One SQL statement, e.g. "SELECT * FROM gem_map LIMIT 5".'),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Run a read-only QUERY against the views (releases, gem_map, gem_combinations, ...)."""
    from codesets.warehouse.query import run_sql

    render(run_sql(warehouse(ctx), query), fmt)
