"""Run a pandera DataFrameModel inside DuckDB and return every failing row.

pandera holds the declaration (columns, dtypes, nullability, uniqueness and checks, next
to each loader); this module pushes it down: each check becomes a SQL predicate over
the staged relation, and one filtering pass returns the violating rows with their line
numbers. Nothing is materialised in pandas, so a file validates in about the time DuckDB
takes to scan it.

Row rules that involve several columns are declared once, in the model's Config, as
``sql_rules = {"rules": (Rule(...), ...)}``. The same rules run under pandera's own
pandas backend (see ``sql_rules`` below), which lets tests check that the push-down and
pandera agree on small frames.

Why not pandera's own in-database backend (``pandera.ibis``)? It was measured against this
module on a 4.5-million-row staged table (pandera 0.35, ibis 12). Its column checks return the
failing value and a row position, not the row, so they cannot name the file and line without a
second query that trusts row order; it runs several queries per check and pulls each failing
check's whole pass/fail column into pandas (1.8 to 2.8 s and 265 MB, against about 0.5 s here
with the prefilter); and its SQL escape hatch breaks under duckdb 2.0, so the SQL row rules
would have to be rewritten as ibis expressions. pandera stays the declaration; this module
stays the executor.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import NamedTuple

REPORT_COLUMNS = ("file", "line", "column", "value", "rule")
_REGISTERING = threading.Lock()


class Rule(NamedTuple):
    """A row rule: ``valid`` is a SQL boolean over the staged columns (NULL counts as valid).

    A rule with ``note=True`` does not refuse the row: it marks a quirk that is loaded on
    purpose and reported (the real files have some).
    """

    column: str
    valid: str
    message: str
    note: bool = False


@dataclass(frozen=True)
class _Predicate:
    column: str
    failing: str  # SQL that is TRUE for a failing row
    rule: str
    params: tuple = ()
    note: bool = False


def register_sql_rules() -> None:
    """Register the ``sql_rules`` check with pandera once (pandas backend: evaluate via DuckDB)."""
    import pandera.extensions as extensions

    with _REGISTERING:  # a load builds its model on a thread while a test (or another load) may too
        if getattr(register_sql_rules, "done", False):
            return
        _register(extensions)


def _register(extensions) -> None:
    @extensions.register_check_method(statistics=["rules"])
    def sql_rules(df, *, rules):
        import duckdb

        valid = " AND ".join(f"COALESCE(({r.valid}), TRUE)" for r in rules if not r.note) or "TRUE"
        import pandas as pd

        con = duckdb.connect()
        con.register("df", df)
        ok = con.sql(f"SELECT {valid} AS ok FROM df").df()["ok"].astype(bool).to_numpy()
        return pd.Series(ok, index=df.index)  # pandera maps failures back through the index

    register_sql_rules.done = True


def predicates(model) -> list[_Predicate]:
    """Translate a pandera DataFrameModel into SQL predicates that select failing rows."""
    schema = model.to_schema()
    found: list[_Predicate] = []
    for name, column in schema.columns.items():
        ident = _quote(name)
        if not column.nullable:
            found.append(_Predicate(name, f"{ident} IS NULL", "is required (not null)"))
        if column.unique:  # run() counts each value once, in a window beside the relation
            found.append(_Predicate(name, f"{_quote(_count_column(name))} > 1 AND {ident} IS NOT NULL", "must be unique"))
        for check in column.checks:
            predicate = _column_check(name, ident, check)
            if column.description:  # say what is expected in words, then the check itself
                predicate = replace(predicate, rule=f"{column.description} [{predicate.rule}]")
            found.append(predicate)
    for check in schema.checks:
        if check.name != "sql_rules":
            raise NotImplementedError(f"dataframe check {check.name!r} has no SQL form")
        for rule in check.statistics["rules"]:
            found.append(
                _Predicate(rule.column, f"NOT COALESCE(({rule.valid}), TRUE)", rule.message, note=rule.note)
            )
    return found


def _column_check(name: str, ident: str, check) -> _Predicate:
    stats = check.statistics
    label = check.error or check.name
    if check.name == "str_matches":
        # pandera's str_matches is re.match: anchored at the start only.
        return _Predicate(name, f"NOT regexp_matches({ident}, ?)", label, ("^(?:" + stats["pattern"] + ")",))
    if check.name == "str_length":
        low, high = stats.get("min_value"), stats.get("max_value")
        if stats.get("exact_value") is not None:
            low = high = stats["exact_value"]
        conditions = []
        params = []
        if low is not None:
            conditions.append(f"length({ident}) < ?")
            params.append(low)
        if high is not None:
            conditions.append(f"length({ident}) > ?")
            params.append(high)
        return _Predicate(name, " OR ".join(conditions), label, tuple(params))
    if check.name == "isin":
        return _Predicate(name, f"NOT list_contains(?, {ident})", label, (list(stats["allowed_values"]),))
    if check.name == "in_range":
        return _Predicate(
            name, f"NOT ({ident} BETWEEN ? AND ?)", label, (stats["min_value"], stats["max_value"])
        )
    raise NotImplementedError(f"check {check.name!r} on {name!r} has no SQL form yet")


VALUE_LIMIT = 200  # characters of a failing value kept in the report; a 10 MB line is cut here


@dataclass(frozen=True)
class Outcome:
    """What the checks found: failing rows are in the temp table ``check_results``."""

    failures: int  # rows x rules that refuse the load
    notes: list[tuple[str, str, int, int]]  # (file, rule, rows, first line) of each quirk loaded on purpose


def failing_rows(con, relation: str, model, limit: int | None = None):
    """Failing (file, line, column, value, rule) tuples of ``relation``, in file and line order."""
    run(con, relation, model)
    return report_rows(con, limit)


def report_rows(con, limit: int | None = None):
    """The failures of the last ``run`` as (file, line, column, value, rule) tuples."""
    sql = 'SELECT file, line, "column", value, rule FROM check_results WHERE NOT note ORDER BY file, line, "column", rule'
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return con.execute(sql).fetchall()


def run(con, relation: str, model) -> Outcome:
    """All checks of ``model`` over ``relation`` in one pass; results in temp table ``check_results``.

    ``relation`` must have ``source_file`` and ``line_no`` columns. The filter (every
    predicate AND-ed) runs first, so the list of what a row broke is built only for the few
    rows that broke something; the data is read once whatever the number of checks. Rules
    declared with ``note=True`` mark quirks that are loaded and reported, not refused.
    """
    found = predicates(model)
    unique = [name for name, column in model.to_schema().columns.items() if column.unique]
    if unique:  # a window cannot stand in a WHERE clause: count the values beside the rows first
        counts = ", ".join(
            f"COUNT(*) OVER (PARTITION BY {_quote(name)}) AS {_quote(_count_column(name))}" for name in unique
        )
        relation = f"(SELECT *, {counts} FROM {relation})"
    entries, entry_params, conditions, condition_params = [], [], [], []
    for p in found:
        failing = f"COALESCE(({p.failing}), FALSE)"
        entries.append(
            f"{{'column': ?, 'value': left(CAST({_quote(p.column)} AS VARCHAR), {VALUE_LIMIT}), 'rule': ?, "
            f"'note': {'TRUE' if p.note else 'FALSE'}, 'failing': {failing}}}"
        )
        entry_params += [p.column, p.rule, *p.params]  # in the order the placeholders appear
        conditions.append(failing)
        condition_params += list(p.params)
    checks_list = ",\n                ".join(entries) or "NULL"
    any_failing = " OR ".join(conditions) or "FALSE"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE check_results AS
        WITH flagged AS (
            SELECT source_file, line_no, [
                {checks_list}
            ] AS checks
            FROM {relation}
            WHERE {any_failing}
        ),
        failed AS (
            SELECT source_file, line_no, UNNEST(list_filter(checks, lambda c: c.failing)) AS f FROM flagged
        )
        SELECT source_file AS file, line_no AS line, f."column" AS "column", f.value, f.rule, f.note
        FROM failed
        """,
        entry_params + condition_params,
    )
    failures = con.execute("SELECT COUNT(*) FROM check_results WHERE NOT note").fetchone()[0]
    notes = con.execute(
        "SELECT file, rule, COUNT(*), MIN(line) FROM check_results WHERE note GROUP BY file, rule ORDER BY file, rule"
    ).fetchall()
    return Outcome(failures, notes)


def _count_column(name: str) -> str:
    return f"__count_of_{name}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
