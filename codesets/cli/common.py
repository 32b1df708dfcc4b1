"""What every command shares: the warehouse from the global option, and output rendering."""

from __future__ import annotations

import enum
import io
import json
import math
import sys

import typer

from codesets.core.config import warehouse_path
from codesets.core.errors import QueryError
from codesets.core.text import aligned, escape

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
    from codesets.core.text import printable

    typer.echo(printable(text), err=err)


def warehouse(ctx: typer.Context):
    """The Warehouse named by --warehouse, CODESETS_WAREHOUSE or the default."""
    from codesets.warehouse.storage import Warehouse

    flag = ctx.find_root().params.get("warehouse") if ctx else None
    if flag is not None and not str(flag).strip():
        from codesets.core.errors import ConfigError

        raise ConfigError("--warehouse (or CODESETS_WAREHOUSE) is empty; name the warehouse directory")
    return Warehouse(warehouse_path(flag))


def dotted(fmt: Format) -> bool:
    """Whether ``fmt`` shows codes dotted (``R65.21``): table and csv do; json and ndjson keep the stored form."""
    return Format(fmt) in (Format.table, Format.csv)


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


FORMAT_HELP = (
    "Output format: table, csv, json or ndjson. On a terminal no format prints a control character "
    "raw (csv shows them escaped, e.g. \\x1b, with backslashes doubled); csv redirected to a file "
    "or pipe keeps every value exactly as it is. Values print as DuckDB writes them (12:00:00+05, "
    "3 days, infinity); json and ndjson write NaN and infinity as null, as JSON has no such numbers."
)


def render(data, fmt: Format = Format.table, out=None, columns: list[str] | None = None) -> None:
    """Print an Arrow table or record batch reader, batch by batch.

    table: aligned text (every cell escaped by ``codesets.core.text.escape``) and a row count;
    csv: lists joined by spaces; json: one array of objects; ndjson: one object per line.
    JSON has dates and timestamps as ISO strings and NaN or infinity as null (JSON has no such
    numbers; a string "NaN" would break a reader expecting a number or null), documented in
    FORMAT_HELP. Types Arrow cannot carry (TIMETZ, BIT, INTERVAL, ...) are cast to DuckDB's text
    in the query itself by ``codesets sql`` (``codesets.warehouse.sandbox.as_text``).
    Dates, timestamps and times Python cannot hold (DuckDB's ``infinity`` and ``-infinity``,
    years past 9999 or before 1, ``24:00:00``) print in every format as DuckDB's text of them
    (``CAST(v AS VARCHAR)``, a time zone's instant in UTC): see ``_temporal_text``.
    When ``out`` is a terminal, csv escapes control characters as table does (json and
    ndjson escape them anyway); into a file or pipe csv writes the values as they are.
    ``columns`` keeps those columns in that order; an unknown name raises QueryError.
    """
    fmt = Format(fmt)
    out = out or sys.stdout
    names, picks = _pick(data.schema.names, columns)
    batches = _batches(data, picks)
    if fmt is Format.csv:
        _write_csv(names, batches, out, on_terminal=_is_terminal(out))
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


def _is_terminal(out) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed file
        return False


def _write_table(names, batches, out) -> None:
    rows: list = []
    count = 0
    for batch in batches:
        batch = _tamed(batch, iso=False)
        columns = [[_cell(v) for v in column.to_pylist()] for column in batch.columns]
        rows.extend(zip(*columns))
        count += batch.num_rows
    footer = f"({count} row{'s' if count != 1 else ''})"
    out.write(aligned(names, rows) + "\n" + footer + "\n")


def _write_csv(names, batches, out, on_terminal: bool = False) -> None:
    """CSV as the csv module writes it. ``on_terminal``: every name and text value escaped
    (``escape`` without a cut), so an ESC, BEL or NUL in the data cannot drive the terminal;
    without it the values are written exactly, for a file or the next program in a pipe."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if on_terminal:
        names = [escape(n, None) for n in names]
    _write_csv_row(writer, buffer, names)
    for batch in batches:
        batch = _tamed(batch, iso=False)
        columns = [_csv_column(column) for column in batch.columns]
        if on_terminal:  # a CR is escaped with the rest
            columns = [[escape(v, None) if isinstance(v, str) else v for v in column] for column in columns]
        if not on_terminal and _any_cr(batch, columns):
            for row in zip(*columns):
                _write_csv_row(writer, buffer, row)
        else:
            writer.writerows(zip(*columns))
        out.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows at all: the header alone
        out.write(buffer.getvalue())


def _holds_cr(values) -> bool:
    return any("\r" in v for v in values if isinstance(v, str))


def _any_cr(batch, columns) -> bool:
    """Whether a text value of the batch holds a CR: Arrow looks through plain text columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for array, values in zip(batch.columns, columns):
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            if pc.any(pc.match_substring(array, "\r")).as_py():
                return True
        elif not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)) and _holds_cr(values):
            return True
    return False


