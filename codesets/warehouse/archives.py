"""Zip archives, as CMS publishes most releases, read as the plain files they hold.

``Unpacker`` extracts the plain-file members of each archive into one private folder in
the system temporary directory (``TMPDIR``), outside the warehouse: the cleanup a writer
runs on PATH/tmp when it takes the lock (``Writer.remove_stale``) cannot reach it while
the files are still being claimed or read. The folder goes when the load ends, on error
and Ctrl-C too. A process killed outright (kill -9, the OOM killer, a power cut) cannot
remove it, so the folder is named ``codesets-unzip-<pid>-<random>`` and holds a lock file
the process keeps locked (``flock``) for as long as it lives: each Unpacker starting
removes the folders of that name, with that lock file, whose lock nobody holds. A lock
dies with its process whatever reuses the pid, so a running load's files are never
touched, in this process or another, and nothing else in TMPDIR is. Loaders see plain
paths whose names are the members' base names, so the
rows of ccipra-v322r0-f1.TXT are traced to that name zipped or not, and the same bytes
loaded either way are one part.

Each member lands in a folder of its own named as its folder in the archive, or as the
archive without ``.zip`` for a top-level member: what unpacking by hand gives, and what
a loader reading the release from a folder name (GEMs in ``pcs_2018/``) expects.

An archive is refused whole, before anything is written, when a member's name could
escape the folder or cannot be shown (``..``, absolute, not UTF-8, control characters),
when a member is a link, a device or encrypted, when it uses a compression other than
stored or deflate (bzip2 and LZMA decompress without a bound on memory), or when it
declares more than ``MAX_TOTAL_BYTES``, more than the free space, or a compression
ratio above ``MAX_RATIO``. Declared sizes can lie, so the bytes are counted again while
they are written, in chunks. Folders and zips inside the zip are reported, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codesets.core.errors import CodesetsError, SourceError, SystemFailure
from codesets.core.text import escape, shown

MAX_TOTAL_BYTES = 8 << 30  # unpacked from one archive, whatever the free space
MAX_RATIO = 100  # uncompressed / compressed of one member; real CMS text files stay under 15
RATIO_GRACE_BYTES = 1 << 20  # a small member may compress as well as it likes
MAX_MEMBERS = 10_000
_CHUNK = 1 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive's end record
_UTF8_NAME = 0x800  # general purpose flag bit 11: the name is UTF-8
_ENCRYPTED = 0x1
_MSDOS_FOLDER = 0x10
_UNZIP_YOURSELF = "unzip it yourself (check where its files go) and give the files, or download it again from CMS"
_FOLDER_PREFIX = "codesets-unzip-"
_FOLDER_NAME = re.compile(r"codesets-unzip-[0-9]+-[a-z0-9_]+")  # what _new_folder's mkdtemp names
_LOCK_NAME = "codesets-unzip.lock"  # locked by the process unpacking into the folder while it lives


@dataclass(frozen=True)
class Member:
    """A plain file extracted from an archive."""

    archive: Path
    name: str  # as written in the archive, folders included
    path: Path  # the extracted copy in the private folder

    @property
    def label(self) -> str:
        """How messages name it: by its archive."""
        return f"{shown(self.archive)} member {shown(self.name)}"


class Unpacker:
    """One private folder of extracted members, removed on exit."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._lock: int | None = None  # the descriptor holding the folder's lock
        self._members: dict[Path, Member] = {}
        self.skipped: list[tuple[Path, str, str]] = []  # (archive, member name, why)

    def __enter__(self) -> Unpacker:
        remove_abandoned()
        return self

    def __exit__(self, *exc) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)  # the lock is held until the folder is gone
            self._folder = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def member(self, path: Path) -> Member | None:
        """The member ``path`` was extracted from, or None for a file given as it is."""
        return self._members.get(path)

    def label(self, path: Path) -> str:
        """A file for a message: a member named by its archive, any other file by its path."""
        found = self._members.get(path)
        return found.label if found is not None else shown(path)

    def discard(self, member: Member) -> None:
        """Free the space of a member nothing will read."""
        member.path.unlink(missing_ok=True)

    def relabel(self, text: str) -> str:
        """``text`` with each member's copy named by its archive instead (the copy goes with the folder)."""
        for path, found in self._members.items():
            text = text.replace(shown(path), found.label).replace(str(path), found.label)
        return text

    @contextlib.contextmanager
    def naming_members(self) -> Iterator[None]:
        """Errors raised inside name members by their archive (``relabel``)."""
        try:
            yield
        except CodesetsError as exc:
            if self._members and exc.args and isinstance(exc.args[0], str):
                exc.args = (self.relabel(exc.args[0]), *exc.args[1:])
            raise

    def unpack(self, archive: Path) -> list[Member]:
        """Extract the plain files of ``archive``; folders and nested zips go to ``skipped``.

        Raises SourceError for a damaged or hostile archive (nothing of it is kept) and
        SystemFailure when the system refuses to read it or to write the copies.
        """
        home, skipped = None, []
        try:
            with zipfile.ZipFile(archive) as zf:
                planned = _plan(archive, zf.infolist(), skipped)
                home = Path(tempfile.mkdtemp(prefix="a", dir=self._private_folder()))
                _check_room(archive, home, sum(info.file_size for info, _name, _folder in planned))
                members, written = [], 0
                for number, (info, name, folder) in enumerate(planned):
                    target = home / str(number) / folder / _base(name)
                    written += _extract(zf, info, archive, name, target, MAX_TOTAL_BYTES - written)
                    if _is_zip(target):  # a zip by its content, whatever its name
                        target.unlink()
                        skipped.append((archive, name, _NESTED))
                    else:
                        members.append(Member(archive, name, target))
        except BaseException as exc:
            if home is not None:
                shutil.rmtree(home, ignore_errors=True)
            ours = _as_ours(archive, exc)
            if ours is exc:
                raise
            raise ours from None
        self._members.update((m.path, m) for m in members)
        self.skipped += skipped
        return members

    def _private_folder(self) -> Path:
        if self._folder is None:
            try:
                self._folder, self._lock = _new_folder()
            except OSError as exc:
                raise _write_failure(Path(tempfile.gettempdir()) / _FOLDER_PREFIX, exc) from None  # names TMPDIR
        return self._folder


