"""The loader contract: what a source module declares, checked when loaders are discovered.

A loader is a module in ``codesets.loaders`` that binds ``LOADER`` to an object with the
members of ``Loader`` below. ``codesets.loaders.available()`` checks each one and names the
module and what it lacks, so a new source fails at discovery, not in the middle of a load.

The flow a loader takes part in (``codesets.warehouse.load``):

    claim(path)            for each file: the part of a release it holds (content, not name)
    stage(con, parts)      the files of the new parts into the relation ``staged``: one row per
                           input line, with source_file, line_no and part (DuckDB readers)
    model()                the pandera model ``staged`` must pass (checks.py runs it in DuckDB)
    notes(con)             quirks seen in ``staged`` that are loaded on purpose, one line each
    fill(table)            SELECT over ``staged`` giving the columns of a shared table by name;
                           the generic publish writes it as the part's Parquet data file
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol, runtime_checkable

# The shared shapes a loader may fill; their columns are in sql/shapes.sql.
SHARED_TABLES = ("maps", "code_rows", "edits", "limits", "relationships", "descriptions")

# A source, release or part name becomes a folder name under PATH/data: keep it plain.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Claim:
    """What a loader reads from one file: which part of a release it holds.

    ``part`` names the unit CMS ships and a release may gain later (a GEM direction such
    as ``icd9cm-icd10cm``, an NCCI setting such as ``practitioner``). ``release_id`` is what
    the file's name or content says, or None when it says nothing.
    """

    part: str
    release_id: str | None


@dataclass(frozen=True)
class StagedFile:
    """What one staged file held; recorded in the release catalog."""

    name: str
    part: str
    rows: int
    kind: str  # what the loader found inside, e.g. 'icd9cm>icd10cm'
    line_ending: str  # 'LF', 'CRLF', 'mixed' or 'none'
    sha256: str = ""
    bytes: int = 0


@dataclass(frozen=True)
class Sample:
    """A loader's bundled sample: hand-made files for trying the tool, never real history."""

    files: tuple[Path, ...]
    effective_from: date
    release_id: str = "sample"


@runtime_checkable
class Loader(Protocol):
    source: str  # `codesets load SOURCE`
    description: str  # one line of help
    tables: tuple[str, ...]  # the shared tables it fills (SHARED_TABLES)

    def claim(self, path: Path) -> Claim | None:
        """The part a file holds, from its content; None when the file is not this source's."""

    def effective_from(self, release_id: str) -> date | None:
        """The first date of service of a release, when its id implies it."""

    def model(self) -> type:
        """The pandera DataFrameModel of the relation ``staged``."""

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """Read the files of each new part into the relation ``staged``."""

    def fill(self, table: str) -> str:
        """A SELECT over ``staged`` with the columns of shared ``table``, by name."""

    def notes(self, con) -> list[str]:
        """Quirks in ``staged`` loaded on purpose, one readable line each."""

    def sample(self) -> Sample | None:
        """The bundled sample release, or None."""


def bundled_sample(source: str, suffix: str, effective_from: date) -> Sample:
    """The files ending in ``suffix`` of ``codesets/samples/<source>/``, as a loader's sample release."""
    from importlib import resources

    folder = resources.files("codesets") / "samples" / source
    files = sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(suffix))
    return Sample(files=tuple(files), effective_from=effective_from)


def check(loader: object) -> list[str]:
    """What ``loader`` lacks to honour the contract; empty when it is sound."""
    problems = []
    for name in ("source", "description", "tables"):
        if not hasattr(loader, name):
            problems.append(f"attribute {name!r}")
    for name in ("claim", "effective_from", "model", "stage", "fill", "notes", "sample"):
        if not callable(getattr(loader, name, None)):
            problems.append(f"method {name}()")
    if problems:
        return problems
    if not isinstance(loader.source, str) or not NAME.fullmatch(loader.source):
        problems.append(f"source {loader.source!r} is not a plain name ([A-Za-z0-9._-])")
    unknown = [t for t in loader.tables if t not in SHARED_TABLES]
    if not loader.tables or unknown:
        problems.append(f"tables {tuple(loader.tables)!r} must name shared tables of {SHARED_TABLES}")
    return problems
