"""Warehouse storage: immutable Parquet data files behind small catalog generations.

A warehouse is a directory:

    PATH/.codesets-warehouse  marker written when the folder becomes a warehouse
    PATH/current.duckdb    symlink to the published generation (open it read-only)
    PATH/generations/      g000001.duckdb, ... : the catalog and the views, a few hundred KB each
    PATH/data/             <table>/<source>/<release_id>/<part>-<stamp>.parquet, never rewritten
    PATH/writer.lock       flock held by the one process publishing
    PATH/rejects/          CSV reports of refused loads
    PATH/tmp/spill/        scratch of the running load (spill files), emptied by the next writer

Publishing a release writes its own Parquet files, then a new generation: a fresh DuckDB
file holding the catalog rows of every release and the views, where the views ``maps``,
``code_rows``, ``edits`` and ``limits`` read exactly the data files the catalog lists. So a
publish costs the new release plus a catalog of a few hundred rows, whatever the history,
and the disk holds the data once. The generation is fsynced, renamed into place, and the
``current.duckdb`` link is swapped with ``os.replace``. A reader resolves the link once
per connection and keeps that generation (and its files) for the connection's life.
A failed or killed load leaves only files nothing references; the next writer removes them.

A writer deletes only what codesets writes: a folder that is neither empty nor marked as a
warehouse is refused before anything is created in it, a failed load removes the data files
it created itself (never those of the releases its runs reuse), and the cleaning of leftovers
touches only names of codesets' own patterns, so a file a person put into the folder stays.

Generations are written in DuckDB's storage format of version ``STORAGE_VERSION`` so that
the DuckDB CLI users install from the package index opens them; the views read the data
files by absolute path, so they work from any working directory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import re
import shutil
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from codesets import __version__
from codesets.core.errors import CodesetsError, ConfigError, NoWarehouse, SystemFailure, WarehouseBusy, WarehouseError
from codesets.core.text import shown

FORMAT = 2  # 1: one DuckDB file per generation holding all data (codesets 0.1)
STORAGE_VERSION = "v1.5.0"  # the oldest DuckDB that must open a generation (duckdb-cli 1.5.x)
KEEP_GENERATIONS = 3  # the newest generations, always kept
GRACE_SECONDS = 24 * 3600  # a generation superseded less than this long ago is kept too, with its data files
_TMP_PREFIX = ".tmp-"
MARKER = ".codesets-warehouse"  # written when a folder becomes a warehouse; cleaning needs it
# The names a writer gives its files; leftovers are recognised by these and nothing else.
_STAMP = r"\d{8}T\d{6}-[0-9a-f]{8}"
_DATA_FILE = re.compile(rf"[A-Za-z0-9._-]+-{_STAMP}\.parquet")
_TMP_DATA_FILE = re.compile(rf"{re.escape(_TMP_PREFIX)}[A-Za-z0-9._-]+-{_STAMP}\.parquet")
_TMP_GENERATION = re.compile(rf"{re.escape(_TMP_PREFIX)}\d+-g\d{{6}}\.duckdb(\.wal)?")
_TMP_LINK = re.compile(rf"{re.escape(_TMP_PREFIX)}link-\d+")
_BLOCK_SIZE = 16384


class DamagedGeneration(UserWarning):
    """The current generation cannot be read; an older intact one answers instead."""


class Warehouse:
    """A warehouse directory. Cheap to construct; touches the disk only when used."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).absolute()
        self.generations = self.path / "generations"
        self.data = self.path / "data"
        self.current_link = self.path / "current.duckdb"
        self.lock_file = self.path / "writer.lock"
        self.rejects_dir = self.path / "rejects"
        self.scratch = self.path / "tmp" / "spill"
        self.marker = self.path / MARKER

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    def current(self) -> Path | None:
        """The generation the link names, or None for an empty warehouse."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} is a file, not a warehouse directory; point --warehouse at a directory")
        try:
            target = os.readlink(self.current_link)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WarehouseError(
                f"{self.current_link} is not a codesets link ({exc.strerror}); "
                "point --warehouse at a codesets warehouse directory"
            ) from None
        return (self.current_link.parent / target).resolve()

    def connect(self, extra_directories=(), spill_memory: str | None = None):
        """A sandboxed read-only connection to the published generation.

        The connection reads the warehouse's data files and nothing else on disk (plus
        ``extra_directories``, which export writes into); it cannot write, attach, install
        or change its settings. Its generation stays the same for its whole life. With
        ``spill_memory`` (for the lock holder's own large queries) it uses at most that much
        memory and spills beyond it to PATH/tmp; otherwise it never writes to disk.
        """
        from codesets.warehouse import sandbox

        con, path = self._open_readable()
        _point_views_here(con, self)
        if spill_memory is not None:
            con.execute("SET memory_limit = ?", [spill_memory])
        sandbox.lock_down(con, [str(self.data), *map(str, extra_directories)],
                          temp_directory=str(self.scratch) if spill_memory is not None else None)
        return con

    def _open_readable(self):
        """The newest intact generation, opened read-only, and its path."""
        current = self.current()
        if current is None:
            raise NoWarehouse(
                f"no warehouse at {shown(self.path)}: run `codesets refresh --sample` or "
                "`codesets refresh DIR` first, or point --warehouse/CODESETS_WAREHOUSE at one"
            )
        if not current.exists():
            problem = f"{self.current_link} names {current.name}, which does not exist"
        else:
            con, problem = _open_generation(current)
            if con is not None:
                return con, current
        for older in sorted(self.generations.glob("g*.duckdb"), reverse=True):
            if older == current:
                continue
            con, _problem = _open_generation(older)
            if con is None:
                continue
            warnings.warn(
                DamagedGeneration(f"{problem}; reading the previous generation {older.name} instead "
                                  f"(loads are refused until that file is moved out of {shown(self.generations)})"),
                stacklevel=3,
            )
            return con, older
        raise WarehouseError(
            f"{problem}, and no older generation is intact: move every file out of {shown(self.generations)} "
            "(the data files stay), then load the releases again"
        )

    def is_warehouse(self) -> bool:
        """Whether the folder was made a warehouse by codesets (marked, or published before the marker)."""
        if self.marker.is_file():
            return True
        return self.current_link.is_symlink() or any(self.generations.glob("g*.duckdb"))

    def refuse_foreign(self) -> None:
        """Refuse a folder that is not empty and not a warehouse: it is someone else's.

        Everything a writer cleans (PATH/tmp/spill, unlisted data files) is cleaned on the belief
        that codesets wrote it, so nothing is created in a folder codesets did not make.
        """
        if self.path.is_symlink() and not self.path.exists():
            raise ConfigError(f"{shown(self.path)} is a symbolic link to nothing (or a loop of links); point "
                              "--warehouse (or CODESETS_WAREHOUSE) at a folder")
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{shown(self.path)} is not a folder; point --warehouse (or CODESETS_WAREHOUSE) at "
                              "a new or empty folder, or at a warehouse")
        if self.path.is_dir() and not self.is_warehouse() and any(self.path.iterdir()):
            raise ConfigError(
                f"{shown(self.path)} is not empty and not a codesets warehouse (no {MARKER} in it); nothing was "
                "changed: point --warehouse (or CODESETS_WAREHOUSE) at a new or empty folder, or at a warehouse"
            )

    def _claim_folder(self) -> None:
        """Make the folder a warehouse (new or empty) or check that it is one."""
        self.refuse_foreign()
        self.path.mkdir(parents=True, exist_ok=True)
        if not self.marker.is_file():
            self.marker.write_text(f"codesets warehouse, format {FORMAT}: codesets cleans what it writes here\n")

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """Hold the one-writer lock for the duration of a load.

        Whatever ends the block before the writer publishes (an error, Ctrl-C), the data files
        this writer created are removed, and only those.
        """
        self.current()  # refuse a file given as the warehouse before creating anything
        try:
            self._claim_folder()
            for folder in (self.generations, self.data, self.scratch):
                folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SystemFailure(f"cannot write the warehouse at {self.path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
                raise WarehouseBusy(
                    f"{self.path} is being refreshed by process {holder}; wait for it to "
                    "finish (readers are not affected) and run the command again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            writer = Writer(self)
            writer.remove_stale()
            try:
                yield writer
            except BaseException:
                writer.discard_unpublished()
                raise
        finally:
            os.close(fd)  # closing the descriptor releases the flock


class Writer:
    """What the lock holder may do: write data files and publish a new generation."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.published: Path | None = None  # the generation this writer made current, once it has
        self.created: list[Path] = []  # every data file this writer began, in order

    def discard_unpublished(self) -> None:
        """Remove the data files this writer created, unless a generation it published names them.

        Only ``created`` is touched: a cumulative part's catalog row also lists the data files of
        the release its runs reuse, and those belong to releases already published.
        """
        if self.published is not None:
            return
        data = self.warehouse.data
        for path in self.created:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            folder = path.parent  # the release folders this writer made, when it made them empty
            while folder != data and data in folder.parents:
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent
        self.created.clear()

    def remove_stale(self) -> None:
        """Temporary files left by a failed or killed load are garbage; nobody reads them.

        Only names a writer gives its own files are removed (see _DATA_FILE and friends).
        """
        wh = self.warehouse
        for tmp in wh.generations.iterdir():
            if _TMP_GENERATION.fullmatch(tmp.name):
                tmp.unlink(missing_ok=True)
        for tmp in wh.path.iterdir():
            if _TMP_LINK.fullmatch(tmp.name):
                tmp.unlink(missing_ok=True)
        for tmp in _own_data_files(wh, _TMP_DATA_FILE):
            tmp.unlink(missing_ok=True)
        shutil.rmtree(wh.scratch, ignore_errors=True)
        wh.scratch.mkdir(parents=True, exist_ok=True)
        self._remove_unreferenced_data()  # a load that failed after writing its files (disk full)

    def catalog(self) -> list[dict]:
        """The catalog rows of the published generation, the base of the next one.

        Readers fall back to an older generation when the current one is damaged; a writer
        must not, or the releases published since that older one would silently vanish from
        the next generation. A link whose generation was removed (moved aside by hand, which
        the refusal below suggests) builds on the newest intact one.
        """
        wh = self.warehouse
        current = wh.current()
        if current is None:
            return []
        if current.exists():
            con, problem = _open_generation(current)
            if con is None:
                older = sorted(p.name for p in wh.generations.glob("g*.duckdb") if p != current)
                back = f"go back to {older[-1]} (releases published after it must be loaded again)" if older else (
                    "start an empty warehouse (its releases must be loaded again)")
                raise WarehouseError(
                    f"{problem}; nothing was changed. Move that file out of {shown(wh.generations)} to {back}, "
                    "then run the command again"
                )
        elif not list(wh.generations.glob("g*.duckdb")):
            return []  # every generation was removed by hand: start anew
        else:
            con, _path = wh._open_readable()  # the current one was moved aside: build on the newest intact
        try:
            cursor = con.execute("SELECT * FROM release_catalog")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            con.close()

    def data_file(self, table: str, source: str, release_id: str, part: str) -> tuple[Path, Path]:
        """A temporary path to write a data file at, and the final path to rename it to."""
        folder = self.warehouse.data / table / source / release_id
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        final = folder / f"{part}-{stamp}.parquet"
        self.created.append(final)
        return folder / f"{_TMP_PREFIX}{final.name}", final

    def publish(self, catalog_rows: list[dict]) -> Path:
        """Write a generation whose catalog is exactly ``catalog_rows``, and make it current."""
        import duckdb

        wh = self.warehouse
        number = self._next_number()
        final = wh.generations / f"g{number:06d}.duckdb"
        tmp = wh.generations / f"{_TMP_PREFIX}{os.getpid()}-g{number:06d}.duckdb"
        con = None
        try:
            con = duckdb.connect(str(tmp), config={
                "storage_compatibility_version": STORAGE_VERSION,
                "default_block_size": str(_BLOCK_SIZE),  # a catalog is small: 16 KB blocks, not 256 KB
            })
            _write_generation(con, wh, number, catalog_rows)
            con.execute("CHECKPOINT")
            con.close()
            for row in catalog_rows:  # the data files must be on disk before the catalog names them
                for item in row["data_files"]:
                    fsync(wh.path / item["path"])
            fsync(tmp)
            os.replace(tmp, final)
            fsync(wh.generations)
            self._swap_link(final)
        except BaseException:
            if con is not None:
                con.close()
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)
            if _link_names(wh, final):
                self.published = final  # failed after the swap (an fsync): published all the same
            else:
                final.unlink(missing_ok=True)  # renamed but never current: no reader has it
            raise
        self.published = final
        try:
            self._collect_garbage()
        except (OSError, duckdb.Error, KeyboardInterrupt):
            pass  # published; what could not be collected now, the next writer collects
        return final

    def _next_number(self) -> int:
        numbers = [int(p.stem[1:]) for p in self.warehouse.generations.glob("g*.duckdb") if p.stem[1:].isdigit()]
        return max(numbers, default=0) + 1

    def _swap_link(self, final: Path) -> None:
        wh = self.warehouse
        tmp_link = wh.path / f"{_TMP_PREFIX}link-{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        os.symlink(os.path.relpath(final, wh.path), tmp_link)
        os.replace(tmp_link, wh.current_link)
        fsync(wh.path)

    def _collect_garbage(self) -> None:
        """Drop old generations, then every data file no kept generation lists.

        A reader's views open the data files when a query runs, not when it connects, so a
        connection keeps its snapshot only while its generation's files stay. Kept: the
        newest KEEP_GENERATIONS, and every generation superseded less than GRACE_SECONDS
        ago (a scrubber holding a connection for a day keeps answering as it started).
        """
        import time

        wh = self.warehouse
        published = sorted(wh.generations.glob("g*.duckdb"))
        now = time.time()
        for index, generation in enumerate(published):
            successor = published[index + 1] if index + 1 < len(published) else None
            recent = successor is None or now - successor.stat().st_mtime < GRACE_SECONDS
            if index < len(published) - KEEP_GENERATIONS and not recent:
                generation.unlink(missing_ok=True)
        self._remove_unreferenced_data()

    def _remove_unreferenced_data(self) -> None:
        """Delete the data files no remaining generation names; nothing if one cannot be read.

        Parts never change, so the newest generation names almost every file on disk; older
        generations are opened only when some file is not named by the newest (after a drop,
        or a load that failed after writing), which keeps a publish from reading the history.
        """
        import duckdb

        wh = self.warehouse
        unnamed = {p.resolve() for p in _own_data_files(wh, _DATA_FILE)}
        for generation in sorted(wh.generations.glob("g*.duckdb"), reverse=True):
            if not unnamed:
                return
            try:
                con = duckdb.connect(str(generation), read_only=True)
                try:
                    rows = con.execute("SELECT d.path FROM release_catalog, UNNEST(data_files) AS t(d)").fetchall()
                finally:
                    con.close()
            except duckdb.Error:
                return  # a damaged generation may name any file: delete none
            unnamed -= {(wh.path / p).resolve() for (p,) in rows}
        for data_file in unnamed:
            data_file.unlink(missing_ok=True)
            folder = data_file.parent
            while folder != wh.data.resolve() and wh.data.resolve() in folder.parents:
                try:
                    folder.rmdir()  # only a folder emptied of our files goes
                except OSError:
                    break
                folder = folder.parent


