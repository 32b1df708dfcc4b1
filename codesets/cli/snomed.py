"""`codesets snomed`: a SNOMED CT concept's ICD-10-CM targets in a patient context (I-MAGIC)."""

from __future__ import annotations

from typing import List, Optional

import typer

from codesets.cli.common import Format, columns_option, dotted, render, say, warehouse


def register(app: typer.Typer) -> None:
    app.command("snomed")(snomed)


def snomed(
    ctx: typer.Context,
    concept: Optional[str] = typer.Argument(None, help="SNOMED CT concept id, e.g. 237145004 (or --batch)."),
    sex: Optional[str] = typer.Option(None, "--sex", help="Patient sex: F or M; leave out when unknown."),
    age: Optional[str] = typer.Option(None, "--age", help="Age at onset: a number and a unit, e.g. 20d, 6m, 2w, 30y."),
    problems: Optional[List[str]] = typer.Option(
        None, "--problem", help="Another SNOMED CT concept on the problem list (repeat for several)."
    ),
    on: Optional[str] = typer.Option(
        None, "--on", help="Date (YYYY-MM-DD) whose ICD-10-CM release completes '?' targets; default today."
    ),
    batch: Optional[str] = typer.Option(
        None, "--batch", metavar="PROBLEMS.csv|PROBLEMS.parquet",
        help="Evaluate a file of problems instead (columns problem_id, concept, and optionally sex, age, "
        "problems as SCTIDs separated by |), in SQL.",
    ),
    out: Optional[str] = typer.Option(
        None, "--out", metavar="ANSWERS.parquet|ANSWERS.csv",
        help="With --batch: write the answers to this file (Parquet or CSV by its suffix) instead of printing them.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format: table, csv, json or ndjson."),
    columns: Optional[str] = columns_option(),
) -> None:
    """Map CONCEPT to ICD-10-CM with the rule-based map: one row per map group.

    In each group the first record (by priority) whose rule holds answers. A rule on sex or age
    that the context does not give is never taken as true: the group's OTHERWISE TRUE default
    answers, status 'context needed' and needs says which (sex, age). needs also names
    'problems' when a rule on another problem-list concept could change the answer, and
    'episode_of_care' for a target ending in '?', whose completions (billable codes of the
    ICD-10-CM release in force) are listed when such a release is loaded. A concept the map
    does not hold answers one row, status 'no map records'. Table and CSV show codes dotted;
    JSON and NDJSON keep the stored undotted form.
    """
    from codesets import snomed as engine
    from codesets.core.errors import UsageError

    if batch is not None:
        if concept is not None or sex or age or problems or on:
            raise UsageError("--batch takes the concepts and their context from the file: give no CONCEPT, "
                             "--sex, --age, --problem or --on with it (the file's on_date column dates each row)")
        _batch(ctx, batch, out, fmt, columns)
        return
    if out is not None:
        raise UsageError("--out goes with --batch; for one concept use --format")
    if concept is None:
        raise UsageError("give a CONCEPT (a SNOMED CT id such as 237145004) or --batch PROBLEMS.csv")
    table = engine.evaluate_concept(concept, sex=sex, age=age, problems=problems or (), on=on,
                                    warehouse=warehouse(ctx), dotted=dotted(fmt))
    render(table, fmt, columns=columns)


def _batch(ctx, path: str, out: Optional[str], fmt: Format, columns) -> None:
    from codesets import snomed as engine
    from codesets.scrub import engine as scrub

    wh = warehouse(ctx)
    if out is not None:
        # the one writer of result files: Parquet or CSV, whole or not at all; never into the warehouse
        scrub.check_out(out, path, wh)
        table = engine.evaluate_file(path, warehouse=wh)
        if not out.lower().endswith(".parquet"):
            table = _lists_as_text(table)  # CSV has no lists
        scrub.write_findings(table, out, wh)
        say(f"snomed: {table.num_rows:,} answer rows written to {out}", err=True)
        return
    render(engine.evaluate_file(path, warehouse=wh, dotted=dotted(fmt)), fmt, columns=columns)


def _lists_as_text(table):
    """needs and completions as text: items joined by '|'; NULL stays NULL (no release in force)."""
    import pyarrow as pa

    for name in ("needs", "completions"):
        values = [None if v is None else "|".join(v) for v in table.column(name).to_pylist()]
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(values, pa.string()))
    return table
