"""The public Python face of the warehouse: connect, sandboxed SQL, validity, lookups, diff.

``connect()`` opens the warehouse read-only in one line; the other functions take a
``warehouse`` (a Warehouse or its path; by default the one --warehouse/CODESETS_WAREHOUSE or
the default location names). The SNOMED CT engine is ``codesets.snomed`` and the claim scrub
``codesets.scrub``; both build on this package.
"""

from __future__ import annotations

# The modules named like the functions below are imported first: importing a submodule later
# would rebind the package's name (``codesets.query.validity``) from the function to the module.
from codesets.query import translate as _translation, validity as _validities  # light: core only
from codesets.warehouse import sandbox
from codesets.core import sqlfiles
from codesets.warehouse.storage import Warehouse


def run_sql(warehouse: Warehouse, sql: str, params=None, timeout: float | None = None):
    """Run one read-only query; return an Arrow table.

    ``sandbox.run`` refuses anything but a query; ``warehouse.connect()`` hands over a
    read-only connection already confined by ``sandbox.lock_down`` to the warehouse's files.
    """
    sandbox.check_statement(sql)  # a refused statement is said before the warehouse is looked at
    with warehouse.connect() as con:
        return sandbox.run(con, sql, params=params, timeout=timeout)


def stream_sql(warehouse: Warehouse, sql: str, params=None, timeout: float | None = None, as_text: bool = False):
    """Run one read-only query; return a pyarrow RecordBatchReader, read batch by batch.

    The connection stays open until the reader is read to the end or closed. ``as_text``: values
    of the types Arrow cannot carry (TIMETZ, BIT, INTERVAL, ...: sandbox.TEXT_TYPES) come back
    as DuckDB's text of them, for printing (``codesets sql`` does this).
    """
    sandbox.check_statement(sql)
    con = warehouse.connect()
    return sandbox.stream(con, sql, params=params, timeout=timeout, on_close=con.close, as_text=as_text)


def releases(warehouse: Warehouse):
    """The releases with their parts and what each changed, oldest first per source."""
    return run_sql(warehouse, sqlfiles.query("release_listing"))


def connect(warehouse=None):
    """A read-only, sandboxed DuckDB connection to the published generation (``with`` closes it).

    ``codesets.connect().sql("SELECT * FROM gem_map LIMIT 5")``: the views of the warehouse,
    one generation for the connection's life, no writes, no files outside the warehouse.
    """
    return warehouse_of(warehouse).connect()


def warehouse_of(warehouse) -> Warehouse:
    """``warehouse`` as a Warehouse: one already, a path, or None for the configured default."""
    return _warehouse(warehouse)


def _warehouse(warehouse) -> Warehouse:
    from codesets.core.config import warehouse_path

    return warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse_path(warehouse))


def validity(codes, system=None, on=None, warehouse=None, dotted: bool = False):
    """Whether each code is valid and billable on a date of service; a pyarrow Table, in input order.

    ``codes`` is a list of codes (with ``system`` and one date ``on``, default today) or a pyarrow
    Table / pandas DataFrame with a column ``code`` and optional ``code_system`` and ``on_date``.
    Columns: codesets.query.validity.COLUMNS (status, valid, titles, window, successors...).
    ``dotted``: codes and successors as their systems print them (``R65.21``), for display.
    A bad ``system`` or ``on`` raises QueryError before the warehouse is opened.
    """
    if system is not None:
        _validities.check_system(system)
    day = _validities.as_date(on) if on is not None else None
    with _warehouse(warehouse).connect() as con:
        table = _validities.validity(con, codes, system, day)
    if dotted:
        from codesets.core.codes import dotted as shown

        systems = table.column("code_system").to_pylist()
        table = shown(table, {"code": systems, "successors": [_SUCCESSOR_SYSTEM.get(s, s) for s in systems]})
    return table


# A code's successors are of its own system, but an ICD-9 code's (from 2015-10-01) are the ICD-10
# candidates of its GEM (docs/codes.md).
_SUCCESSOR_SYSTEM = {"icd9cm": "icd10cm", "icd9pcs": "icd10pcs"}


def translate(codes, from_system: str, to_system: str, method: str = "forward", release: str | None = None,
              as_of=None, warehouse=None, dotted: bool = False):
    """GEM translation of codes, prefixes (``E11*``) and ranges (``I60-I66.1``); a pyarrow Table.

    One row per answer, combinations whole, no input dropped: codesets.query.translate.COLUMNS.
    ``method`` is forward, backward, both or multi-stage; ``release`` (an id) or ``as_of`` (a
    date of service) picks the GEM release, by default the current one. ``dotted``: source and
    target codes as their systems print them, for display. A malformed request raises
    QueryError before the warehouse is opened.
    """
    as_of = _translation.check_request(from_system, to_system, method, release, as_of)
    with _warehouse(warehouse).connect() as con:
        table = _translation.translate(con, codes, from_system, to_system, method=method, release=release,
                                       as_of=as_of)
    if dotted:
        from codesets.core.codes import dotted as shown

        table = shown(table, {"source_code": from_system, "target_codes": to_system})
    return table


def code_lookup(warehouse=None):
    """A point lookup for scrubbers: ``lookup("R65.21", "icd10cm", date)`` -> a Validity row.

    It keeps one read-only connection (one generation) open: close it with ``lookup.close()``
    or use it in a ``with`` block. A billable code answers from memory in microseconds.
    """
    from codesets.query.validity import CodeLookup

    return CodeLookup(_warehouse(warehouse).connect(), owns_connection=True)


def diff(source, a, b, warehouse=None):
    """What changed from release ``a`` to release ``b`` of ``source``, as a sorted pyarrow Table.

    ``source`` is gems, ncci_ptp or ncci_mue; the table has a ``change`` column and the columns
    of the view gem_changes, ptp_changes or mue_changes (without release_id and
    previous_release_id). ``a`` is read as the older release, whichever takes effect first.
    ``warehouse`` is a Warehouse or its path; by default the one CODESETS_WAREHOUSE or the
    default location names. Raises SourceUnknown or UsageError (codesets.core.errors) for a source
    or release it does not know, naming the known ones.
    """
    return diff_report(source, a, b, warehouse).table


def diff_report(source, a, b, warehouse=None):
    """``diff`` with what was compared: a codesets.query.changes.Diff with ``table``, ``parts``,
    ``notes`` (parts only one release has, releases given newest first) and ``summary()`` (one
    line per change type with its counts)."""
    from codesets.query import changes as diffing

    return diffing.diff(_warehouse(warehouse), source, a, b)