def _own_data_files(wh: Warehouse, pattern: re.Pattern) -> list[Path]:
    """Files named as a writer names its data files: PATH/data/<table>/<source>/<release>/<name>."""
    tables = set(shape_columns())
    found = []
    for table in tables:
        for path in (wh.data / table).glob("*/*/*"):
            if pattern.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def _link_names(wh: Warehouse, generation: Path) -> bool:
    try:
        return wh.current() == generation.resolve()
    except CodesetsError:
        return False


def table_view_sql(root: Path, table: str, columns: list[tuple[str, str]], files: list[str]) -> str:
    """The view ``table``: the listed data files, or an empty relation of the shape's types."""
    names = ", ".join(_ident(name) for name, _type in columns)
    if not files:
        typed = ", ".join(f"CAST(NULL AS {sql_type}) AS {_ident(name)}" for name, sql_type in columns)
        return f"SELECT {typed} WHERE FALSE"
    paths = ", ".join(_literal(str(root / f)) for f in files)
    return f"SELECT {names} FROM read_parquet([{paths}])"


@functools.cache
def shape_columns() -> dict[str, list[tuple[str, str]]]:
    """The shared shapes' columns and types, from sql/shapes.sql (read once per process)."""
    import duckdb

    from codesets.core import sqlfiles

    scratch = duckdb.connect()
    try:
        scratch.execute(sqlfiles.shapes_sql())
        shapes: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in scratch.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() ORDER BY table_name, column_index"
        ).fetchall():
            shapes.setdefault(table, []).append((column, data_type))
        return shapes
    finally:
        scratch.close()