def _new_folder() -> tuple[Path, int | None]:
    """A private folder in TMPDIR and the open descriptor of its lock file, locked.

    The lock file is created and locked under another name, then renamed: a folder shows
    the lock file's name only once its lock is held, so no Unpacker starting meanwhile can
    take the folder for abandoned. Where the file system has no locks, the folder has no
    lock file (and no descriptor): never removed by another process, as before locks.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))
    claiming = folder / ".claiming"
    fd = None
    try:
        fd = os.open(claiming, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a file just made: nobody else can hold it
        except OSError:  # no locks on this file system (ENOLCK, EOPNOTSUPP): unpack all the same
            os.close(fd)
            fd = None
            claiming.unlink()
            return folder, None
        os.write(fd, f"{os.getpid()}\n".encode())  # for a person looking, not for the check
        os.rename(claiming, folder / _LOCK_NAME)  # the lock belongs to the open file and stays with it
    except BaseException:
        if fd is not None:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, fd


def remove_abandoned() -> list[Path]:
    """Remove the private folders in TMPDIR of unpacking processes that died; the folders removed.

    A folder goes only when its name is one ``_new_folder`` gives, it is a folder (not a
    link) owned by this user, and it holds a regular lock file nobody has locked. A process
    holds its lock until it ends, however it ends, so a running load's folder (this
    process's too: a lock taken through another open file conflicts) stays. Never fails:
    whatever cannot be checked stays.
    """
    removed = []
    try:
        with os.scandir(tempfile.gettempdir()) as found:
            entries = list(found)
    except OSError:
        return removed
    for entry in entries:
        if not _FOLDER_NAME.fullmatch(entry.name):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            # O_NONBLOCK: a pipe put there under the name must not hang the open
            fd = os.open(os.path.join(entry.path, _LOCK_NAME),
                         os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue  # not a folder of ours, or one still being made
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # held: its process is alive (or the lock cannot be checked here)
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
        finally:
            os.close(fd)
    return removed


def is_archive(path: Path) -> bool:
    """A zip by its name or, whatever its name, by its first bytes."""
    if path.name.lower().endswith(".zip"):
        return True
    return _is_zip(path)


def read_given(unpacker: Unpacker, paths: list[Path], loader) -> tuple[list[Path], list[str]]:
    """``paths`` with each archive replaced by the members ``loader`` claims, and report lines.

    A member the loader does not claim is a report line; an archive none of whose members
    it claims is a SourceError naming the archive. A name may come once: rows are traced
    by file name.
    """
    result: list[Path] = []
    notes: list[str] = []
    for path in paths:
        if not is_archive(path):
            result.append(path)
            continue
        members = unpacker.unpack(path)
        kept = []
        for member in members:
            try:
                claim = loader.claim(member.path)
            except OSError as exc:
                raise SystemFailure(f"cannot read {member.label}: {exc.strerror}") from None
            if claim is None:
                unpacker.discard(member)
                unpacker.skipped.append((path, member.name, f"not a {loader.source} file"))
            else:
                kept.append(member)
        skipped = [(n, why) for a, n, why in unpacker.skipped if a == path]
        if not kept:
            held = ", ".join(shown(n) for n, _why in skipped[:10]) + (" ..." if len(skipped) > 10 else "")
            raise SourceError(
                f"{shown(path)} holds no {loader.source} file ({loader.description})"
                + (f"; it holds {held}" if held else "; it is empty")
                + ": name the source its files belong to, or unzip it and give the files"
            )
        notes.append(f"{shown(path)}: read {', '.join(shown(m.name) for m in kept)}")
        notes += [f"{shown(path)}: skipped {shown(n)}: {why}" for n, why in skipped]
        result += [m.path for m in kept]
    refuse_same_names(unpacker, result)
    return result, notes


def refuse_same_names(unpacker: Unpacker, paths: list[Path]) -> None:
    """Two files of one load under one name cannot be told apart in the rows: refuse, naming both."""
    seen: dict[str, Path] = {}
    for path in paths:
        first = seen.setdefault(path.name, path)
        if first is not path:
            raise SourceError(
                f"{unpacker.label(first)} and {unpacker.label(path)} share the name {shown(path.name)}; rows are "
                "traced by file name: keep one of them, or rename one"
            )


_NESTED = "a zip inside the zip is not opened: unzip the outer one and give the inner zip"


def _plan(archive: Path, infos: list[zipfile.ZipInfo], skipped: list) -> list[tuple[zipfile.ZipInfo, str, str]]:
    """Check every member before writing any: the plain files to extract, with their name and folder.

    Folders and zips by name are added to ``skipped``; anything hostile refuses the archive.
    """
    if len(infos) > MAX_MEMBERS:
        raise SourceError(f"{shown(archive)} holds {len(infos):,} members, more than the {MAX_MEMBERS:,} codesets "
                          f"unpacks: {_UNZIP_YOURSELF}")
    planned, declared = [], 0
    for info in infos:
        name = _name(archive, info)
        where = f"{shown(archive)} member {shown(name)}"
        mode = info.external_attr >> 16 if info.create_system == 3 else 0  # 3: Unix, which keeps the file mode
        if stat.S_ISLNK(mode):
            raise SourceError(f"{where} is a symbolic link; codesets reads plain files only: {_UNZIP_YOURSELF}")
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise SourceError(f"{where} is a device, pipe or socket, not a file: {_UNZIP_YOURSELF}")
        if info.flag_bits & _ENCRYPTED:
            raise SourceError(f"{where} is encrypted; unzip the archive with its password and give the files")
        if info.is_dir() or stat.S_ISDIR(mode) or info.external_attr & _MSDOS_FOLDER:
            skipped.append((archive, name, "a folder (the files in it are read one by one)"))
            continue
        if _base(name).lower().endswith(".zip"):
            skipped.append((archive, name, _NESTED))
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SourceError(f"{where} is compressed with method {info.compress_type}; codesets unpacks stored "
                              f"and deflated members only: {_UNZIP_YOURSELF}")
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise SourceError(_bomb(where, info.file_size))
        declared += info.file_size
        if declared > MAX_TOTAL_BYTES:
            raise SourceError(_too_big(archive))
        planned.append((info, name, (_folders(name)[-1:] or [_stem(archive)])[0]))
    return planned


def _check_room(archive: Path, folder: Path, declared: int) -> None:
    """The free space of the disk the members go to: the other cap, since a load keeps them until it ends."""
    free = shutil.disk_usage(folder).free
    if declared > free:
        raise SystemFailure(f"{shown(archive)} unpacks to {_size(declared)} but {shown(tempfile.gettempdir())} has "
                            f"{_size(free)} free: free some space, or point TMPDIR at a folder with room")


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path, name: str, target: Path, budget: int) -> int:
    """Copy one member in chunks, counting what it really holds against what it declared; the bytes written."""
    where = f"{shown(archive)} member {shown(name)}"
    written = 0
    try:
        target.parent.mkdir(parents=True)
        out = open(target, "xb")
    except OSError as exc:
        raise _write_failure(target, exc) from None
    with out, _damaged_as(where), zf.open(info) as source:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                return written
            written += len(chunk)
            if written > info.file_size:
                raise SourceError(f"{where} holds more than the {info.file_size:,} bytes it declares: "
                                  + _UNZIP_YOURSELF)
            if written > RATIO_GRACE_BYTES and written > MAX_RATIO * max(info.compress_size, 1):
                raise SourceError(_bomb(where, written))
            if written > budget:
                raise SourceError(_too_big(archive))
            try:
                out.write(chunk)
            except OSError as exc:
                raise _write_failure(target, exc) from None


@contextlib.contextmanager
def _damaged_as(where: str) -> Iterator[None]:
    """A member whose header or data is damaged (CRC, deflate stream, cut short), named."""
    try:
        yield
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, struct.error) as exc:
        raise SourceError(f"{where} is damaged ({_reason(exc)}): download the archive again") from None


def _as_ours(archive: Path, exc: BaseException) -> BaseException:
    """What zipfile raises for a damaged archive or a refused read, as one line naming the archive."""
    if isinstance(exc, UnicodeDecodeError):  # zipfile decodes names marked UTF-8 as it opens the archive
        return SourceError(f"{shown(archive)}: a member name is marked UTF-8 but is not; codesets does not unpack "
                           f"it: {_UNZIP_YOURSELF}")
    damaged_offset = isinstance(exc, OSError) and exc.errno == errno.EINVAL  # a seek before the start of the file
    if damaged_offset or isinstance(exc, (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, zlib.error,
                                          struct.error)):
        return SourceError(f"{shown(archive)} is not a readable zip archive ({_reason(exc)}): it is damaged or cut "
                           "short; download it again")
    if isinstance(exc, OSError):
        return SystemFailure(f"cannot read {shown(archive)}: {exc.strerror or exc}")
    return exc


def _name(archive: Path, info: zipfile.ZipInfo) -> str:
    """The member's name as text, checked: one that could escape the folder or hide in a message is refused."""
    raw_name = info.orig_filename  # ZipInfo.filename is cut at a NUL
    if info.flag_bits & _UTF8_NAME:
        name = raw_name
    else:
        raw = raw_name.encode("cp437")  # what zipfile decoded without the flag; the round trip is exact
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(
                f"{shown(archive)} member {shown(raw)}: the name is not UTF-8; codesets does not unpack it: "
                + _UNZIP_YOURSELF
            ) from None
    where = f"{shown(archive)} member {shown(name)}"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SourceError(f"{where} has an absolute path; codesets does not unpack it: {_UNZIP_YOURSELF}")
    parts = _parts(name)
    if ".." in parts:
        raise SourceError(f"{where} climbs out of its folder ('..'); codesets does not unpack it: {_UNZIP_YOURSELF}")
    if not parts and not info.is_dir():  # "./" is a folder; "." alone names nothing
        raise SourceError(f"{where} has no file name: {_UNZIP_YOURSELF}")
    for part in parts:
        if not part.isprintable() or len(part.encode("utf-8")) > 255:
            raise SourceError(f"{where}: the name holds control or invisible characters, or is too long; codesets "
                              f"does not unpack it: {_UNZIP_YOURSELF}")
    return name


