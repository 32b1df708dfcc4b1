"""Claim scrubbing: claim lines in (CSV, Parquet, an Arrow table or a pandas DataFrame), findings out.

``scrub`` runs on one sandboxed connection (``Warehouse.connect``, with the claims file's
folder allowed for reading) and works in sets, never row by row in Python:

1. the claims become the temp view ``scrub_source``. A Parquet file or a table is scanned
   where it is, typed columns as they are (a DATE needs no parse); a CSV is read once by
   DuckDB, every column as text, into a temp table, and the rows it cannot read (ragged,
   not UTF-8, an open quote) land in DuckDB's rejects table ``scrub_csv_errors``. Only the
   claim-line columns are read: any other column stays in the input and can fail nothing;
2. the check ``input`` (``checks/input.py``) always runs first: it judges every row against the
   input rules, keeps the rows that pass in the temp table ``claim_lines`` (all the other checks
   read) and words the findings of those that fail;
3. each check asked for is one module of ``codesets.scrub.checks`` (found there, and in the
   folders ``CODESETS_SCRUB_CHECKS`` names, by ``checks.available()``) and one SELECT in
   ``sql/queries/scrub_<check>.sql``. Before they run, a check whose declared sources (``needs``)
   have no release in force gets a note (``Scrub.notes``, in the summary line): it ran against
   nothing. The findings of all of them come back as one Arrow table sorted by claim_id,
   line_number, check, related_line_number and reference, NULLs last (then input order, then
   rule order).

Findings hold claim_id and line_number as given, so they join back to the input (and its
other columns) on those two; a CSV row that could not be read has neither, and its reason
names its line in the file (and the column, where DuckDB says which), never any of its text:
the row may hold columns the scrub never reads (a name, a date of birth, an SSN). The SQL
files word every finding and hold every bound (units above 0 and at most MAX_UNITS, which
scrub_input_parse.sql reads as the variable scrub_max_units; line_number 1 to 2,147,483,647;
a finite date). An ``input`` finding quotes no value of the claim: it names the row and the
column and what is expected. The other checks name a procedure or diagnosis code only where it
has the shape of a code of its system (a value of any other shape may be a name or an SSN), and
no finding writes a date of service: "on the line's date of service" (docs/scrub-rules.md,
"Values in findings"). Claim values never appear in an error message (``without_values``).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from codesets.core.errors import SourceError, UsageError
from codesets.core.text import without_values, escape, shown
from codesets.scrub import checks
from codesets.scrub.claims import ClaimSource


INPUT = checks.INPUT
FINDINGS = checks.FINDINGS
_ident = checks.ident


@dataclass
class Scrub:
    """What one scrub found: the findings table and the counts the summary line gives."""

    findings: object  # pyarrow.Table with the FINDINGS columns
    lines: int  # input rows, CSV rows that could not be read included
    checked: int  # lines that passed the input rules and went through the checks
    checks: tuple[str, ...]  # the checks run besides input
    seconds: dict[str, float] = field(default_factory=dict)  # time of each stage: input, checks
    # each check whose declared sources (Check.needs) had no release in force: (check, those sources)
    unserved: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per check that had nothing to check against: 'ptp: no ncci_ptp release in force'."""
        return tuple(f"{check}: no {', '.join(sources)} release in force" for check, sources in self.unserved)

    def summary(self) -> str:
        """One line: lines read and checked, then findings by check and severity."""
        total = self.findings.num_rows
        head = (f"scrub: {self.lines:,} line{'s' if self.lines != 1 else ''} read, {self.checked:,} checked "
                f"({', '.join((INPUT, *self.checks))}); ")
        if not total:
            return head + "no findings" + self._noted()
        grouped = self.findings.group_by(["check", "severity"]).aggregate([("check", "count")])
        counts = {(c, s): n for c, s, n in zip(*(grouped.column(i).to_pylist() for i in range(3)))}
        parts = []
        for check in (INPUT, *self.checks, *sorted({c for c, _ in counts} - {INPUT, *self.checks})):
            found = [f"{counts[(c, s)]:,} {s}" for (c, s) in sorted(counts) if c == check]
            if found:
                parts.append(f"{check} {', '.join(found)}")
        return head + f"{total:,} finding{'s' if total != 1 else ''}: " + "; ".join(parts) + self._noted()

    def _noted(self) -> str:
        if not self.unserved:
            return ""
        return "; no release in force for " + ", ".join(f"{c} ({', '.join(s)})" for c, s in self.unserved)