def _write_generation(con, wh: Warehouse, number: int, catalog_rows: list[dict]) -> None:
    from codesets import loaders
    from codesets.warehouse import catalog
    from codesets.core import sqlfiles

    con.execute("SET enable_progress_bar = false")
    con.execute("BEGIN")  # one commit for the few hundred catalog statements, not one each
    con.execute(sqlfiles.schema_sql())
    con.execute(
        "INSERT INTO warehouse_meta VALUES (?, ?, ?, now() AT TIME ZONE 'UTC', ?)",
        [FORMAT, str(wh.path), number, __version__],
    )
    catalog.insert(con, catalog_rows)
    catalog.insert_declarations(con, loaders.available())  # read by release_parts, ...
    for table, columns in shape_columns().items():
        # a cumulative part lists the earlier data files its runs point at: name each file once
        files = {d["path"] for row in catalog_rows for d in row["data_files"] if d["table"] == table}
        con.execute(f"CREATE VIEW {_ident(table)} AS {table_view_sql(wh.path, table, columns, sorted(files))}")
        purpose, column_comments = sqlfiles.shape_comments()[table]
        con.execute(f"COMMENT ON VIEW {_ident(table)} IS {_literal(purpose + ' One Parquet file per release part.')}")
        for column, text in column_comments.items():
            con.execute(f"COMMENT ON COLUMN {_ident(table)}.{_ident(column)} IS {_literal(text)}")
    sqlfiles.apply(con)
    con.execute("COMMIT")


