"""Refresh: find the known source files in a directory (or the bundled samples) and load each release."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from codesets import loaders
from codesets.errors import CodesetsError, UsageError
from codesets.text import shown
from codesets.warehouse.catalog import LoadResult
from codesets.warehouse.load import load
from codesets.warehouse.storage import Warehouse


@dataclass
class RefreshReport:
    results: list[LoadResult] = field(default_factory=list)
    failures: list[tuple[str, CodesetsError]] = field(default_factory=list)  # (what, error)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)

    @property
    def ok(self) -> bool:
        return not self.failures


def refresh(warehouse: Warehouse, directory: str | Path | None = None, sample: bool = False) -> RefreshReport:
    """Load every release found; parts already loaded byte for byte are reported unchanged.

    Each release is published atomically on its own; one that fails leaves the others loaded
    and the warehouse as it was before that release.
    """
    report = RefreshReport()
    if sample:
        for source, loader in sorted(loaders.available().items()):
            bundled = loader.sample()
            if bundled is not None:
                _load_one(report, warehouse, source, list(bundled.files), bundled.release_id,
                          bundled.effective_from, sample=True)
    if directory is not None:
        groups = _discover(Path(directory), report)
        for (source, release), files in sorted(groups.items(), key=_release_order):
            _load_one(report, warehouse, source, files, release, None)
    return report


def _load_one(report, warehouse, source, files, release, effective_from, sample=False) -> None:
    try:
        report.results.append(load(warehouse, source, files, release, effective_from, sample=sample))
    except CodesetsError as exc:
        report.failures.append((f"{source} {release}", exc))


def _discover(directory: Path, report: RefreshReport) -> dict[tuple[str, str], list[Path]]:
    """Group the files under ``directory`` by (source, release), asking every loader of each file."""
    if not directory.is_dir():
        raise UsageError(f"{shown(directory)}: not a directory; name the folder that holds the source files")
    available = loaders.available()
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            report.skipped.append((path, "the file name is not UTF-8; rename the file to load it"))
            continue
        claims, problems = {}, []
        for source, loader in available.items():
            try:
                claim = loader.claim(path)
            except OSError as exc:
                problems.append(f"cannot read it ({exc.strerror})")
                break
            except CodesetsError as exc:
                problems.append(f"{source}: {exc}")
                continue
            if claim is not None:
                claims[source] = claim
        if len(claims) > 1:
            names = " and ".join(sorted(claims))
            report.skipped.append((path, f"claimed by {names}: load it with `codesets load SOURCE {shown(path)}`"))
        elif claims:
            (source, claim), = claims.items()
            if claim.release_id is None:
                report.skipped.append(
                    (path, f"looks like {source} but names no release: use `codesets load {source} --release ID`")
                )
            else:
                groups.setdefault((source, claim.release_id), []).append(path)
        else:
            report.skipped.append((path, "; ".join(problems) or "not a known source format"))
    return groups


def _release_order(item):
    (source, release), _files = item
    start = loaders.get(source).effective_from(release)
    return (source, start or date.max, release)
