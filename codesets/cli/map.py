"""`codesets map`: translate codes through the GEMs, combinations kept whole."""

from __future__ import annotations

import enum
from typing import List, Optional

import typer

from codesets.cli.common import Format, columns_option, dotted, render, warehouse


class Method(str, enum.Enum):
    forward = "forward"
    backward = "backward"
    both = "both"
    multi_stage = "multi-stage"


def register(app: typer.Typer) -> None:
    app.command("map")(map_codes)


def map_codes(
    ctx: typer.Context,
    codes: List[str] = typer.Argument(
        ..., help="Codes (250.00 or 25000), prefixes (E11*) or ranges (I60-I66.1), any case."
    ),
    from_system: str = typer.Option(
        ..., "--from", help="System of the codes given: icd9cm, icd10cm, icd9pcs or icd10pcs."
    ),
    to_system: str = typer.Option(..., "--to", help="System to translate into (the GEM partner of --from)."),
    method: Method = typer.Option(
        Method.forward,
        "--method",
        help="forward: the --from GEM; backward: reverse lookup of the --to GEM; both: the two, "
        "each row labelled; multi-stage: forward-backward-forward as AHRQ describes.",
    ),
    release: Optional[str] = typer.Option(None, "--release", help="GEM release id to use, e.g. 2018."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Date of service (YYYY-MM-DD): use the release in effect that day."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format: table, csv, json or ndjson."),
    columns: Optional[str] = columns_option(),  # a list by the time it arrives: see columns_option
) -> None:
    """Translate CODES between ICD-9-CM and ICD-10-CM (or ICD-9 vol. 3 and ICD-10-PCS).

    One row per answer: single alternatives, whole combinations (one code per choice list), 'no map' and 'not in GEM' rows, so no code is dropped. Table and CSV output show codes dotted; JSON and NDJSON keep the stored undotted form.
    """
    from codesets import query

    table = query.translate(codes, from_system, to_system, method=method.value, release=release, as_of=as_of,
                            warehouse=warehouse(ctx), dotted=dotted(fmt))
    render(table, fmt, columns=columns)
