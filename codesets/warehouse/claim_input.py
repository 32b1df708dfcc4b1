"""Claim lines into DuckDB for the scrub: CSV, Parquet, an Arrow table or a pandas DataFrame.

``ClaimSource.of(claims)`` says where the lines come from; ``open(con)`` makes them the temp view
``scrub_source`` with the claim-line columns named and typed as the input rules expect
(codesets.warehouse.scrub runs those rules). Only the claim-line columns are read.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from codesets.errors import SourceError, UsageError
from codesets.text import shown

REQUIRED = ("claim_id", "line_number", "date_of_service", "procedure_code")
OPTIONAL = ("modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "setting", "member_id", "provider_id",
            "diagnosis_codes")
MAX_LINE_BYTES = 64 * 1024 * 1024  # a CSV line longer than this is a finding; DuckDB's default is 2 MB

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_ROW_ID = "__codesets_row_id"  # the input order of an Arrow table, added to it for the scan


class ClaimSource:
    """Where the claim lines come from, and how they become the temp view scrub_source."""

    def __init__(self, kind: str, name: str, path: Path | None = None, data=None, header=None):
        self.kind = kind  # 'csv', 'parquet' or 'table'
        self.name = name  # for messages: the file name, or 'the claims table'
        self.path = path
        self.data = data
        self.header = header  # CSV: the header's field names
        self.directories = [str(path.parent)] if path is not None else []

    @classmethod
    def of(cls, claims) -> ClaimSource:
        if isinstance(claims, (str, os.PathLike)):
            return cls._file(Path(os.path.abspath(claims)))
        module = type(claims).__module__.split(".")[0]
        if module == "pyarrow":
            import pyarrow as pa

            if isinstance(claims, pa.RecordBatch):
                claims = pa.Table.from_batches([claims])
            elif isinstance(claims, pa.RecordBatchReader):
                claims = claims.read_all()  # scanned more than once below
            if isinstance(claims, pa.Table):
                return cls("table", "the claims table", data=claims)
        if module == "pandas" and type(claims).__name__ == "DataFrame":
            return cls("table", "the claims table", data=claims)
        raise UsageError(f"claims must be a CSV or Parquet path, a pyarrow Table or a pandas DataFrame, "
                         f"not {type(claims).__name__}")

    @classmethod
    def _file(cls, path: Path) -> ClaimSource:
        name = shown(path.name)
        if not path.exists():
            raise UsageError(f"claims file {shown(path)} not found; name a CSV or Parquet file of claim lines")
        if path.is_dir():
            raise UsageError(f"{shown(path)} is a folder; name a CSV or Parquet file of claim lines")
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic == b"PAR1":
            return cls("parquet", name, path=path)
        if path.suffix.lower() == ".parquet":
            raise SourceError(f"{name} is not a Parquet file (it lacks the PAR1 mark); give a Parquet or CSV file")
        if magic[:2] == b"\x1f\x8b":
            raise UsageError(f"{name} is compressed (gzip); decompress it and scrub the CSV")
        return cls("csv", name, path=path, header=_csv_header(path, name))

    def open(self, con) -> None:
        """Create the temp view scrub_source (and the temp table scrub_csv_errors) on ``con``.

        A Parquet file or a table is registered as ``scrub_file`` and scanned where it is, by
        each statement that reads scrub_source (a clean input once, one with bad rows twice).
        A CSV is read once into a temp table: its rejects table may be filled by one scan only.
        """
        row_id = "row_number() OVER () - 1"  # in the order of the scan (on one thread, though)
        if self.kind == "csv":
            # RFC 4180 as written, no sniffing: a hostile file cannot make DuckDB guess a dialect
            names, types = self.header, None
            known = _known(names, self.name)
            _check_required(known, self.name)  # before a byte of the rows is read
            con.execute(
                f"CREATE TEMP TABLE scrub_file AS SELECT {', '.join(f'c{i}' for i, _ in known.values())} "
                "FROM read_csv($path, header = true, auto_detect = false, columns = $columns, delim = ',', "
                "quote = '\"', escape = '\"', strict_mode = true, max_line_size = $max_line_bytes, "
                "store_rejects = true, rejects_table = 'scrub_csv_errors', rejects_scan = 'scrub_csv_scans')",
                {"path": str(self.path), "columns": {f"c{i}": "VARCHAR" for i in range(len(names))},
                 "max_line_bytes": MAX_LINE_BYTES},
            )
            positions = [f"c{i}" for i in range(len(names))]
            row_id = "rowid"  # a new table's rowid counts its rows in the order they were written
        elif self.kind == "parquet":
            relation = con.read_parquet(str(self.path))
            if "file_row_number" not in relation.columns:  # else the file's own column would clash
                relation = con.read_parquet(str(self.path), file_row_number=True)
                row_id = "file_row_number"
            con.register("scrub_file", relation)
        else:
            con.register("scrub_file", _numbered(self.data))
            row_id = _ROW_ID
        if self.kind != "csv":
            described = con.execute("DESCRIBE scrub_file").fetchall()
            names, types = [row[0] for row in described], [row[1] for row in described]
            positions = names
        columns = _known(names, self.name, types)
        _check_required(columns, self.name)
        typed = {name: (_ident(positions[i]), kind) for name, (i, kind) in columns.items()}
        con.execute(f"CREATE TEMP VIEW scrub_source AS {_adapter(typed, row_id, 'scrub_file')}")
        con.execute("CREATE TEMP TABLE IF NOT EXISTS scrub_csv_errors "
                    "(line BIGINT, error_type VARCHAR, csv_line VARCHAR, error_message VARCHAR)")


def _numbered(table):
    """An Arrow table or DataFrame with its rows numbered in the column _ROW_ID, without copying it.

    A column costs less than row_number(), whose window keeps the scan to one thread.
    """
    import numpy as np

    numbers = np.arange(len(table), dtype=np.int64)
    if hasattr(table, "iloc"):  # pandas: copy on write, so the frame's columns are shared
        return table.assign(**{_ROW_ID: numbers})
    import pyarrow as pa

    if _ROW_ID in table.column_names:
        table = table.drop_columns([_ROW_ID])
    return table.append_column(_ROW_ID, pa.array(numbers))


def _csv_header(path: Path, name: str) -> list[str]:
    """The field names of a CSV's header row (a BOM is not part of the first).

    Only the header's own lines are decoded: a bad byte further down is a finding on its row.
    """
    def lines():
        with open(path, "rb") as f:
            encoding = "utf-8-sig"
            while raw := f.readline(MAX_LINE_BYTES):
                yield raw.decode(encoding)
                encoding = "utf-8"

    try:
        header = next(csv.reader(lines(), strict=True), None)
    except UnicodeDecodeError:
        raise SourceError(f"the header row of {name} is not UTF-8 text; save the file as UTF-8") from None
    except csv.Error as exc:
        raise SourceError(f"the header row of {name} cannot be read as CSV ({exc}); fix it and scrub again") from None
    if header is None:
        raise UsageError(f"{name} is empty; a claims CSV starts with a header row naming "
                         f"{', '.join(REQUIRED)}")
    return header


def _known(names, source_name: str, types=None) -> dict[str, tuple[int, str]]:
    """Each claim-line column the input has: name -> (its position, its DuckDB type).

    Names match after trimming and lower-casing (`Claim_ID ` is claim_id); other columns are
    not read.
    """
    found: dict[str, tuple[int, str]] = {}
    for i, raw in enumerate(names):
        name = str(raw).strip().lower()
        if name in REQUIRED or name in OPTIONAL:
            if name in found:
                raise UsageError(f"{source_name} has two {name} columns (columns {found[name][0] + 1} and {i + 1}); "
                                 "keep one")
            found[name] = (i, types[i] if types else "VARCHAR")
    return found


def _check_required(columns, source_name: str) -> None:
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise UsageError(
            f"{source_name} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"claim lines need {', '.join(REQUIRED)} (see docs/scrub-rules.md)"
        )


def _adapter(columns: dict[str, tuple[str, str]], row_id: str, table: str) -> str:
    """The SELECT behind scrub_source: the columns scrub_input_parse.sql reads, from what the input has.

    Text arrives as text, typed values as values (see the header of scrub_input_parse.sql).
    """
    def text(name):
        if name not in columns:
            return "NULL::VARCHAR"
        ident, kind = columns[name]
        return ident if kind == "VARCHAR" else f"TRY_CAST({ident} AS VARCHAR)"

    def pair(name, value_of):
        """(text, value) for a column that may come typed; value_of(ident, kind) or None."""
        if name not in columns:
            return "NULL::VARCHAR", "NULL"
        ident, kind = columns[name]
        value = value_of(ident, kind.split("(")[0])
        if value is None:
            return text(name), "NULL"
        return f"CASE WHEN ({value}) IS NULL THEN TRY_CAST({ident} AS VARCHAR) END", value

    def line_value(c, kind):
        if kind in _INTEGERS:
            return f"TRY_CAST({c} AS BIGINT)"
        if kind in ("FLOAT", "DOUBLE", "DECIMAL"):  # whole numbers only: 2.0 is line 2, 2.5 is no line
            return (f"CASE WHEN isfinite(CAST({c} AS DOUBLE)) AND CAST({c} AS DOUBLE) = trunc(CAST({c} AS DOUBLE)) "
                    f"AND abs(CAST({c} AS DOUBLE)) < 1e15 THEN CAST({c} AS BIGINT) END")
        return None

    def date_value(c, kind):
        if kind == "DATE":
            return c
        # midnight only: a time of day is not a date; a time zone (TIMESTAMPTZ) comes as text, refused
        if kind in _TIMESTAMPS:
            return f"CASE WHEN {c} = date_trunc('day', {c}) THEN CAST({c} AS DATE) END"
        return None

    def units_value(c, kind):
        return f"CAST({c} AS DOUBLE)" if kind in _INTEGERS or kind in ("FLOAT", "DOUBLE", "DECIMAL") else None

    line_text, line_val = pair("line_number", line_value)
    date_text, date_val = pair("date_of_service", date_value)
    units_text, units_val = pair("units", units_value)
    select = [
        f"{row_id} AS row_id",
        f"{text('claim_id')} AS claim_id",
        f"{line_text} AS line_text", f"{line_val}::BIGINT AS line_value",
        f"{date_text} AS date_text", f"{date_val}::DATE AS date_value",
        f"{text('procedure_code')} AS procedure_code",
        *(f"{text(m)} AS {m}" for m in ("modifier_1", "modifier_2", "modifier_3", "modifier_4")),
        f"{units_text} AS units_text", f"{units_val}::DOUBLE AS units_value",
        *(f"{text(c)} AS {c}" for c in ("setting", "member_id", "provider_id", "diagnosis_codes")),
    ]
    return "SELECT\n    " + ",\n    ".join(select) + f"\nFROM {table}"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'
