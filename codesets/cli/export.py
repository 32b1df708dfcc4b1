"""`codesets export parquet DIR`: every table and view as Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from codesets.cli.common import say, warehouse

app = typer.Typer(help="Export the warehouse for other engines.", no_args_is_help=True)


@app.command("parquet")
def parquet(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        ...,
        help="Folder to write: a new or empty folder, or a previous export (replaced whole). "
        "Any other content is refused, never overwritten.",
    ),
) -> None:
    """Write every table and view to DIRECTORY/<name>/ as Parquet, one file per source and release."""
    from codesets.warehouse.export import export_parquet

    result = export_parquet(warehouse(ctx), directory)
    for relation in result.relations:
        say(f"{relation.name}: {relation.rows:,} rows ({relation.layout})")
    say(f"export: {result.path}")
