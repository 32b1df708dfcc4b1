"""CMS General Equivalence Mappings (GEMs): ICD-9-CM <-> ICD-10-CM and ICD-9-CM vol.3 <-> ICD-10-PCS.

The files are fixed width, ASCII, no header, LF or CRLF: a source code padded to 5
(ICD-9) or 7 (ICD-10) characters and a space, the target padded to the other width and
a space, then five flag digits (approximate, no map, combination, scenario, choice list).
No-map rows name a marker instead of a target: NoDx, NoPCS or NoI9.

Direction and code systems come from the content: the column where the target starts
says which side is ICD-9, and the codes on both sides say diagnosis or procedure. The
file name is only a tie-breaker for a file too small to tell.

Quirks of the real CMS files, loaded on purpose and listed by the view gem_anomalies:
gem_pcsi9.txt has 29 NoI9 targets under no-map flag 0 (read as no map); gem_i9pcs.txt
has two rows of 3584 with scenario 1, choice list 3 under combination flag 0 (read as
part of the scenario), 1651 scenario 2 with choice lists 1 and 3 but no 2 (its alternatives
take the lists present, in order), and both PCS files have 8628/0NDB0ZZ with choice list 1
alone. 2018_I10gem.txt has one lower-case code, 'v5889', stored upper case.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from codesets.core import codes
from codesets.core.errors import SourceError
from codesets.core.text import shown
from codesets.loaders import _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Comparison, Declaration
from codesets.core import sqlfiles

# What a code of each system may look like (canonical: undotted, upper case), as SQL wants it.
PATTERNS = {system: codes.PATTERNS[system].pattern for system in codes.GEM_SYSTEMS}
_LINE = re.compile(rb"^\S{2,7} +\S{2,7} +[0-9]{5}\r?$")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
_HEAD_LINES = 2000  # lines that decide a file's direction; every line is checked against it later
_SAMPLE_EFFECTIVE_FROM = date(2015, 10, 1)  # ICD-10 took effect in the US on October 1, 2015


class GemsLoader:
    """The GEM files: one part per direction, so a release may gain its procedure GEMs later."""

    source = "gems"
    description = "CMS General Equivalence Mappings, ICD-9 <-> ICD-10 diagnoses (CM) and procedures (PCS)"
    tables = ("maps",)
    declares = Declaration(
        code_systems=tuple(CodeSystem(s) for s in ("icd9cm", "icd10cm", "icd9pcs", "icd10pcs")),
        diff=Comparison(
            view="gem_changes",
            part_columns=("source_system", "target_system"),
            changes=("added", "removed"),
            order=("source_system", "target_system", "source_code", "target_code", "flags", "change", "source_file",
                   "line_no"),
            unit="GEM rows",
        ),
    )

    def claim(self, path: Path) -> Claim | None:
        """A GEM file's first line is two codes and five flag digits; its lines say the direction."""
        with open(path, "rb") as handle:
            first = handle.readline(64)
        if not _LINE.match(first.rstrip(b"\n")):
            return None
        source_system, target_system = _direction(path)
        return Claim(part=f"{source_system}-{target_system}", release_id=_release_from_name(path))

    def effective_from(self, release_id: str) -> date | None:
        """A GEM release named for fiscal year Y applies from October 1 of Y-1."""
        match = re.fullmatch(r"(?:FY)?((?:19|20)[0-9]{2})", release_id, flags=re.IGNORECASE)
        return date(int(match.group(1)) - 1, 10, 1) if match else None

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """The files of each direction as the relation ``staged``, one row per line.

        The lines are read once into a table (DuckDB's CSV reader). ``gem_rows`` cuts and types
        them (what the publish and the notes read); ``staged`` adds what only the checks need.
        Both are views, so each reader computes only the columns it asks for.
        """
        files, directions = [], []
        for part, paths in parts.items():
            if len(paths) > 1:
                names = " and ".join(shown(p) for p in paths)
                raise SourceError(
                    f"{names} both hold the {part} GEM; a release has one file per direction: "
                    "load them as separate releases"
                )
            source_system, target_system = part.split("-")
            layout = "icd9-source" if source_system.startswith("icd9") else "icd10-source"
            directions.append((len(directions), paths[0].name, part, source_system, target_system, layout))
            files.append(_lines.inspect(paths[0]))
        _lines.stage(con, "gem_raw", files)
        con.execute(sqlfiles.query("gems_layout"))
        con.execute(sqlfiles.query("gems_repeats"))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE gem_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "source_system VARCHAR, target_system VARCHAR, layout VARCHAR)"
        )
        con.executemany("INSERT INTO gem_files VALUES (?, ?, ?, ?, ?, ?)", directions)
        for system, pattern in PATTERNS.items():
            con.execute(f"SET VARIABLE gem_pattern_{system} = ?", [pattern])
        con.execute("CREATE OR REPLACE TEMP VIEW gem_rows AS " + sqlfiles.query("gems_rows"))
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("gems_stage"))
        return [
            StagedFile(
                name=item.path.name,
                part=part,
                rows=item.lines,
                kind=f"{source_system}>{target_system}",
                line_ending=item.line_ending,
            )
            for item, (_no, _name, part, source_system, target_system, _layout) in zip(files, directions)
        ]

    def fill(self, table: str) -> str:
        return sqlfiles.query("gems_fill_maps")

    def notes(self, con) -> list[str]:
        """Quirks the row rules cannot see: whole scenarios whose choice lists skip a number."""
        return [
            f"{file}: {count} combination scenario(s) whose choice lists skip a number, first at line "
            f"{first} (alternatives use the lists present, in order); see view gem_anomalies"
            for file, count, first in con.execute(sqlfiles.query("gems_skipped_choice_lists")).fetchall()
        ]

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