def _parts(name: str) -> list[str]:
    """The folders and file of a member name; a backslash separates too (archives made on Windows)."""
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _base(name: str) -> str:
    return _parts(name)[-1]


def _folders(name: str) -> list[str]:
    return _parts(name)[:-1]


def _stem(archive: Path) -> str:
    stem = archive.name[:-4] if archive.name.lower().endswith(".zip") else archive.name
    return stem if stem not in ("", ".", "..") else "archive"


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) in _ZIP_MAGIC
    except OSError:
        return False  # whoever reads it next reports why it cannot


def _too_big(archive: Path) -> str:
    return (f"{shown(archive)} unpacks to more than {_size(MAX_TOTAL_BYTES)}, the most codesets unpacks from one "
            f"archive: {_UNZIP_YOURSELF}")


def _bomb(where: str, size: int) -> str:
    return (f"{where} unpacks to {_size(size)}, more than {MAX_RATIO} times its compressed size (a zip bomb?); "
            f"codesets does not unpack it: {_UNZIP_YOURSELF}")


def _write_failure(target: Path, exc: OSError) -> SystemFailure:
    return SystemFailure(
        f"cannot unpack into {shown(target.parent)}: {exc.strerror or exc}; free some space, or point TMPDIR at a "
        "folder with room"
    )


def _reason(exc: BaseException) -> str:
    return escape(str(exc) or type(exc).__name__, 120)


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
