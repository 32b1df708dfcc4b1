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


def scrub(claims, checks=("ptp", "mue"), warehouse=None):
    """Scrub claim lines; return the findings as a pyarrow Table.

    ``claims`` is a CSV or Parquet path, a pyarrow Table or a pandas DataFrame with the
    claim-line columns of docs/scrub-rules.md (other columns are ignored: join the findings
    back on claim_id and line_number). ``checks`` names the checks besides ``input``, which
    always runs. ``warehouse`` is a Warehouse or its path; by default the one CODESETS_WAREHOUSE
    or the default location names.
    """
    from codesets.config import warehouse_path
    from codesets.warehouse import scrub as scrubbing

    if not isinstance(warehouse, Warehouse):
        warehouse = Warehouse(warehouse_path(warehouse))
    return scrubbing.scrub(warehouse, claims, checks).findings


def diff(source, a, b, warehouse=None):
    """What changed from release ``a`` to release ``b`` of ``source``, as a sorted pyarrow Table.

    ``source`` is gems, ncci_ptp or ncci_mue; the table has a ``change`` column and the columns
    of the view gem_changes, ptp_changes or mue_changes (without release_id and
    previous_release_id). ``a`` is read as the older release, whichever takes effect first.
    ``warehouse`` is a Warehouse or its path; by default the one CODESETS_WAREHOUSE or the
    default location names. Raises SourceUnknown or UsageError (codesets.errors) for a source
    or release it does not know, naming the known ones.
    """
    from codesets.config import warehouse_path
    from codesets.warehouse import diff as diffing

    if not isinstance(warehouse, Warehouse):
        warehouse = Warehouse(warehouse_path(warehouse))
    return diffing.diff(warehouse, source, a, b).table
