"""`codesets sql`: read-only SQL against the warehouse views."""

from __future__ import annotations

from typing import Optional

import typer

from codesets.cli.common import Format, columns_option, render, warehouse


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)


def sql(
    ctx: typer.Context,
    query: str = typer.Argument(..., help='One read-only query, e.g. "SELECT * FROM gem_map LIMIT 5".'),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
    columns: Optional[str] = columns_option(),  # a list by the time it arrives: see columns_option
    timeout: Optional[float] = typer.Option(
        None, "--timeout", metavar="SECONDS", help="Stop the query after SECONDS (default: no limit)."
    ),
) -> None:
    """Run one read-only QUERY (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)
    against the views (releases, gem_map, gem_combinations, ...). Ctrl-C stops it at once."""
    from codesets.warehouse.query import stream_sql

    # Ctrl-C: the stream stops the query and re-raises KeyboardInterrupt; app.py prints
    # "codesets: interrupted" and exits 130.
    render(stream_sql(warehouse(ctx), query, timeout=timeout), fmt, columns=columns)
