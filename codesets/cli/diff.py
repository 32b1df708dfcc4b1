"""`codesets diff`: what changed between two releases of a source."""

from __future__ import annotations

from typing import Optional

import typer

from codesets.cli.common import Format, columns_option, render, say, warehouse


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)


def diff(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="The source: gems, ncci_ptp or ncci_mue."),
    old: str = typer.Argument(
        ..., metavar="A", help="The release to compare from, e.g. v322r0 (`codesets releases` lists them)."
    ),
    new: str = typer.Argument(..., metavar="B", help="The release to compare to, e.g. v323r0."),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format: table, csv, json or ndjson."),
    columns: Optional[str] = columns_option(),  # a list by the time it arrives: see columns_option
) -> None:
    """Show what changed from release A to release B of SOURCE, one row per change, sorted.

    The rows go to standard output with a `change` column: for gems added or removed GEM rows
    per direction; for ncci_ptp edit lines added, deleted, reindicated, changed or removed per
    setting; for ncci_mue codes added, raised, lowered, mai_changed, rationale_changed, changed or
    removed per service type. A one-line count per change type goes to standard error. A is read
    as the older release: give them in the other order and `added` means what B has and A lacks.
    Parts only one release has are not compared (a note says so). The views gem_changes,
    ptp_changes and mue_changes hold the same comparison for each release and the one it follows.
    """
    from codesets.query import diff_report

    result = diff_report(source, old, new, warehouse=warehouse(ctx))
    render(result.table, fmt, columns=columns)
    for note in result.notes:
        say(f"note: {note}", err=True)
    for line in result.summary():
        say(line, err=True)
