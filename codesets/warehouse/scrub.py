"""Claim scrubbing: claim lines in (CSV, Parquet, an Arrow table or a pandas DataFrame), findings out.

``scrub`` runs on one sandboxed connection (``Warehouse.connect``, with the claims file's
folder allowed for reading) and works in sets, never row by row in Python:

1. the claims become the temp view ``scrub_source``. A Parquet file or a table is scanned
   where it is, typed columns as they are (a DATE needs no parse); a CSV is read once by
   DuckDB, every column as text, into a temp table, and the rows it cannot read (ragged,
   not UTF-8, an open quote) land in DuckDB's rejects table ``scrub_csv_errors``. Only the
   claim-line columns are read: any other column stays in the input and can fail nothing;
2. ``sql/queries/scrub_input_parse.sql`` judges every row against the input rules and
   ``scrub_input_lines.sql`` keeps them all, judged, in the temp table ``claim_lines``;
   repeated (claim_id, line_number) keys are found (``scrub_input_order.sql``,
   ``scrub_input_duplicates.sql``), the rows that fail are deleted
   (``scrub_input_delete.sql``), and ``scrub_input.sql`` words the findings of check
   ``input``. What stays in ``claim_lines`` is all the checks read;
3. each check asked for is one SELECT in ``sql/queries/scrub_<check>.sql`` (``CHECKS``); the
   findings of all of them come back as one Arrow table sorted by claim_id, line_number,
   check, related_line_number and reference, NULLs last (then input order, then rule order).

Findings hold claim_id and line_number as given, so they join back to the input (and its
other columns) on those two; a CSV row that could not be read has neither, and its reason
names its line in the file. Claim values may appear in findings, never in an error message.
"""

from __future__ import annotations

import csv
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from codesets.errors import SourceError, UsageError
from codesets.text import escape, shown
from codesets.warehouse import sqlfiles


@dataclass(frozen=True)
class Check:
    """A check: its name in ``--checks`` and the SELECT in ``sql/queries/scrub_<name>.sql``."""

    name: str
    summary: str

    def sql(self) -> str:
        return sqlfiles.query(f"scrub_{self.name}")


# Every check `codesets scrub` knows, in one place. `input` is not here: it always runs.
CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        Check("ptp", "NCCI procedure-to-procedure edits: codes not billed together on one day"),
        Check("mue", "NCCI medically unlikely edits: units of a code on a line or a day"),
    )
}
DEFAULT_CHECKS = ("ptp", "mue")
INPUT = "input"

