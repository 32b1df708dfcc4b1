"""Batch evaluation of the SNOMED CT to ICD-10-CM map in SQL: many problems, one statement.

``evaluate_batch(con, problems)`` answers, for each problem (a concept in a patient context),
what ``snomed_eval.evaluate`` answers for it: one row per map group, with the same status,
target, category, advice, rule, record_id, map_priority and needs. Its semantics are those of
the snomed_eval docstring; this module only moves the per-problem work into DuckDB
(sql/queries/snomed_batch.sql).

How: the distinct rule texts of the concepts asked about are parsed here once per call
(``snomed_rules.parse``) into a clause table (rule, clause_no, kind, concept, operator,
value_days); the problems are normalised (sex, age in days, problem list) into a second table;
both are registered as Arrow and the query joins them to the map view.

The hierarchy (view snomed_hierarchy) is walked in SQL as ``SnomedLookup`` walks it in memory:
a concept without records answers through each nearest mapped ancestor (``mapped_via``), and an
IFA clause finds the descendants of its concept among the problem's concept and problem list.
A '?' target's completions come from the ICD-10-CM release in force on the problem's
``on_date`` (default today), as ``SnomedLookup.lookup(..., on=)`` gives them.

Differences from ``SnomedLookup.lookup``, on purpose:

- A problem whose concept the map lacks (and no mapped ancestor) answers one row, status 'no
  map records', map_group NULL and needs empty (as ``answers_table`` and the CLI do;
  ``evaluate`` answers []).
- A rule that cannot be evaluated (an observable no context answers, an age bound without a
  unit of time; a syntax error is refused at load) raises ``QueryError`` when any problem of the
  batch names its concept or climbs through it, even where the Python walk would have stopped
  above that record.
- Ages are compared as DOUBLE days. Both sides are the exact day counts of snomed_eval
  (``Age.days``, year = 365.25 days) rounded once; an age whose rounding would tie a rule bound
  it differs from is moved one ulp to the side it lies on, so every comparison matches the
  exact one.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

from codesets.core.errors import QueryError
from codesets.core import snomed_rules as rules
from codesets.core import sqlfiles
from codesets.snomed.evaluate import SEX_OF, age_bound_days, concept_ids_ok, parse_age, parse_sex

COLUMNS = ("problem_id", "concept", "map_group", "status", "target", "mapped_via", "category", "advice", "rule",
           "record_id", "map_priority", "needs", "completions")

# the rules the batch may read: those of its concepts and, for a concept without records, of the
# ancestors up to the nearest mapped ones (the walk of snomed_batch.sql, without its depth)
_RULES_SQL = """
WITH RECURSIVE
mapped AS MATERIALIZED (SELECT DISTINCT referenced_component_id AS concept FROM snomed_icd10cm_map WHERE active),
links AS MATERIALIZED (SELECT concept_id, parent_id FROM snomed_hierarchy),
up(concept, depth) AS (
    SELECT DISTINCT concept, 0 FROM {problems}
    UNION
    SELECT h.parent_id, up.depth + 1 FROM up JOIN links h ON h.concept_id = up.concept
    WHERE up.depth < 64 AND up.concept NOT IN (SELECT concept FROM mapped)
)
SELECT m.map_rule, min(m.record_id), arg_min(m.referenced_component_id, m.record_id)
FROM snomed_icd10cm_map m
WHERE m.active AND m.referenced_component_id IN (SELECT concept FROM up)
GROUP BY m.map_rule
"""
_CLAUSES: dict[str, list[tuple]] = {}  # rule text -> clause rows, across calls


def _schemas():
    import pyarrow as pa

    problems = pa.schema([("position", pa.int64()), ("problem_id", pa.string()), ("concept", pa.string()),
                          ("sex", pa.string()), ("age_days", pa.float64()), ("problems", pa.list_(pa.string())),
                          ("on_date", pa.date32())])
    clauses = pa.schema([("rule", pa.string()), ("clause_no", pa.int32()), ("kind", pa.string()),
                         ("concept", pa.string()), ("operator", pa.string()), ("value_days", pa.float64())])
    return problems, clauses


def _clauses(rule_text: str, record_id: str, concept: str) -> list[tuple]:
    """Rows of the clause table for one rule text (the record named in errors), read once per process."""
    rows = _CLAUSES.get(rule_text)
    if rows is None:
        rows = _read_clauses(rule_text, record_id, concept)
        if len(_CLAUSES) < 100_000:
            _CLAUSES[rule_text] = rows
    return rows


def _read_clauses(rule_text: str, record_id: str, concept: str) -> list[tuple]:
    try:
        tree = rules.parse(rule_text or "")
    except rules.RuleSyntaxError as exc:
        raise QueryError(f"map record {record_id} of concept {concept}: {exc}") from None
    if isinstance(tree, rules.Always):
        return [(rule_text, 1, "otherwise" if tree.otherwise else "true", None, None, None)]
    rows = []
    for number, clause in enumerate(tree.clauses, 1):
        sctid = clause.concept.sctid
        if isinstance(clause, rules.FindingClause):
            rows.append((rule_text, number, "sex" if sctid in SEX_OF else "finding", sctid, None, None))
            continue
        rows.append((rule_text, number, "age", sctid, clause.operator, age_bound_days(clause, record_id, concept)))
    return rows


def _age_days(days: Fraction | None, bounds: dict[float, Fraction]) -> float | None:
    """``days`` as a DOUBLE that compares with every bound's DOUBLE as the exact values do."""
    if days is None:
        return None
    value = float(days)
    bound = bounds.get(value)
    if bound is not None and bound != days:
        value = math.nextafter(value, math.inf if days > bound else -math.inf)
    return value


