"""Refresh: find the known source files in a directory (or the bundled sample) and load each release."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from codesets import loaders
from codesets.errors import CodesetsError
from codesets.warehouse.catalog import LoadResult
from codesets.warehouse.load import load
from codesets.warehouse.storage import Warehouse

SAMPLE_RELEASE = "sample"
SAMPLE_EFFECTIVE_FROM = date(2015, 10, 1)  # ICD-10 took effect in the US on October 1, 2015


@dataclass
class RefreshReport:
    results: list[LoadResult] = field(default_factory=list)
    failures: list[tuple[str, CodesetsError]] = field(default_factory=list)  # (what, error)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)

    @property
    def ok(self) -> bool:
        return not self.failures


def sample_files() -> list[Path]:
    folder = resources.files("codesets") / "samples" / "gems"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


def refresh(warehouse: Warehouse, directory: str | Path | None = None, sample: bool = False) -> RefreshReport:
    """Load every release found; a release already loaded byte for byte is reported unchanged.

    Each release is published atomically on its own; one that fails leaves the others loaded
    and the warehouse as it was before that release.
    """
    report = RefreshReport()
    if sample:
        _load_one(report, warehouse, "gems", sample_files(), SAMPLE_RELEASE, SAMPLE_EFFECTIVE_FROM)
    if directory is not None:
        groups = _discover(Path(directory), report)
        for (source, release), files in sorted(groups.items(), key=_release_order):
            _load_one(report, warehouse, source, files, release, None)
    return report


def _load_one(report, warehouse, source, files, release, effective_from) -> None:
    try:
        report.results.append(load(warehouse, source, files, release, effective_from))
    except CodesetsError as exc:
        report.failures.append((f"{source} {release}", exc))


def _discover(directory: Path, report: RefreshReport) -> dict[tuple[str, str], list[Path]]:
    if not directory.is_dir():
        raise CodesetsError(f"{directory}: not a directory; name the folder that holds the source files")
    available = loaders.available()
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        owner = next((m for m in available.values() if m.recognise(path)), None)
        if owner is None:
            report.skipped.append((path, "not a known source format"))
            continue
        release = owner.release_id(path)
        if release is None:
            report.skipped.append(
                (path, f"looks like {owner.SOURCE} but names no release: use `codesets load {owner.SOURCE} --release ID`")
            )
            continue
        groups.setdefault((owner.SOURCE, release), []).append(path)
    return groups


def _release_order(item):
    (source, release), _files = item
    start = loaders.get(source).effective_from(release)
    return (source, start or date.max, release)