FINDINGS = (
    ("claim_id", "VARCHAR"),
    ("line_number", "INTEGER"),
    ("check", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("code", "VARCHAR"),
    ("related_line_number", "INTEGER"),
    ("reason", "VARCHAR"),
    ("reference", "VARCHAR"),
    ("suggestion", "VARCHAR"),
)

REQUIRED = ("claim_id", "line_number", "date_of_service", "procedure_code")
OPTIONAL = ("modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "setting", "member_id", "provider_id")
MAX_LINE_BYTES = 64 * 1024 * 1024  # a CSV line longer than this is a finding; DuckDB's default is 2 MB

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_ROW_ID = "__codesets_row_id"  # the input order of an Arrow table, added to it for the scan


@dataclass
class Scrub:
    """What one scrub found: the findings table and the counts the summary line gives."""

    findings: object  # pyarrow.Table with the FINDINGS columns
    lines: int  # input rows, CSV rows that could not be read included
    checked: int  # lines that passed the input rules and went through the checks
    checks: tuple[str, ...]  # the checks run besides input
    seconds: dict[str, float] = field(default_factory=dict)  # time of each stage: input, checks

    def summary(self) -> str:
        """One line: lines read and checked, then findings by check and severity."""
        total = self.findings.num_rows
        head = (f"scrub: {self.lines:,} line{'s' if self.lines != 1 else ''} read, {self.checked:,} checked "
                f"({', '.join((INPUT, *self.checks))}); ")
        if not total:
            return head + "no findings"
        grouped = self.findings.group_by(["check", "severity"]).aggregate([("check", "count")])
        counts = {(c, s): n for c, s, n in zip(*(grouped.column(i).to_pylist() for i in range(3)))}
        parts = []
        for check in (INPUT, *self.checks, *sorted({c for c, _ in counts} - {INPUT, *self.checks})):
            found = [f"{counts[(c, s)]:,} {s}" for (c, s) in sorted(counts) if c == check]
            if found:
                parts.append(f"{check} {', '.join(found)}")
        return head + f"{total:,} finding{'s' if total != 1 else ''}: " + "; ".join(parts)


def check_names(checks) -> tuple[str, ...]:
    """The checks asked for (names in a list, or separated by commas), each once, in order.

    ``input`` always runs; naming it, or no check at all, is allowed. An unknown name is a UsageError.
    """
    if isinstance(checks, str):
        checks = checks.split(",")
    names = []
    for name in checks:
        name = str(name).strip().lower()
        if name and name not in CHECKS and name != INPUT:
            raise UsageError(
                f"unknown check {escape(name, 40)!r}; the checks are {', '.join(CHECKS)} "
                f"({INPUT} always runs; --checks {INPUT} runs it alone)"
            )
        if name in CHECKS and name not in names:
            names.append(name)
    return tuple(names)


def scrub(warehouse, claims, checks=DEFAULT_CHECKS) -> Scrub:
    """Scrub ``claims`` (a CSV or Parquet path, a pyarrow Table or a pandas DataFrame).

    Raises UsageError for an unknown check, a missing file or required columns the input
    lacks entirely, SourceError for a file that cannot be read at all; a bad row is a finding.
    """
    import duckdb

    names = check_names(checks)
    source = _Source.of(claims)
    con = warehouse.connect(extra_directories=source.directories)
    try:
        started = time.perf_counter()
        try:
            source.open(con)
            lines, checked = _input_stage(con, source)
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            raise SourceError(f"cannot read {source.name}: {_without_values(exc)}") from None
        seconds = {INPUT: time.perf_counter() - started}
        started = time.perf_counter()
        try:
            for name in names:  # each check on its own: one plan per check keeps each one lean
                con.execute(f"CREATE TEMP TABLE {_ident('scrub_found_' + name)} AS\n{_check_sql(name)}")
            findings = _arrow(con.execute(_findings_sql(names)))
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            # a bug in a check's SQL, not the user's doing; its message may quote claim values
            raise RuntimeError(f"a scrub check failed ({_without_values(exc)})") from None
        seconds["checks"] = time.perf_counter() - started
    finally:
        con.close()
    return Scrub(findings, lines, checked, names, seconds)


def check_out(path, claims=None) -> Path:
    """Refuse an --out path scrub could not write (before anything is read): UsageError naming the fix."""
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"--out {shown(path)}: name a .parquet or a .csv file; the suffix picks the format")
    if not path.absolute().parent.is_dir():
        raise UsageError(f"--out {shown(path)}: the folder {shown(path.absolute().parent)} does not exist")
    if path.is_dir():
        raise UsageError(f"--out {shown(path)} is a folder; name a file in it")
    if isinstance(claims, (str, os.PathLike)) and path.exists() and Path(claims).exists() \
            and os.path.samefile(path, claims):
        raise UsageError(f"--out {shown(path)} is the claims file itself; name another file")
    return path


def write_findings(findings, path) -> None:
    """Write the findings to ``path``: Parquet or CSV by its suffix, whole or not at all."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = check_out(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(findings, tmp)
        else:
            pacsv.write_csv(findings, tmp, pacsv.WriteOptions(quoting_style="needed"))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _Source:
    """Where the claim lines come from, and how they become the temp view scrub_source."""

    def __init__(self, kind: str, name: str, path: Path | None = None, data=None, header=None):
        self.kind = kind  # 'csv', 'parquet' or 'table'
        self.name = name  # for messages: the file name, or 'the claims table'
        self.path = path
        self.data = data
        self.header = header  # CSV: the header's field names
        self.directories = [str(path.parent)] if path is not None else []

    @classmethod
    def of(cls, claims) -> _Source:
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
    def _file(cls, path: Path) -> _Source:
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


def _input_stage(con, source: _Source) -> tuple[int, int]:
    """claim_lines and scrub_input_findings (with scrub_parsed and scrub_duplicates on the way),
    from scrub_source; returns the number of input rows and of claim lines.

    One pass judges and keeps every row; the rows that fail are then deleted from it. A clean
    file takes two short cuts: keys already in strictly increasing order cannot repeat (no
    grouping of every line), and with no row broken there is no second pass to word findings.
    """
    con.execute(f"CREATE TEMP VIEW scrub_parsed AS\n{sqlfiles.query('scrub_input_parse')}")
    con.execute(f"CREATE TEMP TABLE claim_lines AS\n{sqlfiles.query('scrub_input_lines')}")
    broken, out_of_order = con.execute(sqlfiles.query("scrub_input_order")).fetchone()
    con.execute("CREATE TEMP TABLE scrub_duplicates (claim_id VARCHAR, line_number INTEGER, copies BIGINT)")
    if out_of_order:
        con.execute(f"INSERT INTO scrub_duplicates\n{sqlfiles.query('scrub_input_duplicates')}")
    (repeated,) = con.execute("SELECT count(*) FROM scrub_duplicates").fetchone()
    (unread,) = con.execute("SELECT count(DISTINCT line) FROM scrub_csv_errors").fetchone()
    rows = con.execute("SELECT count(*) FROM claim_lines").fetchone()[0] + unread
    if broken or repeated:
        con.execute(sqlfiles.query("scrub_input_delete"))
    con.execute("ALTER TABLE claim_lines DROP COLUMN ok")
    con.execute("ALTER TABLE claim_lines DROP COLUMN usable")
    columns = ", ".join(f"{_ident(n)} {t}" for n, t in (*FINDINGS, ("sort_row", "BIGINT"), ("rule_order", "INTEGER")))
    con.execute(f"CREATE TEMP TABLE scrub_input_findings ({columns})")
    if broken or repeated or unread:  # else no row broke a rule: nothing to word
        con.execute(
            f"INSERT INTO scrub_input_findings BY NAME\n{sqlfiles.query('scrub_input')}",
            {"header_fields": len(source.header or ()), "max_line_bytes": MAX_LINE_BYTES},
        )
    (lines,) = con.execute("SELECT count(*) FROM claim_lines").fetchone()
    return rows, lines


def _check_sql(name: str) -> str:
    """A check's findings, typed as FINDINGS says."""
    columns = ", ".join(f"CAST({_ident(n)} AS {t}) AS {_ident(n)}" for n, t in FINDINGS)
    body = CHECKS[name].sql().strip().rstrip(";")
    # the newline before ')' keeps a trailing comment in the file from swallowing it
    return f"SELECT {columns} FROM (\n{body}\n)"


def _findings_sql(names) -> str:
    """One SELECT: the input findings and those of each check, typed alike and sorted."""
    parts = ["SELECT * FROM scrub_input_findings"]
    for name in names:
        parts.append(f"SELECT *, NULL::BIGINT AS sort_row, NULL::INTEGER AS rule_order FROM {_ident('scrub_found_' + name)}")
    listed = ", ".join(_ident(n) for n, _ in FINDINGS)
    return (
        f"SELECT {listed} FROM (\n" + "\nUNION ALL BY NAME\n".join(parts) + "\n)\n"
        'ORDER BY claim_id NULLS LAST, line_number NULLS LAST, "check", related_line_number NULLS LAST, '
        "reference NULLS LAST, sort_row NULLS LAST, rule_order, reason"
    )


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
        *(f"{text(c)} AS {c}" for c in ("setting", "member_id", "provider_id")),
    ]
    return "SELECT\n    " + ",\n    ".join(select) + f"\nFROM {table}"


def _arrow(result):
    # execute() binds once; con.sql() would bind a second time to learn the schema
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        return result.to_arrow_table()


def _without_values(exc: Exception) -> str:
    """DuckDB's first line with quoted text left out: it may quote a claim value (PHI)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "'…'", first)[:300]


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'