def _write_csv_row(writer, buffer, row) -> None:
    """One row; a field holding a CR is quoted. The csv module quotes only the characters of
    its line terminator ("\n" here), and an unquoted CR ends the row for every CSV reader."""
    if not _holds_cr(row):
        writer.writerow(row)
        return
    fields = []
    for value in row:
        text = "" if value is None else value if isinstance(value, str) else str(value)
        if any(c in text for c in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        fields.append(text)
    buffer.write(",".join(fields) + "\n")


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
    their unit's digits (07:47:00.000000) and, where they have a time zone, its offset.
    Values Python or ISO cannot hold are DuckDB's text of them (``_temporal_text``), here and
    inside lists, structs and maps."""
    import pyarrow as pa

    columns = list(batch.columns)
    for i, column in enumerate(columns):
        if _is_temporal(column.type):
            columns[i] = _as_text(column, _out_of_range(column), iso=True)
        else:
            columns[i] = _tame(column, iso=True) or column
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


# --- dates and times Python cannot hold ------------------------------------------------------
#
# Python's date and datetime hold years 1 to 9999 and its time stops at 23:59:59.999999.
# DuckDB's DATE and TIMESTAMP run to year 5881580 and 294247 and back before year 1, its TIME
# has 24:00:00, and it writes infinity and -infinity as the largest integers (plus and minus
# 2**31 - 1 days, 2**63 - 1 timestamp units), which Arrow hands over unchanged. Converted to
# Python those raise OverflowError or come out as other dates (2262-04-11 for TIMESTAMP_NS
# infinity, 00:00:00 for 24:00:00), and Arrow's own text of them is wrong too. So each batch's
# temporal values are checked against what Python holds (a min and max per column: nothing
# else is done where every value fits, the usual case), and a column with a value outside
# becomes text: the values that fit as before, the others as DuckDB's text of them.

_INT32_END = 2**31 - 1  # DATE infinity; minus it is -infinity
_INT64_END = 2**63 - 1  # TIMESTAMP (any unit) infinity; minus it (or less) is -infinity
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_DAY = 86_400
_FIRST_DAY, _LAST_DAY = -719_162, 2_932_896  # 0001-01-01 and 9999-12-31, in days from 1970-01-01


def _is_temporal(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type) or pa.types.is_time(arrow_type)


def _holds_temporal(arrow_type) -> bool:
    import pyarrow as pa

    if _is_temporal(arrow_type):
        return True
    if pa.types.is_dictionary(arrow_type):
        return _holds_temporal(arrow_type.value_type)
    return any(_holds_temporal(arrow_type.field(i).type) for i in range(arrow_type.num_fields))


def _int_view(array):
    """A temporal array's integers: days, units since 1970-01-01, or units since midnight."""
    import pyarrow as pa

    return array.view(pa.int32() if array.type.bit_width == 32 else pa.int64())


def _bounds(arrow_type) -> tuple[int, int]:
    """The integers of ``arrow_type`` that Python's date, datetime or time holds."""
    import pyarrow as pa

    if pa.types.is_date32(arrow_type):
        return _FIRST_DAY, _LAST_DAY
    if pa.types.is_date64(arrow_type):  # milliseconds
        return _FIRST_DAY * _DAY * 1000, (_LAST_DAY + 1) * _DAY * 1000 - 1
    per = _PER_SECOND[arrow_type.unit]
    if pa.types.is_time(arrow_type):
        return 0, _DAY * per - 1
    # A zoned timestamp is moved into its zone on the way to Python: keep a day clear of the ends.
    margin = _DAY * per if arrow_type.tz else 0
    low = _FIRST_DAY * _DAY * per + margin
    high = (_LAST_DAY + 1) * _DAY * per - 1 - margin
    return max(low, -_INT64_END + 1), min(high, _INT64_END - 1)


def _out_of_range(array):
    """A boolean array marking the values Python cannot hold, or None when every value fits."""
    import pyarrow.compute as pc

    ints = _int_view(array)
    low, high = _bounds(array.type)
    extremes = pc.min_max(ints)
    least, most = extremes["min"].as_py(), extremes["max"].as_py()
    if least is None or (least >= low and most <= high):  # all null, or all fit
        return None
    return pc.fill_null(pc.or_(pc.less(ints, low), pc.greater(ints, high)), False)


def _as_text(array, outside, iso: bool):
    """A temporal array as strings: values that fit as ISO 8601 (``iso``) or as Python's str()
    of them (table and csv, as before), the ``outside`` ones as DuckDB's text of them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fits = array if outside is None else pc.if_else(outside, pa.nulls(len(array), array.type), array)
    if iso and pa.types.is_timestamp(array.type):
        usual = pc.strftime(fits, format="%Y-%m-%dT%H:%M:%S%Ez" if array.type.tz else "%Y-%m-%dT%H:%M:%S")
    elif iso:
        usual = fits.cast(pa.string())
    else:
        usual = pa.array([None if v is None else str(v) for v in fits.to_pylist()], pa.string())
    if outside is None:
        return usual
    ours = pa.array([_temporal_text(v, array.type) if out else None
                     for v, out in zip(_int_view(array).to_pylist(), outside.to_pylist())], pa.string())
    return pc.if_else(outside, ours, usual)


def _tamed(batch, iso: bool):
    """The batch with every column holding a temporal value Python cannot hold made text."""
    import pyarrow as pa

    columns = [_tame(column, iso) for column in batch.columns]
    if not any(c is not None for c in columns):
        return batch
    columns = [new if new is not None else old for new, old in zip(columns, batch.columns)]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _tame(array, iso: bool):
    """``array`` with its temporal values (at any depth) as text if one does not fit Python;
    None when nothing needs changing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if _is_temporal(kind):
        outside = _out_of_range(array)
        return None if outside is None else _as_text(array, outside, iso)
    if not _holds_temporal(kind):
        return None
    nulls = array.is_null() if array.null_count else None
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind):
        # Rebase the offsets onto the slice of children this (maybe sliced) array uses.
        first, last = array.offsets[0].as_py(), array.offsets[-1].as_py()
        offsets = pc.subtract(array.offsets, pa.scalar(first, array.offsets.type))
        if pa.types.is_map(kind):
            keys = array.keys.slice(first, last - first)
            items = array.items.slice(first, last - first)
            new_keys, new_items = _tame(keys, iso), _tame(items, iso)
            if new_keys is None and new_items is None:
                return None
            return pa.MapArray.from_arrays(offsets, new_keys if new_keys is not None else keys,
                                           new_items if new_items is not None else items, mask=nulls)
        values = _tame(array.values.slice(first, last - first), iso)
        if values is None:
            return None
        maker = pa.LargeListArray if pa.types.is_large_list(kind) else pa.ListArray
        return maker.from_arrays(offsets, values, mask=nulls)
    if pa.types.is_fixed_size_list(kind):
        size = kind.list_size
        values = _tame(array.values.slice(array.offset * size, len(array) * size), iso)
        return None if values is None else pa.FixedSizeListArray.from_arrays(values, size, mask=nulls)
    if pa.types.is_struct(kind):
        children = [array.field(i) for i in range(kind.num_fields)]
        tamed = [_tame(child, iso) for child in children]
        if all(t is None for t in tamed):
            return None
        return pa.StructArray.from_arrays([t if t is not None else c for t, c in zip(tamed, children)],
                                          names=[kind.field(i).name for i in range(kind.num_fields)], mask=nulls)
    if pa.types.is_dictionary(kind):
        values = _tame(array.dictionary, iso)
        return None if values is None else pa.DictionaryArray.from_arrays(array.indices, values)
    # Anything else holding a temporal (a union): its text, value by value, from DuckDB's
    # rules where a value does not fit; rare enough that speed does not matter.
    return pa.array([_python_text(array, i, iso) for i in range(len(array))], pa.string())


