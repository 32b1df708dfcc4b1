"""Run a pandera DataFrameModel inside DuckDB and return every failing row.

pandera holds the declaration (columns, dtypes, nullability, uniqueness and checks, next
to each loader); this module pushes it down: each check becomes a SQL predicate over
the staged relation, and one UNION ALL query returns the violating rows with their line
numbers. Nothing is materialised in pandas, so a file validates in about the time DuckDB
takes to scan it.

Row rules that involve several columns are declared once, in the model's Config, as
``sql_rules = {"rules": (Rule(...), ...)}``. The same rules run under pandera's own
pandas backend (see ``sql_rules`` below), which lets tests check that the push-down and
pandera agree on small frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

REPORT_COLUMNS = ("file", "line", "column", "value", "rule")


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

    if getattr(register_sql_rules, "done", False):
        return

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
        if column.unique:
            found.append(
                _Predicate(
                    name,
                    f"COUNT(*) OVER (PARTITION BY {ident}) > 1 AND {ident} IS NOT NULL",
                    "must be unique",
                )
            )
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


def failing_rows(con, relation: str, model):
    """Every failing row of ``relation`` as (file, line, column, value, rule) tuples."""
    return run(con, relation, model)[0]


def run(con, relation: str, model):
    """All checks of ``model`` over ``relation`` in one pass: (failures, notes).

    Both are lists of (file, line, column, value, rule) tuples sorted by file and line;
    notes come from rules declared with ``note=True``. ``relation`` must have
    ``source_file`` and ``line_no`` columns. Each row carries the list of what it broke,
    which is then unnested, so the data is read once whatever the number of checks.
    """
    found = predicates(model)
    if not found:
        return [], []
    entries, params = [], []
    for p in found:
        entries.append(
            f"{{'column': ?, 'value': CAST({_quote(p.column)} AS VARCHAR), 'rule': ?, "
            f"'note': {'TRUE' if p.note else 'FALSE'}, 'failing': COALESCE(({p.failing}), FALSE)}}"
        )
        params += [p.column, p.rule, *p.params]  # in the order the placeholders appear
    checks_list = ",\n                ".join(entries)
    sql = f"""
        WITH checked AS (
            SELECT source_file, line_no, list_filter([
                {checks_list}
            ], lambda c: c.failing) AS failures
            FROM {relation}
        ),
        failed AS (
            SELECT source_file, line_no, UNNEST(failures) AS f FROM checked WHERE len(failures) > 0
        )
        SELECT source_file AS file, line_no AS line, f."column", f.value, f.rule, f.note
        FROM failed
        ORDER BY file, line, f."column", f.rule
    """
    rows = con.execute(sql, params).fetchall()
    return [r[:5] for r in rows if not r[5]], [r[:5] for r in rows if r[5]]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
