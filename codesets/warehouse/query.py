"""Read-only SQL over the warehouse views, for analysts and the CLI."""

from __future__ import annotations

from codesets.errors import QueryError
from codesets.warehouse.storage import Warehouse


def run_sql(warehouse: Warehouse, sql: str, params=None):
    """Run one read-only query; return an Arrow table. Writes fail: the connection is read-only."""
    import duckdb

    with warehouse.connect() as con:
        try:
            relation = con.sql(sql, params=params)
            if relation is None:  # a statement that returns nothing
                import pyarrow as pa

                return pa.table({})
            return relation.to_arrow_table()  # a SELECT runs here, so its errors land below
        except duckdb.Error as exc:
            raise QueryError(f"{exc} (views: SELECT view_name, comment FROM duckdb_views() WHERE NOT internal)") from None


def releases(warehouse: Warehouse):
    """The releases view, oldest first per source."""
    return run_sql(
        warehouse,
        "SELECT source, release_id, effective_from, effective_to, loaded_at, row_count, "
        "previous_release_id, rows_added, rows_removed FROM releases ORDER BY source, effective_from",
    )
