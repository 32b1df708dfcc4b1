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

import re
from datetime import date
from pathlib import Path

from codesets import codes
from codesets.errors import SourceError
from codesets.warehouse import sqlfiles
from codesets.warehouse.catalog import FileInfo

SOURCE = "gems"
DESCRIPTION = "CMS General Equivalence Mappings, ICD-9 <-> ICD-10 diagnoses (CM) and procedures (PCS)"
TABLE = "maps"
DIFF_KEY = ("source_system", "target_system", "source_code", "target_code", "flags")

# What a code of each system may look like (canonical: undotted, upper case), as SQL wants it.
PATTERNS = {system: compiled.pattern for system, compiled in codes.PATTERNS.items()}
_LINE = re.compile(rb"^\S{2,7} +\S{2,7} +[0-9]{5}\r?$")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")


def recognise(path: Path) -> bool:
    """A GEM file's first line is two codes and five flag digits."""
    with open(path, "rb") as handle:
        first = handle.readline(64)
    return bool(_LINE.match(first.rstrip(b"\n")))


def release_id(path: Path) -> str | None:
    """CMS names GEM files and folders after the fiscal year: 2018_I9gem.txt, pcs_2018/."""
    for part in (path.name, path.parent.name):
        if match := _YEAR.search(part):
            return match.group(1)
    return None


def effective_from(release: str) -> date | None:
    """A GEM release named for fiscal year Y applies from October 1 of Y-1."""
    match = re.fullmatch(r"(?:FY)?((?:19|20)[0-9]{2})", release, flags=re.IGNORECASE)
    return date(int(match.group(1)) - 1, 10, 1) if match else None


def model():
    """The pandera model of a staged GEM row (see sql/queries/gems_stage.sql for the columns)."""
    import pandera.pandas as pa

    from codesets.warehouse.checks import Rule, register_sql_rules

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


def stage(con, files: list[Path]) -> list[FileInfo]:
    """Expose the files as the temp view ``staged``, one row per line; return what each holds."""
    import pyarrow as pa

    parts, infos = [], []
    for path in files:
        lines, bad, endings = _read_lines(path)
        parts.append(
            pa.table(
                {
                    "source_file": pa.array([path.name] * len(lines), pa.string()),
                    "line_no": pa.array(range(1, len(lines) + 1), pa.int32()),
                    "raw": lines,
                    "bad_byte": pa.array(bad, pa.string()),
                }
            )
        )
        infos.append((path, len(lines), endings))
    raw = pa.concat_tables(parts)
    con.register("gem_raw", raw)
    con.execute(sqlfiles.query("gems_layout"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gem_repeats AS SELECT source_file, raw, MIN(line_no) AS first_line "
        "FROM gem_raw GROUP BY source_file, raw HAVING COUNT(*) > 1"
    )
    kinds = _directions(con, files)
    _one_file_per_direction(kinds)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gem_files"
        "(source_file VARCHAR, source_system VARCHAR, target_system VARCHAR, layout VARCHAR)"
    )
    con.executemany("INSERT INTO gem_files VALUES (?, ?, ?, ?)", [(p.name, *kind) for p, kind in kinds.items()])
    for system, pattern in PATTERNS.items():
        con.execute(f"SET VARIABLE gem_pattern_{system} = ?", [pattern])
    # A view, not a table: each reader computes only the columns it needs.
    con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("gems_stage"))
    return [
        FileInfo(
            name=path.name,
            sha256="",
            bytes=path.stat().st_size,
            rows=count,
            kind=f"{kinds[path][0]}>{kinds[path][1]}",
            line_ending=endings,
        )
        for path, count, endings in infos
    ]


def publish(con, release: str) -> int:
    con.execute(
        """
        INSERT INTO maps
        SELECT 'gems', ?, source_system, target_system, source_code, target_code, flags,
               approximate, no_map, combination, scenario, choice_list, source_file, line_no
        FROM staged
        """,
        [release],
    )
    return con.execute("SELECT COUNT(*) FROM staged").fetchone()[0]


def notes(con, release: str) -> list[str]:
    """Published quirks the row rules cannot see: whole scenarios, read from the new rows."""
    return [
        f"{file}: {count} combination scenario(s) whose choice lists skip a number, first at line "
        f"{first} (alternatives use the lists present, in order); see view gem_anomalies"
        for file, count, first in con.execute(sqlfiles.query("gems_skipped_choice_lists"), [release]).fetchall()
    ]


def _read_lines(path: Path):
    """The lines of a file (line endings removed), a bad-byte note per line, and the ending style."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = path.read_bytes()
    if not data.strip():
        raise SourceError(f"{path}: the file is empty; a GEM file has one mapping per line")
    lf, crlf = data.count(b"\n"), data.count(b"\r\n")
    endings = "none" if lf == 0 else "CRLF" if crlf == lf else "LF" if crlf == 0 else "mixed"
    # Latin-1 maps every byte to one character, so a stray byte is reported at its column.
    text = data.decode("latin-1").split("\n")
    if text[-1] == "":
        text.pop()
    lines = pa.array(text, pa.string())
    if crlf:
        lines = pc.utf8_rtrim(lines, characters="\r")
    bad = [None] * len(lines)
    if not data.isascii():
        for number, line in enumerate(lines.to_pylist()):
            for column, char in enumerate(line, start=1):
                if ord(char) > 127:
                    bad[number] = f"byte 0x{ord(char):02X} at column {column}"
                    break
    return lines, bad, endings


def _directions(con, files: list[Path]) -> dict[Path, tuple[str, str, str]]:
    """Decide each file's direction from its content.

    The layout most lines follow (where the target starts) says which side is ICD-9; the
    pair of systems whose code patterns fit the most lines says diagnoses or procedures.
    """
    scores = {
        row[0]: row[1:]
        for row in con.execute(sqlfiles.query("gems_direction"), PATTERNS).fetchall()
    }
    found = {}
    for path in files:
        i9_lines, i10_lines, *fits = scores[path.name]
        candidates = {
            ("icd9cm", "icd10cm", "icd9-source"): (i9_lines, fits[0]),
            ("icd9pcs", "icd10pcs", "icd9-source"): (i9_lines, fits[1]),
            ("icd10cm", "icd9cm", "icd10-source"): (i10_lines, fits[2]),
            ("icd10pcs", "icd9pcs", "icd10-source"): (i10_lines, fits[3]),
        }
        best = max(candidates.values())
        tied = [key for key, score in candidates.items() if score == best]
        hint = _name_hint(path)
        if len(tied) > 1 and hint is not None:
            tied = [key for key in tied if (key[0] in ("icd9cm", "icd10cm")) == hint] or tied
        found[path] = tied[0]
    return found


def _name_hint(path: Path) -> bool | None:
    """True if the name says diagnoses, False if procedures, None if it says neither."""
    name = path.name.lower()
    if "pcs" in name:
        return False
    if "gem" in name and ("i9gem" in name or "i10gem" in name or "dx" in name):
        return True
    return None


def _one_file_per_direction(kinds: dict[Path, tuple[str, str, str]]) -> None:
    seen: dict[tuple[str, str], Path] = {}
    for path, (src, tgt, _layout) in kinds.items():
        if (src, tgt) in seen:
            raise SourceError(
                f"{seen[(src, tgt)]} and {path} both hold the {src} -> {tgt} GEM; "
                "a release has one file per direction: load them as separate releases"
            )
        seen[(src, tgt)] = path
