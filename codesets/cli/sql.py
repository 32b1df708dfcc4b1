"""`codesets sql`: read-only SQL against the warehouse views."""

from __future__ import annotations

from typing import Optional

import typer

from codesets.cli.common import FORMAT_HELP, Format, columns_option, render, warehouse
from codesets.warehouse.sandbox import MEMORY_ENV  # stdlib imports only: --help stays instant


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)


def _memory_limit(value: str | None) -> str | None:
    """Checked while the options are read, so a bad value is refused before the warehouse is opened."""
    if value is None:
        return None
    from codesets.core.errors import QueryError
    from codesets.warehouse.sandbox import parse_memory_limit

    try:
        return parse_memory_limit(value)
    except QueryError as exc:
        raise typer.BadParameter(str(exc)) from None


def sql(
    ctx: typer.Context,
    query: str = typer.Argument(..., help='One read-only query, e.g. "SELECT * FROM gem_map LIMIT 5".'),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    columns: Optional[str] = columns_option(),  # a list by the time it arrives: see columns_option
    timeout: Optional[float] = typer.Option(
        None, "--timeout", metavar="SECONDS", help="Stop the query after SECONDS (default: no limit)."
    ),
    memory: Optional[str] = typer.Option(
        None,
        "--memory-limit",
        metavar="SIZE",
        envvar=MEMORY_ENV,
        show_envvar=False,
        callback=_memory_limit,
        help="Memory the query may use, e.g. 8GB or 512MiB (env CODESETS_SQL_MEMORY_LIMIT; default a "
        "quarter of the machine's memory, at most 4GB). The query does not spill to disk: past the "
        "limit it stops with a message (exit 2).",
    ),
) -> None:
    """Run one read-only QUERY (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)
    against the views (releases, gem_map, gem_combinations, ...). Ctrl-C stops it at once."""
    from codesets.warehouse import sandbox
    from codesets.query import stream_sql

    # The limit is a connection setting, fixed before the sandbox locks the configuration:
    # stream_sql connects inside this block. Ctrl-C: the stream stops the query and re-raises
    # KeyboardInterrupt; app.py prints "codesets: interrupted" and exits 130.
    with sandbox.memory_limit(memory):
        # as_text: TIMETZ, BIT, INTERVAL and the like print as DuckDB writes them (sandbox.TEXT_TYPES).
        rows = stream_sql(warehouse(ctx), query, timeout=timeout, as_text=True)
    render(rows, fmt, columns=columns)
