"""The one publish step every loader shares: staged rows into Parquet data files, by column name.

A loader's ``fill(table)`` is a SELECT over its staged relation naming some of the columns
of a shared shape (sql/shapes.sql). This module adds the provenance the loader need not
repeat (source, release_id), fills the columns the loader leaves out with NULL, casts every
column to the shape's type, and writes one Parquet file per part and table, under a
temporary name renamed into place once complete. Positional inserts per loader are gone:
a loader that names its columns in any order, or leaves some out, publishes the same shape.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from codesets.errors import CodesetsError
from codesets.warehouse.storage import Writer, shape_columns

_COMPRESSION = "zstd"


@dataclass(frozen=True)
class DataFile:
    table: str
    path: str  # relative to the warehouse root
    rows: int


def write_parts(con, writer: Writer, loader, release_id: str, parts: list[str]) -> dict[str, list[DataFile]]:
    """Write each part's rows of each shared table the loader fills; return the files by part."""
    shapes = shape_columns(con)
    written: dict[str, list[DataFile]] = {part: [] for part in parts}
    for table in loader.tables:
        select = _shaped(con, loader, table, shapes[table])
        for part in parts:
            tmp, final = writer.data_file(table, loader.source, release_id, part)
            try:
                (rows,) = con.execute(
                    f"COPY ({select}) TO {_literal(str(tmp))} (FORMAT parquet, COMPRESSION {_COMPRESSION})",
                    [loader.source, release_id, part],
                ).fetchone()
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            written[part].append(DataFile(table, str(final.relative_to(writer.warehouse.path)), rows))
    return written


def _shaped(con, loader, table: str, columns: list[tuple[str, str]]) -> str:
    """The loader's fill of ``table`` as the shape's columns, in order, typed, for one part."""
    fill = loader.fill(table)
    given = [d[0] for d in con.execute(f"SELECT * FROM ({fill}) AS f LIMIT 0").description]
    names = {name for name, _type in columns}
    extra = [c for c in given if c not in names]
    if extra or "part" not in given:
        raise CodesetsError(
            f"loader {loader.source}: fill({table!r}) must name columns of the shared table {table} "
            f"(sql/shapes.sql) including part; unknown: {', '.join(extra) or 'none'}"
        )
    selected = []
    for name, sql_type in columns:
        if name == "source":
            selected.append(f"CAST($1 AS {sql_type}) AS source")
        elif name == "release_id":
            selected.append(f"CAST($2 AS {sql_type}) AS release_id")
        elif name in given:
            selected.append(f'CAST(f."{name}" AS {sql_type}) AS "{name}"')
        else:
            selected.append(f'CAST(NULL AS {sql_type}) AS "{name}"')
    return f"SELECT {', '.join(selected)} FROM ({fill}) AS f WHERE f.part = $3"


def _literal(text: str) -> str:
    # COPY takes the path as a literal; it is ours (the warehouse folder and generated names).
    return "'" + text.replace("'", "''") + "'"
