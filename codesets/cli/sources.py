"""`codesets refresh` and `codesets load`: bring official files into the warehouse."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import List, Optional

import typer

from codesets.cli.common import say, warehouse
from codesets.core.errors import LoadRejected, UsageError
from codesets.core.text import shown


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh)
    app.command("load")(load)
    app.command("drop")(drop)


def refresh(
    ctx: typer.Context,
    directory: Optional[Path] = typer.Argument(
        None, help="Folder to search (recursively) for known source files, e.g. the CMS GEM files (zips are opened)."
    ),
    sample: bool = typer.Option(
        False, "--sample", help="Load the small hand-made sample release of each source bundled with codesets."
    ),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Load a file without data rows (a header alone) as an empty part; refused otherwise."
    ),
) -> None:
    """Find the known source files in DIRECTORY (or the bundled samples), load what is new, report what changed."""
    from codesets.warehouse.refresh import refresh as run_refresh

    if directory is None and not sample:
        raise UsageError("name a DIRECTORY to refresh from, or pass --sample for the bundled sample releases")
    wh = warehouse(ctx)
    report = run_refresh(wh, directory, sample=sample, allow_empty=allow_empty)
    for result in report.results:
        say(result.summary())
        for note in result.notes:
            say(f"  note: {note}")
    for path, why in report.skipped:
        say(f"skipped {shown(path)}: {why}")
    for what, error in report.failures:
        say(f"codesets: {what} failed: {error}", err=True)
    say(f"warehouse: {shown(wh.path)}")
    if report.interrupted:
        say("codesets: interrupted; the releases listed above are published, nothing after them was loaded", err=True)
        raise typer.Exit(130)
    if not report.ok:
        raise typer.Exit(max(error.exit_code for _what, error in report.failures))


def load(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source format, e.g. gems."),
    files: List[Path] = typer.Argument(..., help="The files of one release, or the zips CMS ships them in."),
    release: Optional[str] = typer.Option(None, "--release", help="Release id, e.g. 2018; default from the file names."),
    effective_from: Optional[datetime] = typer.Option(
        None, "--effective-from", formats=["%Y-%m-%d"], help="First date of service of the release (YYYY-MM-DD)."
    ),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Load a file without data rows (a header alone) as an empty part; refused otherwise."
    ),
) -> None:
    """Load FILES of SOURCE as parts of one release (files already loaded are a no-op; a new part extends the release)."""
    from codesets.warehouse.load import load as run_load

    start = effective_from.date() if effective_from else None
    try:
        result = run_load(warehouse(ctx), source, files, release, start, allow_empty=allow_empty)
    except LoadRejected as exc:
        say(f"codesets: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    say(result.summary())
    for note in result.notes:
        say(f"  note: {note}")


def drop(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source of the release, e.g. gems."),
    release: str = typer.Argument(..., help="Release id to remove, e.g. 2018 or sample."),
) -> None:
    """Remove RELEASE of SOURCE (a new generation; readers that have the old one keep it until they close)."""
    from codesets.warehouse.load import drop as run_drop

    rows = run_drop(warehouse(ctx), source, release)
    say(f"{source} {release}: dropped ({rows:,} rows); readers already connected keep their view until they close")
