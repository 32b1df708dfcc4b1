"""Warehouse storage: immutable DuckDB generations behind an atomically swapped link.

DuckDB lets one process write a database file, and a writer's lock keeps other processes
from opening it even read-only. So a refresh never writes the file readers use. The
warehouse is a directory:

    PATH/current.duckdb    symlink to the published generation (open it read-only)
    PATH/generations/      g000001.duckdb, g000002.duckdb, ... (never written once published)
    PATH/writer.lock       flock held by the one process publishing a release
    PATH/rejects/          CSV reports of refused loads

A refresh copies the current generation to a temporary file, writes the new release into
the copy, checkpoints and fsyncs it, renames it into place and swaps the symlink with
``os.replace``. Readers resolve the link once per connection, so each connection sees one
generation from start to end: the old release or the new one, never a mix, never a lock.
A load that fails or is killed leaves only a temporary file, which the next writer removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from codesets.errors import WarehouseBusy, WarehouseError

KEEP_GENERATIONS = 3  # old generations kept so readers that just resolved the link can open them
_TMP_PREFIX = ".tmp-"


class Warehouse:
    """A warehouse directory. Cheap to construct; touches the disk only when used."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.generations = self.path / "generations"
        self.current_link = self.path / "current.duckdb"
        self.lock_file = self.path / "writer.lock"
        self.rejects_dir = self.path / "rejects"

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    def current(self) -> Path | None:
        """The published generation file, or None for an empty warehouse."""
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

    def connect(self):
        """A read-only connection to the published generation.

        The generation a connection opens stays the same for its whole life, whatever
        a refresh publishes meanwhile.
        """
        import duckdb

        for _attempt in range(5):
            current = self.current()
            if current is None:
                raise WarehouseError(
                    f"no warehouse at {self.path}: run `codesets refresh --sample` or "
                    "`codesets refresh DIR` first, or point --warehouse/CODESETS_WAREHOUSE at one"
                )
            try:
                con = duckdb.connect(str(current), read_only=True)
                con.execute("SET enable_progress_bar = false")
                return con
            except duckdb.IOException:
                # A writer removed that generation after we resolved the link: look again.
                if current.exists():
                    raise
        raise WarehouseError(f"{self.path}: the current generation kept moving; try again")

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """Hold the one-writer lock for the duration of a refresh."""
        self.generations.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
                raise WarehouseBusy(
                    f"{self.path} is being refreshed by process {holder}; wait for it to "
                    "finish (readers are not affected) and run the load again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            writer = Writer(self)
            writer.remove_stale()
            yield writer
        finally:
            os.close(fd)  # closing the descriptor releases the flock


class Writer:
    """What the lock holder may do: open a new generation and publish it."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse

    def remove_stale(self) -> None:
        """Temporary files left by a failed or killed load are garbage; nobody reads them."""
        for tmp in self.warehouse.generations.glob(_TMP_PREFIX + "*"):
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def new_generation(self) -> Iterator[object]:
        """A writable copy of the current generation; published if the block succeeds.

        Any exception (or a kill) before the rename leaves the published warehouse as it was.
        """
        import duckdb

        wh = self.warehouse
        number = self._next_number()
        final = wh.generations / f"g{number:06d}.duckdb"
        tmp = wh.generations / f"{_TMP_PREFIX}{os.getpid()}-g{number:06d}.duckdb"
        current = wh.current()
        if current is not None:
            shutil.copyfile(current, tmp)
        con = duckdb.connect(str(tmp))
        con.execute("SET enable_progress_bar = false")
        try:
            yield con
            con.execute("CHECKPOINT")
            con.close()
        except BaseException:
            con.close()
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)
            raise
        _fsync(tmp)
        os.replace(tmp, final)
        _fsync(wh.generations)
        self._swap_link(final)
        self._collect_garbage(keep=final)

    def _next_number(self) -> int:
        numbers = [int(p.stem[1:]) for p in self.warehouse.generations.glob("g*.duckdb")]
        return max(numbers, default=0) + 1

    def _swap_link(self, final: Path) -> None:
        wh = self.warehouse
        tmp_link = wh.path / f"{_TMP_PREFIX}link-{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        os.symlink(os.path.relpath(final, wh.path), tmp_link)
        os.replace(tmp_link, wh.current_link)
        _fsync(wh.path)

    def _collect_garbage(self, keep: Path) -> None:
        # Readers hold open descriptors, so unlinking an old generation never breaks them.
        published = sorted(self.warehouse.generations.glob("g*.duckdb"))
        for old in published[:-KEEP_GENERATIONS]:
            if old != keep:
                old.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