def _point_views_here(con, wh: Warehouse) -> None:
    """A warehouse moved since it was written: read its data files where they are now.

    The views name the data files by absolute path. Temporary views of the same names,
    which this connection alone sees, read them from the new place; the next publish
    writes views with the new path for every reader.
    """
    (root,) = con.execute("SELECT root FROM warehouse_meta").fetchone()
    if root == str(wh.path):
        return
    shapes = shape_columns()
    for table, columns in shapes.items():
        files = [p for (p,) in con.execute(
            "SELECT DISTINCT d.path FROM release_catalog, UNNEST(data_files) AS t(d) WHERE d.\"table\" = ? ORDER BY 1", [table]
        ).fetchall()]
        con.execute(f"CREATE TEMP VIEW {_ident(table)} AS {table_view_sql(wh.path, table, columns, files)}")


def _open_generation(path: Path):
    """(connection, None) for an intact generation, (None, what is wrong) otherwise.

    Each connection is its own in-memory DuckDB with the generation attached read-only and
    made the default catalog: settings such as the sandbox's belong to one database
    instance, so two connections to one generation in a process must not share one.
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {_literal(str(path))} AS codesets (READ_ONLY)")
        con.execute("USE codesets")
        _check_format(con, path)
        return con, None
    except duckdb.Error as exc:
        con.close()
        return None, f"{path} cannot be read ({_first_line(exc)})"


def _check_format(con, path: Path) -> None:
    import duckdb

    try:
        (fmt,) = con.execute("SELECT format FROM warehouse_meta").fetchone()
    except duckdb.CatalogException:
        con.close()
        raise ConfigError(
            f"{path} was written by codesets 0.1 (one database file per generation); this version keeps "
            "data in Parquet files: move the warehouse aside and build it again with `codesets refresh`"
        ) from None
    if fmt != FORMAT:
        con.close()
        raise WarehouseError(f"{path} has warehouse format {fmt}; this codesets reads format {FORMAT}: upgrade codesets")


def os_failure(exc: BaseException, scratch: Path | None = None) -> SystemFailure | None:
    """A DuckDB error that is the operating system refusing (disk full, read-only), as ours.

    DuckDB reports a disk too full for its spill files as running out of memory: with
    ``scratch`` (the folder a load spills to) that is named, with the room left there.
    """
    if isinstance(exc, OSError) and exc.errno in _OS_REFUSALS:
        return SystemFailure(f"{os.strerror(exc.errno)}: {shown(str(exc.filename or ''))[:300]}".rstrip(": "))
    if scratch is not None and type(exc).__name__ == "OutOfMemoryException":
        try:
            free = shutil.disk_usage(scratch).free
        except OSError:
            free = None
        room = f"{free / 2**20:,.0f} MB free there" if free is not None else "its disk cannot be read"
        return SystemFailure(
            f"the load ran out of room for its scratch files in {shown(scratch)} ({room}); free some disk "
            "space on that drive (a large file spills a few times its size there) and load again"
        )
    text = str(exc)
    for reason in ("No space left on device", "Read-only file system", "Permission denied", "Input/output error",
                   "Disk quota exceeded"):
        if reason in text:
            return SystemFailure(f"{reason}: {_first_line(exc)[:300]}")
    return None


_OS_REFUSALS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EDQUOT}


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