def _python_text(array, i: int, iso: bool):
    try:
        value = array[i].as_py()
    except (OverflowError, ValueError):
        value = _scalar_text(array[i])
    if value is None or isinstance(value, str):
        return value
    return value.isoformat() if iso and hasattr(value, "isoformat") else _cell(value)


def _scalar_text(scalar) -> str:
    import pyarrow as pa

    value = getattr(scalar, "value", scalar)  # a union scalar holds the chosen member's scalar
    if isinstance(value, pa.Scalar) and _is_temporal(value.type):
        array = pa.array([value], value.type)
        return _temporal_text(_int_view(array)[0].as_py(), value.type)
    return str(value)


def _temporal_text(value: int, arrow_type) -> str:
    """DuckDB's text of one date, timestamp or time given as Arrow's integer for it:
    ``infinity``, ``-infinity``, ``294247-01-10 04:00:54.775806``, ``0044-03-15 (BC)``,
    ``24:00:00``. A timestamp with a time zone is written in UTC (``+00``), the same instant."""
    import pyarrow as pa

    if pa.types.is_time(arrow_type):
        return _clock_text(value, _PER_SECOND[arrow_type.unit])
    end = _INT32_END if pa.types.is_date32(arrow_type) else _INT64_END
    if value >= end:
        return "infinity"
    if value <= -end:
        return "-infinity"
    if pa.types.is_date32(arrow_type):
        return _date_text(value)
    if pa.types.is_date64(arrow_type):
        return _date_text(value // (_DAY * 1000))
    per = _PER_SECOND[arrow_type.unit]
    days, units = divmod(value, _DAY * per)
    return f"{_date_text(days)} {_clock_text(units, per)}" + ("+00" if arrow_type.tz else "")


def _date_text(days: int) -> str:
    """Days from 1970-01-01 as DuckDB writes a DATE: any year, ``(BC)`` before year 1."""
    # The proleptic Gregorian calendar in 400-year eras (H. Hinnant's civil_from_days).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    if year <= 0:  # year 0 is 1 BC
        return f"{1 - year:04d}-{month:02d}-{day:02d} (BC)"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _clock_text(units: int, per: int) -> str:
    """Units since midnight as DuckDB writes a time: HH:MM:SS, then any fraction without trailing zeros."""
    seconds, fraction = divmod(units, per)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{hour:02d}:{minute:02d}:{second:02d}"
    if fraction:
        text += "." + f"{fraction:0{len(str(per)) - 1}d}".rstrip("0")
    return text


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
