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

Besides the flow, a loader declares (``declares``, a ``Declaration``) what nothing central may
list: the code systems it holds and which it answers validity for, how its releases end (a
period rule per form of release id, and whether a release is a whole list replacing all
earlier parts), and how two of its releases are compared (``codesets diff``). Each publish
writes the declarations into the catalog tables ``source_declarations``,
``source_code_systems`` and ``source_periods`` (sql/schema.sql), which the views read; the
query layer reads them from the loaders.
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


# How a release of a source ends, besides the next release taking over (release_parts.sql):
PERIOD_KINDS = {
    "fiscal_year": "release id YYYY...: ends YYYY-09-30 (a US federal fiscal year)",
    "calendar_year": "release id YYYY...: ends YYYY-12-31",
    "quarter": "release id YYYY-MM...: ends three months after the first of that month, less a day",
}


@dataclass(frozen=True)
class CodeSystem:
    """A code system whose codes a source's rows carry (the code_system columns it fills)."""

    name: str  # e.g. 'icd10cm', 'hcpcs_modifier'
    validity: bool = False  # the source's releases answer `codesets code --system NAME`
    pattern: str | None = None  # shape of a canonical code; None: codesets.core.codes.PATTERNS[name]


@dataclass(frozen=True)
class Period:
    """A rule for the end of a release whose whole id matches ``release_ids`` (a regular expression)."""

    kind: str  # one of PERIOD_KINDS
    release_ids: str  # e.g. '(19|20)[0-9]{2}(-04)?'; the year is the id's first four characters


@dataclass(frozen=True)
class Comparison:
    """How two releases of a source are compared: its change view, its change types, its order."""

    view: str  # a view in sql/views whose first CTE is ``pairs`` (codesets.query.changes)
    part_columns: tuple[str, ...]  # the columns that name a row's part, e.g. ('setting',)
    changes: tuple[str, ...]  # every change type, in the order the summary says them
    order: tuple[str, ...]  # the sort of the result: a total order (the view's key is in it)
    unit: str  # what a row is, for the summary
    sql: str | None = None  # the change view's text, for a source outside the package; None: sql/views/VIEW.sql


@dataclass(frozen=True)
class Declaration:
    """What a source declares for the views and the query layer (written to the catalog at publish).

    ``whole_release``: a release is a whole list, whichever parts (renderings, halves) it came
    in, and the next release of the source replaces all of them; otherwise each part follows the
    same part of earlier releases (a GEM direction, an NCCI setting). ``periods``: the rules that
    end a release on its own (the first matching its id applies; none matching, or none declared:
    it stays open until the next release). ``diff``: None when its releases are not compared.
    ``renderings``: parts that are renderings of one list, richest first (code_releases).
    """

    code_systems: tuple[CodeSystem, ...] = ()
    whole_release: bool = False
    periods: tuple[Period, ...] = ()
    diff: Comparison | None = None
    renderings: tuple[str, ...] = ()  # parts that render one list, richest first: the first a release has answers


@runtime_checkable
class Loader(Protocol):
    source: str  # `codesets load SOURCE`
    description: str  # one line of help
    tables: tuple[str, ...]  # the shared tables it fills (SHARED_TABLES)
    declares: Declaration  # code systems, release periods, diff (see Declaration)

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
    for name in ("source", "description", "tables", "declares"):
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
    problems += check_declaration(loader.declares)
    return problems


def check_declaration(declares: object) -> list[str]:
    """What is wrong with a loader's ``declares``; empty when it is sound."""
    if not isinstance(declares, Declaration):
        return [f"declares {declares!r} is not a codesets.loaders.contract.Declaration"]
    problems = []
    names = [system.name for system in declares.code_systems]
    for system in declares.code_systems:
        if not isinstance(system, CodeSystem) or not NAME.fullmatch(system.name):
            problems.append(f"code system {system!r} is not a CodeSystem with a plain name")
        elif system.pattern is None:
            from codesets.core.codes import PATTERNS

            if system.validity and system.name not in PATTERNS:
                problems.append(f"code system {system.name}: answers validity but has no pattern (the shape of its codes)")
        else:
            try:
                re.compile(system.pattern)
            except re.error as exc:
                problems.append(f"code system {system.name}: pattern {system.pattern!r} is not a regular expression ({exc})")
    if len(set(names)) != len(names):
        problems.append(f"code systems {names!r} name one system twice")
    for period in declares.periods:
        if not isinstance(period, Period) or period.kind not in PERIOD_KINDS:
            problems.append(f"period {period!r} must be a Period of kind {', '.join(PERIOD_KINDS)}")
            continue
        try:
            re.compile(period.release_ids)
        except re.error as exc:
            problems.append(f"period {period.kind}: release_ids {period.release_ids!r} is not a regular expression ({exc})")
    if declares.diff is not None and not isinstance(declares.diff, Comparison):
        problems.append(f"diff {declares.diff!r} is not a Comparison")
    return problems