def check_names(names) -> tuple[str, ...]:
    """The checks asked for (names in a list, or separated by commas), each once, in order.

    ``input`` always runs; naming it, or no check at all, is allowed. An unknown name is a UsageError.
    The checks are those ``codesets.scrub.checks`` discovers.
    """
    known = checks.names()
    if isinstance(names, str):
        names = names.split(",")
    asked = []
    for name in names:
        name = str(name).strip().lower()
        if name and name not in known and name != INPUT:
            raise UsageError(
                f"unknown check {escape(name, 40)!r}; the checks are {', '.join(known)} "
                f"({INPUT} always runs; --checks {INPUT} runs it alone)"
            )
        if name in known and name not in asked:
            asked.append(name)
    return tuple(asked)


def scrub(warehouse, claims, names=None) -> Scrub:
    """Scrub ``claims`` (a CSV or Parquet path, a pyarrow Table or a pandas DataFrame).

    ``names``: the checks besides ``input`` (None: the default checks, ``checks.default_names()``).
    Raises UsageError for an unknown check, a missing file or required columns the input
    lacks entirely, SourceError for a file that cannot be read at all; a bad row is a finding.
    """
    names = checks.default_names() if names is None else check_names(names)
    with ClaimSource.of(claims) as source:  # closing it removes any copy of the claims it made
        return _scrub(warehouse, source, names)


def _scrub(warehouse, source: ClaimSource, names) -> Scrub:
    import duckdb

    found = checks.available()
    con = warehouse.connect(extra_directories=source.directories)
    try:
        started = time.perf_counter()
        try:
            source.open(con)
            lines, checked = found[INPUT].stage(con, source)
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            raise SourceError(f"cannot read {source.name}: {without_values(exc)}") from None
        seconds = {INPUT: time.perf_counter() - started}
        started = time.perf_counter()
        try:
            unserved = _unserved(con, [found[name] for name in names])
            for name in names:  # each check on its own: one plan per check keeps each one lean
                if found[name].prepare is not None:
                    found[name].prepare(con)
                con.execute(f"CREATE TEMP TABLE {_ident('scrub_found_' + name)} AS\n{_check_sql(found[name])}")
            findings = _arrow(con.execute(_findings_sql(names)))
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            # a bug in a check's SQL, not the user's doing; its message may quote claim values
            raise RuntimeError(f"a scrub check failed ({without_values(exc)})") from None
        seconds["checks"] = time.perf_counter() - started
    finally:
        con.close()
    return Scrub(findings, lines, checked, names, seconds, unserved)


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


def _unserved(con, asked) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each check with the sources it needs of which no release serves (a check against nothing finds nothing)."""
    needed = sorted({source for check in asked for source in check.needs})
    if not needed:
        return ()
    serving = {source for (source,) in con.execute(
        "SELECT DISTINCT source FROM release_parts WHERE serves AND list_contains($needed, source)",
        {"needed": needed}).fetchall()}
    missing = ((check.name, tuple(s for s in check.needs if s not in serving)) for check in asked)
    return tuple((name, sources) for name, sources in missing if sources)


def _check_sql(check: checks.Check) -> str:
    """A check's findings, typed as FINDINGS says; a NULL severity is the check's declared one."""
    columns = ", ".join(
        f"CAST(coalesce({_ident(n)}, {_literal(check.severity)}) AS {t}) AS {_ident(n)}" if n == "severity"
        else f"CAST({_ident(n)} AS {t}) AS {_ident(n)}" for n, t in FINDINGS)
    body = check.sql().strip().rstrip(";")
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


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"
