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
import errno
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from codesets import __version__
from codesets.errors import ConfigError, SystemFailure, WarehouseError
from codesets.warehouse.storage import fsync

MARKER = ".codesets-export.json"
MARKER_FORMAT = "codesets-export/1"
PARTITION_COLUMNS = ("source", "release_id")
_TMP = ".codesets-tmp-"  # .DIRNAME.codesets-tmp-XXXXXXXX: an export being written
_OLD = ".codesets-old-"  # .DIRNAME.codesets-old-XXXXXXXX: a previous export renamed aside
_SHOWN = 3  # foreign paths named in a refusal


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
    Raises ConfigError, before writing anything, when DIRECTORY cannot be used.
    """
    target = _target(directory)
    home = getattr(warehouse, "path", None)
    if home is not None and (target == Path(os.path.realpath(home)) or Path(os.path.realpath(home)) in target.parents):
        raise ConfigError(
            f"cannot export to {target}: it is inside the warehouse {home}, whose files codesets manages "
            "(and removes); choose a folder outside it"
        )
    _restore_aside(target)
    _check_target(target)
    _discard_stale(target)
    tmp, lock = _new_temp(target)
    try:
        relations = _write_relations(warehouse, tmp, target)
        _write_marker(tmp, relations)
        _swap_in(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # never hide the failure behind a cleanup one
            _discard(tmp)
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
    if not _plain(name) or name.startswith("."):
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


# --- the target folder ---------------------------------------------------------------


def _target(directory) -> Path:
    target = Path(os.path.realpath(Path(directory).expanduser()))
    parent = target.parent
    if target == parent:
        raise ConfigError(f"cannot export to {target}: choose a folder below it, e.g. {target / 'codesets-parquet'}")
    if not parent.is_dir():
        raise ConfigError(
            f"cannot export to {target}: its parent folder {parent} does not exist; "
            f"create it (mkdir -p {parent}) or choose another folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot export to {target}: no permission to create folders in {parent}; "
            "choose a folder you can write to"
        )
    return target


def _check_target(target: Path) -> None:
    """Refuse a DIR that is neither missing, empty nor a previous export with nothing added."""
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise ConfigError(
            f"cannot export to {target}: it is a file, not a folder; "
            "remove it or choose a new folder (the export creates it)"
        )
    if target.stat().st_dev != target.parent.stat().st_dev:
        raise ConfigError(
            f"cannot export to {target}: it is a mount point, and the export is renamed into place "
            f"from beside it; export into a folder inside it, e.g. {target / 'codesets-parquet'}"
        )
    entries = os.listdir(target)
    if not entries:
        return
    if MARKER not in entries:
        shown = ", ".join(sorted(entries)[:_SHOWN]) + (", ..." if len(entries) > _SHOWN else "")
        raise ConfigError(
            f"cannot export to {target}: the folder holds files that are not a codesets export "
            f"({shown}); choose a new or empty folder, or move those files out. Nothing was changed"
        )
    listed = _listed(target)
    if listed is None:
        raise ConfigError(
            f"cannot export to {target}: {target / MARKER} is not a codesets export marker; "
            "choose a new or empty folder. Nothing was changed"
        )
    foreign = sorted(_contents(target) - listed - {MARKER})
    if foreign:
        shown = ", ".join(foreign[:_SHOWN]) + (", ..." if len(foreign) > _SHOWN else "")
        raise ConfigError(
            f"cannot export to {target}: it holds a previous codesets export plus files it did not "
            f"write ({shown}); move those out of {target} or choose another folder. Nothing was changed"
        )


def _listed(folder: Path) -> set[str] | None:
    """The paths a folder's marker lists (relation folders and files), or None if unreadable."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        if marker.get("format") != MARKER_FORMAT:
            return None
        listed = set()
        for rel in marker["relations"]:
            name = rel["name"]
            if not _plain(name):
                return None
            listed.add(name)
            for file in rel["files"]:
                path = file["path"]
                head, _, tail = path.partition("/")
                if head != name or not _plain(tail):
                    return None
                listed.add(path)
        return listed
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _plain(name) -> bool:
    # A marker is a file in a user's folder: never let it name a path outside its own folder.
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def _contents(folder: Path) -> set[str]:
    found = set()
    for root, dirs, files in os.walk(folder):
        rel = os.path.relpath(root, folder)
        for entry in dirs + files:
            found.add(entry if rel == "." else f"{rel}/{entry}")
    return found


# --- temporary folders and the swap --------------------------------------------------


def _siblings(target: Path, kind: str) -> list[Path]:
    prefix = f".{target.name}{kind}"
    return sorted(target.parent / e for e in os.listdir(target.parent) if e.startswith(prefix))


def _new_temp(target: Path) -> tuple[Path, int]:
    """A new folder beside DIR, locked while this export runs so another export leaves it alone."""
    import fcntl

    while True:
        tmp = target.parent / f".{target.name}{_TMP}{secrets.token_hex(4)}"
        try:
            os.mkdir(tmp)
            break
        except FileExistsError:
            continue
    lock = os.open(tmp, os.O_RDONLY)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return tmp, lock


def _discard_stale(target: Path) -> None:
    """Remove what killed exports into DIR left beside it, unless an export still holds it."""
    import fcntl

    for stale in _siblings(target, _TMP) + _siblings(target, _OLD):
        if stale.is_symlink() or not stale.is_dir():
            continue
        lock = os.open(stale, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # another export is writing it right now
        else:
            _discard(stale)
        finally:
            os.close(lock)


def _restore_aside(target: Path) -> None:
    """Put back an export renamed aside by a swap that was killed before the new one went in."""
    if os.path.lexists(target):
        return
    for aside in reversed(_siblings(target, _OLD)):
        listed = _listed(aside)
        if listed is not None and not (_contents(aside) - listed - {MARKER}):
            os.rename(aside, target)
            return


def _discard(folder: Path) -> None:
    """Remove a folder this module created beside DIR.

    With a marker, it is a finished export (ours, or the previous one swapped out): remove
    only the paths the marker lists, and keep anything else, with the marker, where it is.
    Without one, it is a partial export that only this module ever wrote into.
    """
    if not os.path.lexists(folder):
        return
    listed = _listed(folder) if (folder / MARKER).is_file() else None
    if listed is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in sorted(listed, key=lambda p: -p.count("/")):  # files before their folders
        full = folder / path
        try:
            if full.is_dir() and not full.is_symlink():
                os.rmdir(full)
            else:
                os.unlink(full)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    if os.listdir(folder) == [MARKER]:
        os.unlink(folder / MARKER)
        os.rmdir(folder)


def _swap_in(tmp: Path, target: Path) -> None:
    _check_target(target)  # again: the user may have added something while we wrote
    if os.path.lexists(target):  # keep the folder's permissions; a new one has the umask's
        os.chmod(tmp, target.stat().st_mode & 0o7777)
    if not os.path.lexists(target) or not os.listdir(target):
        os.rename(tmp, target)  # rename(2) replaces an empty folder in one step
    else:
        if _exchange(tmp, target):
            old = tmp  # tmp now holds the previous export
        else:
            old = target.parent / f".{target.name}{_OLD}{secrets.token_hex(4)}"
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
        try:
            _discard(old)
        except OSError:
            pass  # the new export is in place; the next export removes what is left
    fsync(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # the filesystem or kernel cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    # COPY takes its target as a literal, not a parameter; the path is ours (a folder we made).
    return "'" + str(path).replace("'", "''") + "'"
