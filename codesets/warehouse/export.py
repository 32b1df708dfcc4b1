"""Export every table and view of the warehouse as Parquet, without ever harming user files.

Layout. ``DIR/<relation>/data_<n>.parquet``, one folder per base table and view of the
``main`` schema. A relation with ``source`` and ``release_id`` columns is written one file
per (source, release_id) pair, one with only ``release_id`` one file per release, any other
as one file; an empty relation still gets one (empty) file, so its schema can be read.
``source`` and ``release_id`` are VARCHAR and stay *inside* the files. The folders are
deliberately not named ``key=value``: Hive partition discovery types a folder value such as
``release_id=2018`` as an integer (DuckDB BIGINT, pyarrow int32, Spark int), so the same
column would read as an integer in one relation and a string in another, and pyarrow
refuses a column that is both in the files and in the folder names. Without such folders
every engine takes the types from the files. Each file's Parquet statistics (min = max for
the partition columns) let engines skip files on a filter, and ``DIR/.codesets-export.json``
(the marker) lists every file with its rows, source and release id, every relation's
columns and types, the codesets version and the time of the export.

Reading it (``release_id`` and ``source`` come back as strings in all three):

    DuckDB   SELECT * FROM read_parquet('DIR/gem_map/*.parquet') WHERE release_id = '2018'
             (``'DIR/gem_map/**/*.parquet'`` and ``hive_partitioning = true`` change nothing)
    pyarrow  pyarrow.dataset.dataset('DIR/gem_map', format='parquet')
             (``partitioning='hive'`` changes nothing); filter with ds.field('release_id') == '2018'
    Spark    spark.read.parquet('DIR/gem_map')

Safety. The whole export is written into a new folder beside DIR
(``.DIRNAME.codesets-tmp-XXXXXXXX``, same filesystem), through a DuckDB connection that may
write only there, and then renamed into place: onto a missing or empty DIR, or swapped with
a previous export (atomically where the OS can exchange two paths, else by renaming the old
one aside first) whose marker-listed paths are then removed. A DIR holding anything the
marker does not list, a DIR that is a file, or a parent folder that is missing or read-only
is refused before anything is written. A failure at any point leaves DIR as it was; the
next export into the same DIR removes what a killed run left beside it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from codesets import __version__
from codesets.core.errors import ConfigError, SystemFailure, WarehouseError
from codesets.warehouse import export_folder
from codesets.warehouse.export_folder import MARKER, MARKER_FORMAT
from codesets.warehouse.storage import fsync

PARTITION_COLUMNS = ("source", "release_id")


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to DIR: <relation>/data_<n>.parquet
    rows: int
    partition: dict[str, str]  # the one source and/or release_id the file holds


@dataclass(frozen=True)
class RelationExport:
    """One table or view as written: its folder is DIR/<name>/."""

    name: str
    rows: int
    partition_by: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) as read back from the files
    files: tuple[ExportedFile, ...]

    @property
    def layout(self) -> str:
        if not self.partition_by:
            return "one file"
        return "one file per " + " and ".join(self.partition_by)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    relations: list[RelationExport]


def export_parquet(warehouse, directory: str | os.PathLike) -> ExportResult:
    """Write every table and view under DIRECTORY as Parquet (see the module docstring).

    ``warehouse`` needs one method, ``connect(extra_directories=...)``, returning a read-only
    DuckDB connection that may write only into those directories.
    Raises ConfigError, before writing anything, when DIRECTORY cannot be used, and
    SystemFailure when the system refuses (a read-only folder, a full disk).
    """
    target = export_folder.target(directory)
    home = getattr(warehouse, "path", None)
    if home is not None and (target == Path(os.path.realpath(home)) or Path(os.path.realpath(home)) in target.parents):
        raise ConfigError(
            f"cannot export to {target}: it is inside the warehouse {home}, whose files codesets manages "
            "(and removes); choose a folder outside it"
        )
    try:
        export_folder.restore_aside(target)
        export_folder.check_target(target)
        export_folder.discard_stale(target)
        tmp, lock = export_folder.new_temp(target)
    except OSError as exc:  # a read-only folder or filesystem, a folder we may not list, ...
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(target) else ""
        raise SystemFailure(
            f"cannot export to {target}: {exc.strerror or exc}{where}; choose a folder you can write to. "
            "Nothing was changed"
        ) from None
    try:
        relations = _write_relations(warehouse, tmp, target)
        _write_marker(tmp, relations)
        export_folder.swap_in(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # never hide the failure behind a cleanup one
            export_folder.discard(tmp)
        if isinstance(exc, OSError):  # disk full, permissions changed meanwhile, ...
            raise SystemFailure(f"export to {target} failed: {exc}; {target} was left as it was") from exc
        raise
    finally:
        os.close(lock)
    return ExportResult(target, relations)


# --- writing -------------------------------------------------------------------------


def _write_relations(warehouse, tmp: Path, target: Path) -> list[RelationExport]:
    import duckdb

    written = []
    name = None
    try:
        with warehouse.connect(extra_directories=[str(tmp)]) as con:
            relations = con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY table_name"
            ).fetchall()
            for (name,) in relations:
                written.append(_write_relation(con, name, tmp))
    except (duckdb.Error, OSError) as exc:
        where = f" while writing {name}" if name else ""
        # Disk full or a folder gone is the system's doing; any other database error means
        # the warehouse cannot produce that relation.
        system = isinstance(exc, (OSError, duckdb.IOException, duckdb.PermissionException))
        raise (SystemFailure if system else WarehouseError)(
            f"export to {target} failed{where}: {exc}; {target} was left as it was"
        ) from exc
    return written


def _write_relation(con, name: str, tmp: Path) -> RelationExport:
    if not export_folder.plain(name) or name.startswith("."):
        raise WarehouseError(f"relation {name!r} cannot be a folder name; rename it to export it")
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()]
    partition = tuple(c for c in PARTITION_COLUMNS if c in columns)
    select = f"SELECT * FROM {_quote(name)}"
    if partition:  # one type for these columns in every relation, whatever the warehouse holds
        casts = ", ".join(f"CAST({_quote(c)} AS VARCHAR) AS {_quote(c)}" for c in partition)
        select = f"SELECT * REPLACE ({casts}) FROM {_quote(name)}"
    folder = tmp / name
    rows = 0
    if partition:
        keys = ", ".join(_quote(c) for c in partition)
        rows = con.execute(
            f"COPY ({select}) TO {_literal(folder)} (FORMAT parquet, PARTITION_BY ({keys}), "
            "HIVE_FILE_PATTERN false, WRITE_PARTITION_COLUMNS true)"
        ).fetchone()[0]
    if not partition or rows == 0:  # a partitioned COPY of no rows writes no file
        folder.mkdir(exist_ok=True)
        rows = con.execute(f"COPY ({select}) TO {_literal(folder / 'data_0.parquet')} (FORMAT parquet)").fetchone()[0]

    names = sorted(os.listdir(folder))
    paths = [str(folder / f) for f in names]
    schema = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [paths]).fetchall()
    values = "".join(f", any_value({_quote(c)})" for c in partition)
    per_file = {
        file: (n, dict(zip(partition, vals)))
        for file, n, *vals in con.execute(
            f"SELECT parse_filename(filename), COUNT(*){values} FROM read_parquet(?, filename = true) GROUP BY 1",
            [paths],
        ).fetchall()
    }
    files = tuple(ExportedFile(f"{name}/{f}", *per_file.get(f, (0, {}))) for f in names)
    return RelationExport(name, rows, partition, tuple((c[0], c[1]) for c in schema), files)


def _write_marker(tmp: Path, relations: list[RelationExport]) -> None:
    """The marker lists everything the export wrote: the next export may remove exactly that."""
    marker = {
        "format": MARKER_FORMAT,
        "codesets_version": __version__,
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "relations": [
            {
                "name": rel.name,
                "rows": rel.rows,
                "partition_by": list(rel.partition_by),
                "columns": [{"name": c, "type": t} for c, t in rel.columns],
                "files": [{"path": f.path, "rows": f.rows, **f.partition} for f in rel.files],
            }
            for rel in relations
        ],
    }
    for rel in relations:  # the files must be on disk before a rename can publish them
        for file in rel.files:
            fsync(tmp / file.path)
        fsync(tmp / rel.name)
    part = tmp / (MARKER + ".part")
    with open(part, "w", encoding="utf-8") as fh:
        json.dump(marker, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(part, tmp / MARKER)
    fsync(tmp)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    # COPY takes its target as a literal, not a parameter; the path is ours (a folder we made).
    return "'" + str(path).replace("'", "''") + "'"