_SCTID_PATTERN = "^[1-9][0-9]{5,17}$"


def _texts(table, name: str, n: int):
    """Column ``name`` as one Arrow string array (all NULL when the table lacks it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in table.column_names:
        return pa.nulls(n, pa.string())
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_floating(column.type):  # a float id loses digits; a float age is not an age
        raise QueryError(f"column {name} is of type {column.type}; give it as text")
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise QueryError(f"column {name} is of type {column.type}; give it as text") from None


def _refuse(row: int, column: str, what: str):
    """A bad input value, named by row and column only: the problems are patient data (PHI)."""
    raise QueryError(f"problems row {row + 1:,}, column {column}: {what}")


def _checked_concepts(values):
    """Trimmed SCTIDs; the first value that is not one is refused by row."""
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(values)
    good = pc.fill_null(pc.match_substring_regex(trimmed, _SCTID_PATTERN), False)
    first_bad = pc.index(good, False).as_py()
    if first_bad >= 0:
        _refuse(first_bad, "concept", "not a SNOMED CT concept id (6 to 18 digits, no leading zero)")
    ok = concept_ids_ok(trimmed)
    if not ok.all():
        _refuse(int(ok.argmin()), "concept",
                "not a SNOMED CT concept id (its check digit is wrong or its partition is not a concept's)")
    return trimmed


def _by_value(values, parse, arrow_type, column: str, what: str, null=None):
    """``parse`` applied once per distinct value of ``values`` (NULL gives ``null``), spread back;
    a value ``parse`` refuses is named by its first row and the column, not shown."""
    import pyarrow as pa
    import pyarrow.compute as pc

    distinct = pc.unique(values)
    parsed = []
    for value in distinct.to_pylist():
        try:
            parsed.append(null if value is None else parse(value))
        except QueryError:
            _refuse(pc.index(values, value).as_py(), column, what)
    result = pc.take(pa.array(parsed, arrow_type), pc.index_in(values, distinct))
    if null is not None:
        result = pc.fill_null(result, pa.scalar(null, arrow_type))
    return result


def _problem_lists(table, n: int):
    """The problems column as list<string>: '|'-separated text split, items trimmed and checked
    (an empty item is left for the SQL to skip)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "problems" not in table.column_names:
        return pa.nulls(n, pa.list_(pa.string()))
    column = table.column("problems").combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    try:
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            lists = pc.cast(column, pa.list_(pa.string()))
        else:
            lists = pc.split_pattern(pc.cast(column, pa.string()), "|")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise QueryError(f"column problems is of type {column.type}; give text (SCTIDs separated by |) "
                         "or a list of text") from None
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    items = pc.utf8_trim_whitespace(lists.values)
    filled = pc.fill_null(items, "")
    given = pc.not_equal(filled, "")
    good = pc.or_(pc.invert(given), pc.match_substring_regex(filled, _SCTID_PATTERN))
    first_bad = pc.index(good, False).as_py()
    if first_bad >= 0:
        row = pc.index(pc.greater(lists.offsets, first_bad), True).as_py() - 1
        _refuse(row, "problems", "an item is not a SNOMED CT concept id (6 to 18 digits, no leading zero)")
    given_items = pc.filter(filled, given)
    ok = concept_ids_ok(given_items)
    if not ok.all():  # the partition and check digit, as for the concept column
        bad_item = pc.index(filled, given_items[int(ok.argmin())]).as_py()
        row = pc.index(pc.greater(lists.offsets, bad_item), True).as_py() - 1
        _refuse(row, "problems",
                "an item is not a SNOMED CT concept id (its check digit is wrong or its partition is not a concept's)")
    return pa.ListArray.from_arrays(lists.offsets, filled, mask=lists.is_null())


def _as_table(problems):
    import pyarrow as pa

    if isinstance(problems, pa.Table):
        return problems
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(problems, pd.DataFrame):
        return pa.Table.from_pandas(problems, preserve_index=False)
    if isinstance(problems, list):
        return pa.Table.from_pylist(problems)
    raise QueryError("problems must be an Arrow table, a pandas DataFrame or a list of dicts")


