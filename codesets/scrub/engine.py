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
names its line in the file (and the column, where DuckDB says which), never any of its text:
the row may hold columns the scrub never reads (a name, a date of birth, an SSN). The SQL
files word every finding and hold every bound (units above 0 and at most MAX_UNITS, which
scrub_input_parse.sql reads as the variable scrub_max_units; line_number 1 to 2,147,483,647;
a finite date): a reason quotes a code (claim_id, procedure_code, setting), never a number or
a date of service (docs/scrub-rules.md, "Values in findings"). Claim values never appear in
an error message (``without_values``).
"""

from __future__ import annotations

import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from codesets.core.errors import SourceError, UsageError
from codesets.core.text import without_values, escape, shown
from codesets.core import sqlfiles
from codesets.scrub.claims import (
    MAX_LINE_BYTES,
    MAX_UNITS,
    OPTIONAL,
    REQUIRED,
    ClaimSource,
)


def _prepare_validity(con) -> None:
    from codesets.query.validity import prepare_scrub

    prepare_scrub(con)


@dataclass(frozen=True)
class Check:
    """A check: its name in ``--checks`` and the SELECT in ``sql/queries/scrub_<name>.sql``."""

    name: str
    summary: str
    prepare: object = None  # called with the connection before the SELECT runs, when the check needs tables

    def sql(self) -> str:
        return sqlfiles.query(f"scrub_{self.name}")


# Every check `codesets scrub` knows, in one place. `input` is not here: it always runs.
CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        Check("ptp", "NCCI procedure-to-procedure edits: codes not billed together on one day"),
        Check("mue", "NCCI medically unlikely edits: units of a code on a line or a day"),
        Check("validity", "procedure and diagnosis codes valid and billable on the date of service",
              prepare=_prepare_validity),
    )
}
DEFAULT_CHECKS = ("validity", "ptp", "mue")
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
    names = check_names(checks)
    with ClaimSource.of(claims) as source:  # closing it removes any copy of the claims it made
        return _scrub(warehouse, source, names)


def _scrub(warehouse, source: ClaimSource, names) -> Scrub:
    import duckdb

    con = warehouse.connect(extra_directories=source.directories)
    try:
        started = time.perf_counter()
        try:
            source.open(con)
            lines, checked = _input_stage(con, source)
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            raise SourceError(f"cannot read {source.name}: {without_values(exc)}") from None
        seconds = {INPUT: time.perf_counter() - started}
        started = time.perf_counter()
        try:
            for name in names:  # each check on its own: one plan per check keeps each one lean
                if CHECKS[name].prepare is not None:
                    CHECKS[name].prepare(con)
                con.execute(f"CREATE TEMP TABLE {_ident('scrub_found_' + name)} AS\n{_check_sql(name)}")
            findings = _arrow(con.execute(_findings_sql(names)))
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            # a bug in a check's SQL, not the user's doing; its message may quote claim values
            raise RuntimeError(f"a scrub check failed ({without_values(exc)})") from None
        seconds["checks"] = time.perf_counter() - started
    finally:
        con.close()
    return Scrub(findings, lines, checked, names, seconds)


def check_out(path, claims=None, warehouse=None) -> Path:
    """Refuse an --out path scrub could not write (before anything is read): UsageError naming the fix.

    With ``warehouse``, a path in the warehouse's folder or below it (symbolic links followed)
    is refused too, as ``codesets export`` refuses it: codesets manages those files.
    """
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"--out {shown(path)}: name a .parquet or a .csv file; the suffix picks the format")
    if not path.absolute().parent.is_dir():
        raise UsageError(f"--out {shown(path)}: the folder {shown(path.absolute().parent)} does not exist")
    if path.is_dir():
        raise UsageError(f"--out {shown(path)} is a folder; name a file in it")
    home = getattr(warehouse, "path", None)
    if home is not None:
        home = Path(os.path.realpath(home))
        # the folder the file is written in, and the file itself where it is a link
        for where in (Path(os.path.realpath(path.absolute().parent)), Path(os.path.realpath(path))):
            if where == home or home in where.parents:
                raise UsageError(f"--out {shown(path)} is inside the warehouse {shown(home)}, whose files "
                                 "codesets manages; write the findings to a folder outside it")
    if isinstance(claims, (str, os.PathLike)) and path.exists() and Path(claims).exists() \
            and os.path.samefile(path, claims):
        raise UsageError(f"--out {shown(path)} is the claims file itself; name another file")
    return path


def write_findings(findings, path, warehouse=None) -> None:
    """Write the findings to ``path``: Parquet or CSV by its suffix, whole or not at all."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = check_out(path, warehouse=warehouse)
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


def _input_stage(con, source: ClaimSource) -> tuple[int, int]:
    """claim_lines and scrub_input_findings (with scrub_parsed and scrub_duplicates on the way),
    from scrub_source; returns the number of input rows and of claim lines.

    One pass judges and keeps every row; the rows that fail are then deleted from it. A clean
    file takes two short cuts: keys already in strictly increasing order cannot repeat (no
    grouping of every line), and with no row broken there is no second pass to word findings.
    """
    con.execute("SET VARIABLE scrub_max_units = $max_units", {"max_units": MAX_UNITS})  # read by the view
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
            {"header_fields": len(source.header or ()), "max_line_bytes": MAX_LINE_BYTES, "max_units": MAX_UNITS,
             "columns": _claim_columns(source)},
        )
    (lines,) = con.execute("SELECT count(*) FROM claim_lines").fetchone()
    return rows, lines


def _claim_columns(source: ClaimSource) -> list[str | None]:
    """The CSV header by position: a claim-line column's name, None for any other ([] for no CSV).

    scrub_input.sql names the column of an unread row by it; a column it does not know is named
    by its place alone (its header may say anything)."""
    if source.kind != "csv":
        return []
    return [name if name in REQUIRED or name in OPTIONAL else None
            for name in (str(n).strip().lower() for n in source.header)]


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


def _arrow(result):
    # execute() binds once; con.sql() would bind a second time to learn the schema
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        return result.to_arrow_table()



def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'
