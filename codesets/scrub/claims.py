"""Claim lines into DuckDB for the scrub: CSV, Parquet, an Arrow table or a pandas DataFrame.

``ClaimSource.of(claims)`` says where the lines come from; ``open(con)`` makes them the temp view
``scrub_source`` with the claim-line columns named and typed as the input rules expect
(codesets.scrub.engine runs those rules). Only the claim-line columns are read.

A ClaimSource of a file owns a private scratch folder (mode 0700, under the system's temp
folder) and ``close()`` removes it, with any copy of claim lines in it. A copy is made only
where DuckDB cannot read the claims where they are:

- a FIFO (``<(zcat claims.csv.gz)``, ``/dev/fd/N``, a named pipe) is read once, as it streams,
  into the folder: it cannot be opened twice, and a second reader would wait forever;
- a CSV with a carriage return alone (CR not followed by LF) outside quotes, which DuckDB's
  strict reader refuses whole: the copy has each such CR replaced by as many commas as the
  header has fields, so the row has too many fields whatever it held and DuckDB rejects it
  alone (a byte that is not UTF-8 would not do: DuckDB checks only the columns it reads), and
  the temp table scrub_csv_lone_cr lists those rows' lines so their finding says what is
  wrong. A CR inside a quoted value is data, read as it is.
"""

from __future__ import annotations

import csv
import mmap
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from codesets.core.errors import SourceError, UsageError
from codesets.core.text import shown

REQUIRED = ("claim_id", "line_number", "date_of_service", "procedure_code")
OPTIONAL = ("modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "setting", "member_id", "provider_id",
            "diagnosis_codes")
MAX_LINE_BYTES = 64 * 1024 * 1024  # a CSV line longer than this is a finding; DuckDB's default is 2 MB
MAX_UNITS = 99_999  # units billed on one line: above this is an input finding (sums of them fit any integer)

_COPY_CHUNK = 1024 * 1024
_MAX_MARKS = 64 * 1024 * 1024  # commas a copy marking lone CRs may add, at least (else the file's size)
_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")
# a quoted value (RFC 4180, "" inside) or a CR alone: what the scan for lone CRs steps over or finds
_QUOTED_OR_LONE_CR = re.compile(rb'"[^"]*(?:""[^"]*)*"|\r(?!\n)')

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_ROW_ID = "__codesets_row_id"  # the input order of an Arrow table, added to it for the scan


