"""The folder an export goes into: checked, written beside, swapped in; nothing of the user's touched.

``codesets.warehouse.export`` writes the Parquet; this module decides whether DIR may be
used (missing, empty, or a previous export whose marker lists everything in it), makes the
temporary folder beside it, swaps the finished export in (atomically where the OS can
exchange two paths, else by renaming the old one aside first) and removes only the paths a
marker lists. See the export module's docstring for the whole contract.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from pathlib import Path

from codesets.core.errors import ConfigError, SystemFailure
from codesets.warehouse.storage import fsync

MARKER = ".codesets-export.json"
MARKER_FORMAT = "codesets-export/1"
_TMP = ".codesets-tmp-"  # .DIRNAME.codesets-tmp-XXXXXXXX: an export being written
_OLD = ".codesets-old-"  # .DIRNAME.codesets-old-XXXXXXXX: a previous export renamed aside
_SHOWN = 3  # foreign paths named in a refusal


# --- the target folder ---------------------------------------------------------------


def target(directory) -> Path:
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
        # The system refuses (a read-only folder or filesystem): exit 74 as the README says,
        # not a usage error. The export is written beside DIR, so DIR's parent is what counts.
        raise SystemFailure(
            f"cannot export to {target}: {parent} is read-only (no permission to create folders in it); "
            "choose a folder you can write to"
        )
    return target


def check_target(target: Path) -> None:
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
            if not plain(name):
                return None
            listed.add(name)
            for file in rel["files"]:
                path = file["path"]
                head, _, tail = path.partition("/")
                if head != name or not plain(tail):
                    return None
                listed.add(path)
        return listed
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def plain(name) -> bool:
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


def new_temp(target: Path) -> tuple[Path, int]:
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


def discard_stale(target: Path) -> None:
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
            discard(stale)
        finally:
            os.close(lock)


def restore_aside(target: Path) -> None:
    """Put back an export renamed aside by a swap that was killed before the new one went in."""
    if os.path.lexists(target):
        return
    for aside in reversed(_siblings(target, _OLD)):
        listed = _listed(aside)
        if listed is not None and not (_contents(aside) - listed - {MARKER}):
            os.rename(aside, target)
            return


def discard(folder: Path) -> None:
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


def swap_in(tmp: Path, target: Path) -> None:
    check_target(target)  # again: the user may have added something while we wrote
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
            discard(old)
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
