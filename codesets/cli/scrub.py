"""`codesets scrub`: claim lines in, findings out."""

from __future__ import annotations

from typing import Optional

import typer

from codesets.cli.common import Format, render, say, warehouse
from codesets.scrub.checks import INPUT, default_names, names as check_list  # no heavy import: the declarations only


def register(app: typer.Typer) -> None:
    app.command("scrub")(scrub)


def scrub(
    ctx: typer.Context,
    claims: str = typer.Argument(
        ...,
        help="Claim lines: a CSV file with a header row, or a Parquet file (columns in docs/scrub-rules.md).",
    ),
    checks: str = typer.Option(
        ",".join(default_names()), "--checks", metavar="CHECK,...",
        help=f"Checks to run besides the input rules, separated by commas: {', '.join(check_list())}; "
        f"`{INPUT}` alone runs only the input rules.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format: table, csv, json or ndjson."),
    out: Optional[str] = typer.Option(
        None, "--out", metavar="FINDINGS.parquet|FINDINGS.csv",
        help="Write the findings to this file (Parquet or CSV by its suffix) instead of printing them.",
    ),
) -> None:
    """Check CLAIMS against the input rules and the NCCI edits; print the findings.

    One finding per broken rule: claim_id, line_number, check, severity, code, related_line_number, reason, reference, suggestion. A bad row is a finding of check `input`, never a failure; other columns of CLAIMS are not read (join the findings back on claim_id and line_number). Exits 0 whenever the scrub ran, with a summary line on stderr.
    """
    from codesets.scrub import engine as scrubbing

    names = scrubbing.check_names(checks)  # usage errors before any file is read
    wh = warehouse(ctx)
    if out is not None:
        scrubbing.check_out(out, claims, wh)  # not into the warehouse's own folders
    result = scrubbing.scrub(wh, claims, names)
    if out is not None:
        scrubbing.write_findings(result.findings, out, wh)
    else:
        render(result.findings, fmt)
    say(result.summary() + (f"; written to {out}" if out is not None else ""), err=True)