LOADER = GemsLoader()


def model():
    """The pandera model of a staged GEM row (see sql/queries/gems_stage.sql for the columns)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()

    class GemRow(pa.DataFrameModel):
        source_file: str
        line_no: int
        raw: str = pa.Field(
            str_length={"min_value": 19, "max_value": 19},
            description="a GEM line is 19 characters: source, target, five flag digits",
        )
        flags_field: str = pa.Field(
            str_matches=r"[01]{3}[0-9]{2}$",
            description="flags are approximate, no map, combination (0 or 1), scenario, choice list (0-9)",
        )

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("bad_byte", "bad_byte IS NULL", "non-ASCII byte; GEM files are plain ASCII"),
                    Rule("raw", "layout IS NOT NULL",
                         "target must start at column 7 (after a 5-wide ICD-9 source) "
                         "or 9 (after a 7-wide ICD-10 source)"),
                    Rule("layout", "layout IS NULL OR layout = file_layout",
                         "mixed directions: this line's layout differs from the file's"),
                    Rule("raw", "layout <> file_layout OR substr(raw, 14, 1) = ' '",
                         "column 14 must be the space before the flags"),
                    Rule("source_field", "layout <> file_layout OR source_code IS NOT NULL",
                         "source field is not one code"),
                    Rule("target_field", "layout <> file_layout OR target_raw IS NOT NULL",
                         "target field is not one code"),
                    Rule("source_code", "layout <> file_layout OR source_ok",
                         "not a code of the file's source system"),
                    Rule("target_raw", "layout <> file_layout OR is_marker OR target_ok",
                         "not a code of the file's target system, nor NoDx/NoPCS/NoI9"),
                    Rule("flags", "NOT (no_map_flag AND NOT is_marker)",
                         "no-map flag is 1 but the target is a code, not NoDx/NoPCS/NoI9"),
                    Rule("flags", "NOT combination OR (scenario > 0 AND choice_list > 0)",
                         "combination flag is 1 but scenario or choice list is 0"),
                    Rule("flags", "NOT (is_marker AND (combination OR scenario > 0 OR choice_list > 0))",
                         "no-map row carries combination flags"),
                    Rule("duplicate_of", "duplicate_of IS NULL", "exact repeat of an earlier line"),
                    # quirks of the real files: loaded on purpose, reported, listed by gem_anomalies
                    Rule("target_raw", "NOT (is_marker AND NOT no_map_flag)",
                         "no-map target under no-map flag 0 (read as no map; see view gem_anomalies)", note=True),
                    Rule("flags", "NOT (NOT combination AND scenario > 0 AND choice_list > 0 AND NOT no_map)",
                         "scenario and choice list under combination flag 0 (read as part of the scenario; see view gem_anomalies)",
                         note=True),
                    Rule("flags", "NOT (NOT combination AND (scenario > 0) <> (choice_list > 0))",
                         "scenario or choice list set without the other (read as a single row; see view gem_anomalies)", note=True),
                    Rule("raw", "NOT lower_case", "code in lower case (stored upper case)", note=True),
                ),
            }

    return GemRow


def _release_from_name(path: Path) -> str | None:
    """CMS names GEM files and folders after the fiscal year: 2018_I9gem.txt, pcs_2018/."""
    for part in (path.name, path.parent.name):
        if match := _YEAR.search(part):
            return match.group(1)
    return None


def _direction(path: Path) -> tuple[str, str]:
    """Decide a file's direction from its first lines.

    The layout most lines follow (where the target starts) says which side is ICD-9; the
    pair of systems whose code patterns fit the most lines says diagnoses or procedures.
    The file name only breaks a tie (a file too small to tell).
    """
    con = _sniffer()
    _lines.head(con, "gem_raw", path, _HEAD_LINES)
    row = con.execute(sqlfiles.query("gems_direction"), PATTERNS).fetchone()
    if row is None:  # not one line
        return ("icd9cm", "icd10cm")
    _file_no, i9_lines, i10_lines, *fits = row
    candidates = {
        ("icd9cm", "icd10cm"): (i9_lines, fits[0]),
        ("icd9pcs", "icd10pcs"): (i9_lines, fits[1]),
        ("icd10cm", "icd9cm"): (i10_lines, fits[2]),
        ("icd10pcs", "icd9pcs"): (i10_lines, fits[3]),
    }
    best = max(candidates.values())
    tied = [key for key, score in candidates.items() if score == best]
    hint = _name_hint(path)
    if len(tied) > 1 and hint is not None:
        tied = [key for key in tied if (key[0] in ("icd9cm", "icd10cm")) == hint] or tied
    return tied[0]


@functools.cache
def _sniffer():
    """One in-memory DuckDB for sniffing every file's direction (a connection costs ~20 ms)."""
    import duckdb

    con = duckdb.connect()
    con.execute(sqlfiles.query("gems_layout"))
    return con


def _name_hint(path: Path) -> bool | None:
    """True if the name says diagnoses, False if procedures, None if it says neither."""
    name = path.name.lower()
    if "pcs" in name:
        return False
    if "gem" in name and ("i9gem" in name or "i10gem" in name or "dx" in name):
        return True
    return None
