"""The SNOMED CT to ICD-10-CM rule engine (I-MAGIC): point evaluation and batch evaluation in SQL."""

from __future__ import annotations


def lookup(warehouse=None):
    """A point evaluation of the SNOMED CT map: ``lookup().lookup("237145004", sex="F")`` -> [GroupAnswer].

    It keeps one read-only connection (one generation) open and the map in memory: close it
    with ``.close()`` or use it in a ``with`` block. ``warehouse`` as for ``codesets.query``.
    """
    from codesets.query import warehouse_of
    from codesets.snomed.evaluate import SnomedLookup

    return SnomedLookup(warehouse_of(warehouse).connect(), owns_connection=True)


def evaluate_concept(concept, sex=None, age=None, problems=(), on=None, warehouse=None, dotted: bool = False):
    """One concept in a patient context: a pyarrow Table, one row per map group
    (codesets.snomed.evaluate.COLUMNS); a concept the map lacks answers one row, status
    'no map records'. ``on`` dates the ICD-10-CM release that completes '?' targets (default
    today). ``dotted``: targets and completions as ICD-10-CM prints them, for display. A bad
    concept, sex, age, problem or date raises QueryError before the warehouse is opened; an id
    whose check digit is wrong or whose partition is not a concept's is a bad concept (or problem).
    """
    from codesets.query import warehouse_of
    from codesets.query.validity import as_date
    from codesets.snomed.evaluate import Context, SnomedLookup, answers_table, check_concept

    concept = check_concept(concept)
    Context.of(sex, age, problems or ())
    day = as_date(on)
    con = warehouse_of(warehouse).connect()
    try:
        answers = SnomedLookup(con).lookup(concept, sex=sex, age=age, problems=problems or (), on=day)
    finally:
        con.close()
    table = answers_table(concept, answers)
    return _dotted(table) if dotted else table


def evaluate_file(path, warehouse=None, dotted: bool = False):
    """A CSV or Parquet file of problems (problem_id, concept, and optionally sex, age, problems
    as SCTIDs separated by |, on_date) evaluated in SQL: codesets.snomed.batch.COLUMNS.
    ``dotted``: targets as ICD-10-CM prints them, for display."""
    from codesets.query import warehouse_of
    from codesets.snomed.batch import evaluate_file as evaluate

    table = evaluate(warehouse_of(warehouse), path)
    return _dotted(table) if dotted else table


def _dotted(table):
    from codesets.core.codes import dotted

    return dotted(table, {"target": "icd10cm", "completions": "icd10cm"})  # the map's targets are ICD-10-CM
