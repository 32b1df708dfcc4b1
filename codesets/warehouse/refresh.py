"""Refresh: find the known source files in a directory (or the bundled samples) and load each release."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from codesets import loaders
from codesets.core.errors import CodesetsError, SystemFailure, UsageError
from codesets.core.text import shown
from codesets.warehouse import archives, catalog
from codesets.warehouse.catalog import LoadResult
from codesets.warehouse.load import load
from codesets.warehouse.storage import Warehouse


@dataclass
class RefreshReport:
    results: list[LoadResult] = field(default_factory=list)
    failures: list[tuple[str, CodesetsError]] = field(default_factory=list)  # (what, error)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)
    interrupted: bool = False  # Ctrl-C: what was published stays, nothing after it was loaded

    @property
    def ok(self) -> bool:
        return not self.failures


def refresh(warehouse: Warehouse, directory: str | Path | None = None, sample: bool = False, *,
            allow_empty: bool = False) -> RefreshReport:
    """Load every release found; parts already loaded byte for byte are reported unchanged.

    Each release is published atomically on its own; one that fails leaves the others loaded
    and the warehouse as it was before that release. A file without a data row fails its
    release unless ``allow_empty`` (see codesets.warehouse.load.load).
    """
    warehouse.refuse_foreign()  # one refusal for the folder, not one per release
    report = RefreshReport()
    with archives.Unpacker() as unpacker:  # members of the zips found, kept until every release is loaded
        if sample:
            for source, loader in sorted(loaders.available().items()):
                bundled = loader.sample()
                if bundled is not None and not report.interrupted:
                    _load_one(report, warehouse, unpacker, source, list(bundled.files), bundled.release_id,
                              bundled.effective_from, sample=True, allow_empty=allow_empty)
        if directory is not None and not report.interrupted:
            groups = _discover(Path(directory), report, unpacker)
            for (source, release), files in sorted(groups.items(), key=_release_order):
                if report.interrupted:
                    break
                _load_one(report, warehouse, unpacker, source, files, release, None, allow_empty=allow_empty)
    return report


def _load_one(report, warehouse, unpacker, source, files, release, effective_from, sample=False,
              allow_empty=False) -> None:
    try:
        with unpacker.naming_members():
            files = _one_per_name(report, unpacker, files)
            result = load(warehouse, source, files, release, effective_from, sample=sample, allow_empty=allow_empty)
    except CodesetsError as exc:
        report.failures.append((f"{source} {release}", exc))
        return
    result.notes[:0] = _read_from_archives(unpacker, files)
    report.results.append(result)
    report.interrupted = result.interrupted  # a Ctrl-C the load absorbed after publishing stops the refresh


def _one_per_name(report: RefreshReport, unpacker: archives.Unpacker, files: list[Path]) -> list[Path]:
    """A name once per release, as rows are traced by file name.

    The same bytes found twice (a zip and the files unzipped beside it) are read once and the
    copy reported; different bytes under one name refuse the release, naming both.
    """
    kept: dict[str, Path] = {}
    for path in files:
        first = kept.setdefault(path.name, path)
        if first is path:
            continue
        if catalog.file_sha256(first) != catalog.file_sha256(path):
            archives.refuse_same_names(unpacker, [first, path])
        report.skipped.append(_skipped(unpacker, path, f"the same bytes as {unpacker.label(first)}, read once"))
    return list(kept.values())


def _read_from_archives(unpacker: archives.Unpacker, files: list[Path]) -> list[str]:
    """One line per zip the release came from, naming the members read."""
    read: dict[Path, list[str]] = {}
    for path in files:
        member = unpacker.member(path)
        if member is not None:
            read.setdefault(member.archive, []).append(shown(member.name))
    return [f"{shown(archive)}: read {', '.join(names)}" for archive, names in read.items()]


def _skipped(unpacker: archives.Unpacker, path: Path, why: str) -> tuple[Path, str]:
    """A report line of a file not loaded: a member is reported under its zip."""
    member = unpacker.member(path)
    return (path, why) if member is None else (member.archive, f"member {shown(member.name)}: {why}")


def _discover(directory: Path, report: RefreshReport, unpacker: archives.Unpacker) -> dict[tuple[str, str], list[Path]]:
    """Group the files under ``directory``, and the members of its zips, by (source, release).

    Every loader is asked about each file. A zip that cannot be unpacked safely is a failure
    of its own; the rest of the folder still loads.
    """
    if not directory.is_dir():
        raise UsageError(f"{shown(directory)}: not a directory; name the folder that holds the source files")
    available = loaders.available()
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in _files(directory, report, unpacker):
        claims, problems = {}, []
        for source, loader in available.items():
            try:
                claim = loader.claim(path)
            except OSError as exc:
                problems.append(f"cannot read it ({exc.strerror})")
                break
            except CodesetsError as exc:
                problems.append(f"{source}: {unpacker.relabel(str(exc))}")
                continue
            if claim is not None:
                claims[source] = claim
        member = unpacker.member(path)
        given = shown(path) if member is None else shown(member.archive)
        if len(claims) > 1:
            names = " and ".join(sorted(claims))
            why = f"claimed by {names}: load it with `codesets load SOURCE {given}`"
            report.skipped.append(_skipped(unpacker, path, why))
        elif claims:
            (source, claim), = claims.items()
            if claim.release_id is None:
                why = f"looks like {source} but names no release: use `codesets load {source} --release ID`"
                report.skipped.append(_skipped(unpacker, path, why))
            else:
                groups.setdefault((source, claim.release_id), []).append(path)
                continue
        else:
            report.skipped.append(_skipped(unpacker, path, "; ".join(problems) or "not a known source format"))
        if member is not None:
            unpacker.discard(member)
    return groups


def _files(directory: Path, report: RefreshReport, unpacker: archives.Unpacker) -> Iterator[Path]:
    """The files under ``directory`` in name order, each zip replaced by its members."""
    for path, why in _walk(directory):
        if why is not None:
            report.skipped.append((path, why))
            continue
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            report.skipped.append((path, "the file name is not UTF-8; rename the file to load it"))
            continue
        if not archives.is_archive(path):
            yield path
            continue
        try:
            members = unpacker.unpack(path)
        except CodesetsError as exc:
            report.failures.append(("unzip", exc))
            continue
        report.skipped += [(archive, f"member {shown(name)}: {why}") for archive, name, why in unpacker.skipped
                           if archive == path]
        if not members and not any(archive == path for archive, _name, _why in unpacker.skipped):
            report.skipped.append((path, "an empty zip archive"))
        yield from (m.path for m in members)


def _walk(directory: Path) -> list[tuple[Path, str | None]]:
    """Every entry under ``directory`` in name order: (a regular file, None), or (anything else, why it is skipped).

    Nothing is opened before it is known to be a regular file: opening a named pipe waits
    for a writer, and a device may never end. Links are followed, to files and folders
    alike, wherever they point, as users link the files they downloaded in; a link to a
    folder that holds the link is a loop, reported and not followed, and a folder reached
    by two ways is read once.
    """
    top = directory.stat()
    found: list[tuple[Path, str | None]] = []
    seen: dict[tuple[int, int], Path] = {(top.st_dev, top.st_ino): directory}
    stack = [(directory, frozenset(seen))]  # a folder and the folders holding it: no recursion limit
    while stack:
        folder, holders = stack.pop()
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as exc:
            if folder == directory:
                raise SystemFailure(f"cannot read the folder {shown(directory)}: {exc.strerror or exc}") from None
            found.append((folder, f"cannot read the folder ({exc.strerror or exc})"))
            continue
        inner = []
        for name in names:
            path = folder / name
            try:
                info = os.stat(path)  # through links; never opens what it looks at
            except OSError as exc:
                found.append((path, _unreachable(path, exc)))
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((path, None))
            elif not stat.S_ISDIR(info.st_mode):
                found.append((path, _not_a_file(path, info.st_mode)))
            elif (key := (info.st_dev, info.st_ino)) in holders:
                found.append((path, "a symbolic link loop (a link to a folder that holds it); not followed"))
            elif key in seen:
                found.append((path, f"the same folder as {shown(seen[key])}, read once"))
            else:
                seen[key] = path
                inner.append((path, holders | {key}))
        stack += reversed(inner)  # depth first, in name order
    return sorted(found, key=lambda item: item[0])


def _unreachable(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop; not followed"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return "a broken symbolic link (what it names does not exist)"
    return f"cannot read it ({exc.strerror or exc})"


def _not_a_file(path: Path, mode: int) -> str:
    """Why a named pipe, a device or a socket is skipped; none is opened."""
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    return f"{'a symbolic link to ' if path.is_symlink() else ''}{kind}, not a regular file; not opened"


def _release_order(item):
    (source, release), _files = item
    start = loaders.get(source).effective_from(release)
    return (source, start or date.max, release)
