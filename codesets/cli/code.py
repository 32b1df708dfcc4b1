"""`codesets code`: is a code valid and billable on a date of service, with its titles and successors."""

from __future__ import annotations

from typing import List, Optional

import typer

from codesets.cli.common import Format, columns_option, dotted, render, warehouse

SHOWN_SUCCESSORS = 8  # in a table; CSV and JSON carry them all


def register(app: typer.Typer) -> None:
    app.command("code")(code)


def code(
    ctx: typer.Context,
    codes: List[str] = typer.Argument(..., help="Codes as written on a claim: R65.21, r6521, 250.00, J9035, 99213."),
    system: str = typer.Option(
        ..., "--system", help="Code system: icd10cm, icd10pcs, hcpcs, hcpcs_modifier, cpt, icd9cm or icd9pcs."
    ),
    on: Optional[str] = typer.Option(None, "--on", help="Date of service (YYYY-MM-DD); default today."),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format: table, csv, json or ndjson."),
    columns: Optional[str] = columns_option(),  # a list by the time it arrives: see columns_option
) -> None:
    """Say whether each CODE is valid and billable on a date of service, with titles and successors.

    One row per code: status is billable, header (not billable), not yet effective, terminated,
    unknown, or no release in force (the date is outside every loaded release of the system:
    never a guess). Successors are a header's billable children, a terminated code's replacement
    (HCPCS cross-reference, or the codes new under the same parent), or for an ICD-9-CM code on a
    date from 2015-10-01 the GEM candidates (a combination joined by '+'). With no CPT list
    loaded, CPT codes are checked by shape only, and the status says so. Table and CSV show codes
    dotted; JSON and NDJSON keep the stored undotted form.
    """
    from codesets import query

    table = query.validity(codes, system, on, warehouse=warehouse(ctx), dotted=dotted(fmt))
    if fmt == Format.table:
        table = _cut(table)
    render(table, fmt, columns=columns)


def _cut(table):
    """In a table, a long successor list cut short; CSV and JSON carry them all."""
    import pyarrow as pa

    shown = []
    for items in table.column("successors").to_pylist():
        if items is not None and len(items) > SHOWN_SUCCESSORS:
            items = items[:SHOWN_SUCCESSORS] + [f"... ({len(items) - SHOWN_SUCCESSORS} more)"]
        shown.append(items)
    return table.set_column(
        table.schema.get_field_index("successors"), "successors", pa.array(shown, pa.list_(pa.string()))
    )
