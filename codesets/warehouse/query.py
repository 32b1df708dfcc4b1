"""Read-only SQL over the warehouse views, for analysts and the CLI."""

from __future__ import annotations

from codesets.warehouse import sandbox, sqlfiles
from codesets.warehouse.storage import Warehouse


def run_sql(warehouse: Warehouse, sql: str, params=None, timeout: float | None = None):
    """Run one read-only query; return an Arrow table.

    ``sandbox.run`` refuses anything but a query; ``warehouse.connect()`` hands over a
    read-only connection already confined by ``sandbox.lock_down`` to the warehouse's files.
    """
    sandbox.check_statement(sql)  # a refused statement is said before the warehouse is looked at
    with warehouse.connect() as con:
        return sandbox.run(con, sql, params=params, timeout=timeout)


def stream_sql(warehouse: Warehouse, sql: str, params=None, timeout: float | None = None):
    """Run one read-only query; return a pyarrow RecordBatchReader, read batch by batch.

    The connection stays open until the reader is read to the end or closed.
    """
    sandbox.check_statement(sql)
    con = warehouse.connect()
    return sandbox.stream(con, sql, params=params, timeout=timeout, on_close=con.close)


def releases(warehouse: Warehouse):
    """The releases with their parts and what each changed, oldest first per source."""
    return run_sql(warehouse, sqlfiles.query("release_listing"))


def _warehouse(warehouse) -> Warehouse:
    from codesets.config import warehouse_path

    return warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse_path(warehouse))


def validity(codes, system=None, on=None, warehouse=None):
    """Whether each code is valid and billable on a date of service; a pyarrow Table, in input order.

    ``codes`` is a list of codes (with ``system`` and one date ``on``, default today) or a pyarrow
    Table / pandas DataFrame with a column ``code`` and optional ``code_system`` and ``on_date``.
    Columns: codesets.warehouse.validity.COLUMNS (status, valid, titles, window, successors...).
    """
    from codesets.warehouse.validity import validity as answer

    with _warehouse(warehouse).connect() as con:
        return answer(con, codes, system, on)


def code_lookup(warehouse=None):
    """A point lookup for scrubbers: ``lookup("R65.21", "icd10cm", date)`` -> a Validity row.

    It keeps one read-only connection (one generation) open: close it with ``lookup.close()``
    or use it in a ``with`` block. A billable code answers from memory in microseconds.
    """
    from codesets.warehouse.validity import CodeLookup

    return CodeLookup(_warehouse(warehouse).connect(), owns_connection=True)


def snomed_lookup(warehouse=None):
    """A point evaluation of the SNOMED CT map: ``lookup.lookup("237145004", sex="F")`` -> [GroupAnswer].

    It keeps one read-only connection (one generation) open and the map in memory: close it
    with ``lookup.close()`` or use it in a ``with`` block.
    """
    from codesets.warehouse.snomed_eval import SnomedLookup

    return SnomedLookup(_warehouse(warehouse).connect(), owns_connection=True)


def scrub(claims, checks=None, warehouse=None):
    """Scrub claim lines; return the findings as a pyarrow Table.

    ``claims`` is a CSV or Parquet path, a pyarrow Table or a pandas DataFrame with the
    claim-line columns of docs/scrub-rules.md (other columns are ignored: join the findings
    back on claim_id and line_number). ``checks`` names the checks besides ``input``, which
    always runs (default: validity, ptp and mue). ``warehouse`` is a Warehouse or its path; by default the one CODESETS_WAREHOUSE
    or the default location names.
    """
    from codesets.warehouse import scrub as scrubbing

    checks = scrubbing.DEFAULT_CHECKS if checks is None else checks
    return scrubbing.scrub(_warehouse(warehouse), claims, checks).findings


def diff(source, a, b, warehouse=None):
    """What changed from release ``a`` to release ``b`` of ``source``, as a sorted pyarrow Table.

    ``source`` is gems, ncci_ptp or ncci_mue; the table has a ``change`` column and the columns
    of the view gem_changes, ptp_changes or mue_changes (without release_id and
    previous_release_id). ``a`` is read as the older release, whichever takes effect first.
    ``warehouse`` is a Warehouse or its path; by default the one CODESETS_WAREHOUSE or the
    default location names. Raises SourceUnknown or UsageError (codesets.errors) for a source
    or release it does not know, naming the known ones.
    """
    from codesets.warehouse import diff as diffing

    return diffing.diff(_warehouse(warehouse), source, a, b).table
