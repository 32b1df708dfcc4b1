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