class ClaimSource:
    """Where the claim lines come from, and how they become the temp view scrub_source."""

    def __init__(self, kind: str, name: str, path: Path | None = None, data=None, header=None,
                 scratch: Path | None = None):
        self.kind = kind  # 'csv', 'parquet' or 'table'
        self.name = name  # for messages: the file name, or 'the claims table'
        self.path = path
        self.data = data
        self.header = header  # CSV: the header's field names
        self.scratch = scratch  # the private folder of copies (see the module docstring), or None
        self.directories = [str(d) for d in dict.fromkeys(p for p in (path and path.parent, scratch) if p)]

    def __enter__(self) -> ClaimSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the scratch folder and any copy of claim lines in it."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

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
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise UsageError(f"{shown(path)} is a device, not a file; save the claim lines to a CSV or Parquet "
                             "file and scrub that")
        scratch = Path(tempfile.mkdtemp(prefix="codesets-scrub-"))  # mode 0700: ours alone
        try:
            if stat.S_ISFIFO(mode):  # a pipe: read once, as it streams; a second open would wait forever
                name = shown(path)
                path = _copy_stream(path, scratch / ("claims" + path.suffix.lower()))
            with open(path, "rb") as f:
                magic = f.read(4)
            if magic == b"PAR1":
                return cls("parquet", name, path=path, scratch=scratch)
            if path.suffix.lower() == ".parquet":
                raise SourceError(f"{name} is not a Parquet file (it lacks the PAR1 mark); give a Parquet or CSV file")
            if magic[:2] == b"\x1f\x8b":
                raise UsageError(f"{name} is compressed (gzip); decompress it and scrub the CSV")
            return cls("csv", name, path=path, header=_csv_header(path, name), scratch=scratch)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise

    def open(self, con) -> None:
        """Create the temp view scrub_source (and the temp tables scrub_csv_errors, without the text
        of any row, and scrub_csv_lone_cr) on ``con``.

        A Parquet file or a table is registered as ``scrub_file`` and scanned where it is, by
        each statement that reads scrub_source (a clean input once, one with bad rows twice).
        A CSV is read once into a temp table: its rejects table may be filled by one scan only
        (a second, of a copy, where a CR alone stopped the first: see _read_csv).
        """
        row_id = "row_number() OVER () - 1"  # in the order of the scan (on one thread, though)
        con.execute("CREATE TEMP TABLE IF NOT EXISTS scrub_csv_lone_cr (line BIGINT)")
        if self.kind == "csv":
            names, types = self.header, None
            known = _known(names, self.name)
            _check_required(known, self.name)  # before a byte of the rows is read
            self._read_csv(con, names, known)
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
        # the columns of DuckDB's rejects table that scrub_input.sql reads (never csv_line, the row's text)
        con.execute("CREATE TEMP TABLE IF NOT EXISTS scrub_csv_errors (line BIGINT, byte_position BIGINT, "
                    "column_idx BIGINT, error_type VARCHAR, error_message VARCHAR)")

    def _read_csv(self, con, names, known) -> None:
        """The CSV into the temp table scrub_file, its unreadable rows into scrub_csv_errors.

        A CR alone outside quotes stops DuckDB's strict reader with no row to blame: then the
        file is read again from a copy in which such a CR is commas enough to make its row too
        long, and the rows that held one are listed in scrub_csv_lone_cr by their line (as
        DuckDB counts it: a row's first line, a header of one line counted).
        """
        import duckdb

        try:
            self._scan_csv(con, self.path, names, known)
        except duckdb.InterruptException:
            raise
        except duckdb.Error:
            crs = _lone_crs(self.path) if self.scratch is not None else []
            if not crs:
                raise
            for table in ("scrub_file", "scrub_csv_errors", "scrub_csv_scans"):  # what the failed read left
                con.execute(f"DROP TABLE IF EXISTS {table}")
            if len(crs) * len(names) > max(self.path.stat().st_size, _MAX_MARKS):  # a copy that big: no
                raise SourceError(f"{self.name} has {len(crs):,} carriage returns (CR) alone, outside quotes; "
                                  "end its lines with LF or CRLF, then scrub it again") from None
            copy = self.scratch / "claims-cr.csv"
            crs = _copy_marked(self.path, copy, crs, b"," * len(names))
            self._scan_csv(con, copy, names, known)
            con.execute(
                "INSERT INTO scrub_csv_lone_cr SELECT DISTINCT e.line FROM (SELECT unnest($crs) AS at) AS c "
                "ASOF JOIN (SELECT DISTINCT line, line_byte_position FROM scrub_csv_errors) AS e "
                "ON c.at >= e.line_byte_position",
                {"crs": crs},
            )
        # the raw text of an unread row may hold any column of it (a name, an SSN): never kept
        con.execute("UPDATE scrub_csv_errors SET csv_line = NULL")

    @staticmethod
    def _scan_csv(con, path: Path, names, known) -> None:
        # RFC 4180 as written, no sniffing: a hostile file cannot make DuckDB guess a dialect
        con.execute(
            f"CREATE TEMP TABLE scrub_file AS SELECT {', '.join(f'c{i}' for i, _ in known.values())} "
            "FROM read_csv($path, header = true, auto_detect = false, columns = $columns, delim = ',', "
            "quote = '\"', escape = '\"', strict_mode = true, max_line_size = $max_line_bytes, "
            "store_rejects = true, rejects_table = 'scrub_csv_errors', rejects_scan = 'scrub_csv_scans')",
            {"path": str(path), "columns": {f"c{i}": "VARCHAR" for i in range(len(names))},
             "max_line_bytes": MAX_LINE_BYTES},
        )


def _copy_stream(source: Path, target: Path) -> Path:
    """Copy a FIFO's bytes, once and as they come, into ``target`` (readable by us alone)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source, "rb", buffering=0) as src, open(fd, "wb") as out:
        while chunk := src.read(_COPY_CHUNK):
            out.write(chunk)
    return target


def _lone_crs(path: Path) -> list[int]:
    """Byte positions of each CR alone (not followed by LF) outside a quoted value; none: [].

    A quoted value starts a field (the file's start, after a BOM, a comma or a LF); a quote
    anywhere else is a character of its value, as DuckDB's strict reader takes it.
    """
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return []
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if _LONE_CR.search(data) is None:  # the common failure is something else: one fast look
                return []
            starts = (0, len(_BOM)) if data[:len(_BOM)] == _BOM else (0,)
            found, at = [], 0
            while (match := _QUOTED_OR_LONE_CR.search(data, at)) is not None:
                start = match.start()
                if data[start] == 0x0D:
                    found.append(start)
                    at = start + 1
                elif start in starts or data[start - 1] in b",\n":
                    at = match.end()  # a quoted value: a CR in it is data
                else:
                    at = start + 1
            return found


def _copy_marked(source: Path, target: Path, positions: list[int], mark: bytes) -> list[int]:
    """Copy ``source`` with the byte at each of ``positions`` replaced by ``mark``; where each mark is."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source, "rb") as f, open(fd, "wb") as out, \
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data, memoryview(data) as view:
        done = 0
        for at in positions:
            out.write(view[done:at])
            out.write(mark)
            done = at + 1
        out.write(view[done:])
    return [at + i * (len(mark) - 1) for i, at in enumerate(positions)]


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
