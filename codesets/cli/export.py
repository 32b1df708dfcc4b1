"""`codesets export parquet DIR`: every table and view as Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from codesets.cli.common import warehouse

app = typer.Typer(help="Export the warehouse for other engines.", no_args_is_help=True)


@app.command("parquet")
def parquet(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="Folder to write; one sub-folder per table or view."),
) -> None:
    """Write every table and view to DIRECTORY as Parquet, partitioned by source and release."""
    from codesets.warehouse.export import export_parquet

    for name, rows, layout in export_parquet(warehouse(ctx), directory):
        typer.echo(f"{name}: {rows:,} rows ({layout})")
