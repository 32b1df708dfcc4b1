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

from codesets.core.errors import CodesetsError
from codesets.warehouse.storage import Writer, shape_columns

_COMPRESSION = "zstd"


@dataclass(frozen=True)
class DataFile:
    table: str
    path: str  # relative to the warehouse root
    rows: int


CUMULATIVE = ("edits",)  # stored as what each release changed: codesets.warehouse.history


def write_parts(con, writer: Writer, loader, release_id: str, files: dict[str, list[str]],
                published: list[dict], effective_from) -> tuple[dict[str, list[DataFile]], dict[str, int], dict]:
    """Write each part's rows of each shared table the loader fills.

    ``files`` names the staged files of each part (their names are the part's source_file
    values); ``published`` is the source's catalog, where a cumulative shape finds the release
    to reuse rows from. Returns the data files by part, the rows each part publishes, and the
    history figures of each cumulative part.
    """
    from codesets.warehouse import history

    shapes = shape_columns()
    written: dict[str, list[DataFile]] = {part: [] for part in files}
    rows_by_part: dict[str, int] = {part: 0 for part in files}
    figures: dict[str, history.Written] = {}
    for table in loader.tables:
        for part, names in files.items():
            select = _shaped(con, loader, table, shapes[table], {
                "source": [loader.source], "release_id": [release_id], "part": [part], "source_file": names,
            })
            if table in CUMULATIVE:
                base = history.nearest_base(published, part, effective_from)
                data_files, figures[part] = history.write_part(
                    con, writer, select, shapes[table], loader.source, release_id, part, base
                )
                written[part] += data_files
                rows_by_part[part] += figures[part].rows
                continue
            data_file = write_data_file(con, writer, table, loader.source, release_id, part, select)
            written[part].append(data_file)
            rows_by_part[part] += data_file.rows
    return written, rows_by_part, figures


def write_data_file(con, writer: Writer, table: str, source: str, release_id: str, part: str, select: str,
                    params=None) -> DataFile:
    """COPY ``select`` into a new data file of ``table``: written under a temporary name, renamed once whole."""
    tmp, final = writer.data_file(table, source, release_id, part)
    try:
        (rows,) = con.execute(
            f"COPY ({select}) TO {_literal(str(tmp))} (FORMAT parquet, COMPRESSION {_COMPRESSION})", params
        ).fetchone()
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return DataFile(table, str(final.relative_to(writer.warehouse.path)), rows)


def _shaped(con, loader, table: str, columns: list[tuple[str, str]], provenance: dict[str, list[str]]) -> str:
    """The loader's fill of ``table`` as the shape's columns, in order, typed, for one part.

    Columns with a handful of values (the provenance, and any the loader hands over as an
    ENUM) are written as DuckDB ENUMs: Parquet still stores a plain string column (readers
    see VARCHAR), but DuckDB's writer takes a fraction of the time it takes for VARCHAR.
    """
    fill = loader.fill(table)
    described = con.execute(f"DESCRIBE SELECT * FROM ({fill}) AS f").fetchall()
    given = [row[0] for row in described]
    enums = {row[0] for row in described if str(row[1]).startswith("ENUM")}
    names = {name for name, _type in columns}
    extra = [c for c in given if c not in names]
    if extra or "part" not in given:
        raise CodesetsError(
            f"loader {loader.source}: fill({table!r}) must name columns of the shared table {table} "
            f"(sql/shapes.sql) including part; unknown: {', '.join(extra) or 'none'}"
        )
    selected = []
    for name, sql_type in columns:
        if name in provenance:
            values = sorted(set(provenance[name]))
            enum = f"ENUM({', '.join(_literal(v) for v in values)})"
            value = f'f."{name}"' if name in given else _literal(values[0])
            selected.append(f'CAST({value} AS {enum}) AS "{name}"')
        elif name in enums:
            selected.append(f'f."{name}"')
        elif name in given:
            selected.append(f'CAST(f."{name}" AS {sql_type}) AS "{name}"')
        else:
            selected.append(f'CAST(NULL AS {sql_type}) AS "{name}"')
    return f"SELECT {', '.join(selected)} FROM ({fill}) AS f WHERE f.part = {_literal(provenance['part'][0])}"


def _literal(text: str) -> str:
    # COPY takes the path as a literal, and an ENUM type its values: ours (the warehouse folder,
    # generated names) or checked names (sources, releases and parts match contract.NAME;
    # file names are quoted here).
    return "'" + text.replace("'", "''") + "'"
