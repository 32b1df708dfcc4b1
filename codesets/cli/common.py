"""What every command shares: the warehouse from the global option, and output rendering."""

from __future__ import annotations

import enum
import io
import json
import math
import sys

import typer

from codesets.config import warehouse_path
from codesets.errors import QueryError
from codesets.text import aligned, escape

# Rows per write: big enough that a million-row result is a hundred writes, small enough
# that the text of one batch stays a few megabytes.
BATCH_ROWS = 10_000


class Format(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"
    ndjson = "ndjson"


def say(text: str, err: bool = False) -> None:
    """Print a report line; file names and values in it cannot reach the terminal as control codes."""
    from codesets.text import printable

    typer.echo(printable(text), err=err)


def warehouse(ctx: typer.Context):
    """The Warehouse named by --warehouse, CODESETS_WAREHOUSE or the default."""
    from codesets.warehouse.storage import Warehouse

    flag = ctx.find_root().params.get("warehouse") if ctx else None
    if flag is not None and not str(flag).strip():
        from codesets.errors import ConfigError

        raise ConfigError("--warehouse (or CODESETS_WAREHOUSE) is empty; name the warehouse directory")
    return Warehouse(warehouse_path(flag))


def columns_option():
    """The ``--columns a,b,c`` option; the command receives a list of names, or None."""
    return typer.Option(
        None,
        "--columns",
        metavar="NAME,...",
        callback=split_columns,
        help="Only these columns, in this order (names separated by commas).",
    )


def split_columns(value: str | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None stays None (all columns)."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise typer.BadParameter(f"{value!r} has an empty column name; give names such as source,release_id")
    return names


def render(data, fmt: Format = Format.table, out=None, columns: list[str] | None = None) -> None:
    """Print an Arrow table or record batch reader, batch by batch.

    table: aligned text (every cell escaped by ``codesets.text.escape``) and a row count;
    csv: lists joined by spaces; json: one array of objects; ndjson: one object per line.
    JSON has dates and timestamps as ISO strings and NaN or infinity as null.
    ``columns`` keeps those columns in that order; an unknown name raises QueryError.
    """
    fmt = Format(fmt)
    out = out or sys.stdout
    names, picks = _pick(data.schema.names, columns)
    batches = _batches(data, picks)
    if fmt is Format.csv:
        _write_csv(names, batches, out)
    elif fmt in (Format.json, Format.ndjson):
        _write_json(names, batches, out, lines=fmt is Format.ndjson)
    else:
        _write_table(names, batches, out)


def _pick(names: list[str], columns: list[str] | None):
    """The output names and the indices of the columns to keep (None: all of them)."""
    if columns is None:
        return names, None
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise QueryError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(escape(c)) for c in unknown)} "
            f"in --columns; the columns are: {', '.join(escape(n) for n in names)}"
        )
    for c in columns:
        if names.count(c) > 1:
            raise QueryError(f"column {escape(c)!r} appears {names.count(c)} times in the result; "
                             "give each its own name (SELECT ... AS name) to pick one")
    return list(columns), [names.index(c) for c in columns]


def _batches(data, picks):
    """Record batches of at most BATCH_ROWS rows, holding the picked columns."""
    import pyarrow as pa

    source = data.to_batches(max_chunksize=BATCH_ROWS) if isinstance(data, pa.Table) else data
    for batch in source:
        if picks is not None:
            batch = batch.select(picks)
        # A reader may hand over batches of any size; slices are free.
        for start in range(0, batch.num_rows, BATCH_ROWS):
            yield batch.slice(start, BATCH_ROWS)


def _write_table(names, batches, out) -> None:
    rows: list = []
    count = 0
    for batch in batches:
        columns = [[_cell(v) for v in column.to_pylist()] for column in batch.columns]
        rows.extend(zip(*columns))
        count += batch.num_rows
    footer = f"({count} row{'s' if count != 1 else ''})"
    out.write(aligned(names, rows) + "\n" + footer + "\n")


def _write_csv(names, batches, out) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for batch in batches:
        writer.writerows(zip(*(_csv_column(column) for column in batch.columns)))
        out.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows at all: the header alone
        out.write(buffer.getvalue())


def _csv_column(column) -> list:
    """A column's values as the csv module should see them: it writes None as an empty field
    and str() of anything else, so only booleans and nested values need turning into text."""
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_boolean(column.type) or pa.types.is_nested(column.type):
        return [_cell(v) for v in values]
    return values


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_json(names, batches, out, lines: bool) -> None:
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise QueryError(f"column name(s) {', '.join(map(repr, twice))} appear more than once; JSON objects "
                         "need distinct names: give each column its own name (SELECT ... AS name) or use --columns")
    # One C-encoded call per row (indent would fall back to the pure-Python encoder);
    # allow_nan=False is a guard: non-finite floats are nulled before they get here.
    encode = json.JSONEncoder(default=_json_default, allow_nan=False).encode
    first = True
    for batch in batches:
        text = ("\n" if lines else ",\n").join(map(encode, _json_rows(batch)))
        if lines:
            out.write(text + "\n")
        else:
            out.write(("[\n" if first else ",\n") + text)
        first = False
    if not lines:
        out.write("[]\n" if first else "\n]\n")


def _json_rows(batch) -> list[dict]:
    rows = _iso_temporals(batch).to_pylist()
    floats = [f.name for f in batch.schema if _holds_float(f.type)]
    for row in rows:
        for name in floats:
            row[name] = _finite(row[name])
    return rows


def _iso_temporals(batch):
    """The batch with its date, time and timestamp columns as ISO 8601 strings, made by Arrow:
    Python date objects cost more to make than the rest of a row put together. Timestamps keep
    their unit's digits (07:47:00.000000) and, where they have a time zone, its offset."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = list(batch.columns)
    for i, column in enumerate(columns):
        kind = column.type
        if pa.types.is_timestamp(kind):
            iso = "%Y-%m-%dT%H:%M:%S%Ez" if kind.tz else "%Y-%m-%dT%H:%M:%S"
            columns[i] = pc.strftime(column, format=iso)
        elif pa.types.is_date(kind) or pa.types.is_time(kind):
            columns[i] = column.cast(pa.string())
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _holds_float(arrow_type) -> bool:
    import pyarrow as pa

    if pa.types.is_floating(arrow_type):
        return True
    return any(_holds_float(arrow_type.field(i).type) for i in range(arrow_type.num_fields))


def _finite(value):
    """NaN and infinity, which JSON cannot write, as None, inside lists and structs too."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, tuple):  # map entries
        return tuple(_finite(v) for v in value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _json_default(value):
    """Dates, times and timestamps as ISO strings; anything else JSON lacks (decimals, bytes,
    durations) as its str()."""
    iso = getattr(value, "isoformat", None)
    return iso() if iso is not None else str(value)