def evaluate_batch(con, problems):
    """One row per (problem, map group): the I-MAGIC answer of each problem, as ``snomed_eval.evaluate``.

    ``problems``: columns problem_id, concept, and optionally sex ('F'/'M'/NULL), age ('30y',
    '20d', '6m', NULL), problems (other SCTIDs on the problem list: '|'-separated text or a
    list) and on_date (the date whose ICD-10-CM release completes '?' targets; default today).
    Returns a pyarrow Table of COLUMNS, in input order, then route (own records first, then each
    nearest mapped ancestor in SCTID order), then map_group.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from codesets.query.validity import as_date

    table = _as_table(problems)
    names = set(table.column_names)
    missing = {"problem_id", "concept"} - names
    if missing:
        raise QueryError(f"problems lacks the column(s) {', '.join(sorted(missing))}")
    n = table.num_rows
    ids = _texts(table, "problem_id", n)
    concepts = _checked_concepts(_texts(table, "concept", n))
    sexes = _by_value(_texts(table, "sex", n), parse_sex, pa.string(), "sex", "not F or M (leave it empty when unknown)")
    ages = _texts(table, "age", n)
    lists = _problem_lists(table, n)
    if "on_date" in table.column_names:
        dates = _by_value(table.column("on_date").combine_chunks(), as_date, pa.date32(), "on_date",
                          "not a date; write it as YYYY-MM-DD", null=as_date(None))
    else:
        dates = pa.array([as_date(None)] * n, pa.date32()) if n else pa.array([], pa.date32())

    problem_schema, clause_schema = _schemas()
    name = f"snomed_batch_problems_{id(table):x}"
    concepts_only = pa.table({"concept": pc.unique(concepts)})
    con.register(name, concepts_only)
    try:
        found = con.execute(_RULES_SQL.format(problems=name)).fetchall()
    finally:
        con.unregister(name)
    clause_rows, seen = [], set()
    for rule_text, record_id, concept in found:
        if rule_text in seen:
            continue
        seen.add(rule_text)
        clause_rows.extend(_clauses(rule_text, record_id, concept))
    bounds = {float(r[5]): r[5] for r in clause_rows if r[5] is not None}
    clause_table = pa.Table.from_pylist(
        [dict(zip(clause_schema.names, (*r[:5], None if r[5] is None else float(r[5])))) for r in clause_rows],
        schema=clause_schema)
    problem_table = pa.table({
        "position": pa.array(range(n), pa.int64()),
        "problem_id": ids,
        "concept": concepts,
        "sex": sexes,
        "age_days": _by_value(ages, lambda a: _age_days(parse_age(a).days, bounds), pa.float64(), "age",
                              "not an age; write a number and a unit: 20d, 6m, 2w or 30y"),
        "problems": lists,
        "on_date": dates,
    }, schema=problem_schema)

    suffix = f"_{id(problem_table):x}"
    sql = (sqlfiles.query("snomed_batch")
           .replace("snomed_batch_problems", "snomed_batch_problems" + suffix)
           .replace("snomed_batch_clauses", "snomed_batch_clauses" + suffix))
    con.register("snomed_batch_problems" + suffix, problem_table)
    con.register("snomed_batch_clauses" + suffix, clause_table)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            result = con.execute(sql).to_arrow_table()
        # in input order, own records before each ancestor's (SCTID order), then map group:
        # sorting three integers in Arrow costs less than DuckDB sorting the wide rows
        result = result.take(pc.sort_indices(result, [("position", "ascending"), ("route_order", "ascending"),
                                                      ("map_group", "ascending")]))
    finally:
        con.unregister("snomed_batch_problems" + suffix)
        con.unregister("snomed_batch_clauses" + suffix)
    schema = pa.schema([("problem_id", pa.string()), ("concept", pa.string()), ("map_group", pa.int32()),
                        ("status", pa.string()), ("target", pa.string()), ("mapped_via", pa.string()),
                        ("category", pa.string()), ("advice", pa.string()), ("rule", pa.string()),
                        ("record_id", pa.string()), ("map_priority", pa.int32()), ("needs", pa.list_(pa.string())),
                        ("completions", pa.list_(pa.string()))])
    return result.select(list(COLUMNS)).cast(schema)


def evaluate_file(warehouse, path) -> "object":
    """``evaluate_batch`` over a CSV (with a header row) or Parquet file of problems.

    The file is read by DuckDB on the warehouse's sandboxed connection, with the file's folder
    allowed for reading; CSV columns are read as text (problem_id, concept, sex, age, problems).
    """
    from pathlib import Path

    import duckdb

    from codesets.core.errors import SourceError, UsageError
    from codesets.core.text import shown
    from codesets.core.text import without_values

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{shown(path)}: no such file; give a CSV or Parquet file of problems")
    parquet = path.suffix.lower() == ".parquet"
    with warehouse.connect(extra_directories=[str(path.absolute().parent)]) as con:
        try:
            if parquet:
                table = con.read_parquet(str(path.absolute())).to_arrow_table()
            else:
                table = con.sql("SELECT * FROM read_csv($path, header = true, all_varchar = true)",
                                params={"path": str(path.absolute())}).to_arrow_table()
        except duckdb.Error as exc:  # one line, no values (the file may hold PHI)
            raise SourceError(f"cannot read {shown(path)} as {'Parquet' if parquet else 'CSV'} "
                              f"({without_values(exc)})") from None
        return evaluate_batch(con, table)
