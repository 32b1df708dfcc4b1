"""ICD-9-CM code titles as CMS published them: diagnoses (volumes 1-2) and procedures (volume 3).

Each version of the code set came as four text files, named for the version:
CMS32_DESC_LONG_DX.txt and CMS32_DESC_SHORT_DX.txt (diagnoses), CMS32_DESC_LONG_SG.txt and
CMS32_DESC_SHORT_SG.txt (procedures, "surgical"). Each line is one code and its title:

- diagnoses: the code left-justified in 5 characters, one space, the title (from column 7);
  a code is 3-5 digits, V and 2-4 digits, or E and 3-4 digits (``0010``, ``024``, ``V0389``);
- procedures: the code left-justified in 4 characters, one space, the title (from column 6);
  a code is 2-4 digits (``0001``, ``016``).

The files are Latin-1 (the long diagnosis titles hold ``Friedländer`` and ``Ménière`` as
single bytes 0xE4, 0xE9, 0xE8; stored as UTF-8 like every text in the warehouse), with LF line
endings as shipped (CRLF reads the same), no header, codes undotted. A copy saved as UTF-8 (an
editor's or a spreadsheet's "Save as") would read as Latin-1 as mojibake (``FriedlÃ¤nder``):
a file whose bytes are valid UTF-8 and not all ASCII is read as UTF-8 and noted.

A release is one version, ``v32`` from ``CMS32_...``, in two parts: ``diagnoses`` (code system
``icd9cm``) and ``procedures`` (``icd9pcs``). A part is made of its long and short title file,
and a code is one row: ``description`` is its long title, ``short_description`` its short one,
joined on the code in SQL; the row's provenance (source_file, line_no) is its line in the
long file. Which part a file holds, and which file of a pair is the long one, is read from
the content: the layout of the lines says diagnoses or procedures, and the long titles are
the longer on average (CMS's short titles are at most 24 characters). The file name only
breaks a tie (a file too small to tell).

Decisions:

- Both files of a part are required, and they must list the same codes. They are two views
  of one code list; a code in one file and not the other means the files are not a pair
  (two versions, or a file cut short). Loading the union would make codes valid that the
  version does not have, and a published part never changes, so such a code is refused,
  naming its line and the file it is missing from.
- Every code listed is billable: CMS lists valid codes only, not the category headers.
- ICD-9-CM stopped on 2015-09-30: ICD-10-CM and ICD-10-PCS replaced it for dates of service
  (and discharges) from 2015-10-01. That is a fact of the code system, not of one file, so
  every row carries ``effective_to`` = 2015-09-30, whatever release it comes from.
- Version N took effect on October 1 of 1982 + N, the start of fiscal year 1983 + N (v32:
  2014-10-01, FY2015; v27: 2009-10-01, FY2010). There is no version after v32.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

from codesets.core import codes
from codesets.core.errors import SourceError
from codesets.loaders import _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Declaration
from codesets.core.text import shown
from codesets.core import sqlfiles

# The part a file holds: its code system and the width the codes are padded to.
SYSTEMS = {"diagnoses": "icd9cm", "procedures": "icd9pcs"}
WIDTHS = {"diagnoses": 5, "procedures": 4}
LAST_DAY = date(2015, 9, 30)  # the last date of service ICD-9-CM codes apply to (ICD-10 from 2015-10-01)
LAST_VERSION = 32

_VERSION = re.compile(r"CMS([0-9]{1,2})_", flags=re.IGNORECASE)
_RELEASE = re.compile(r"v([0-9]{1,2})", flags=re.IGNORECASE)
# Lines of other sources' files that would otherwise fit the layout: a GEM line (two codes and
# five flag digits) and an ICD-10-CM order file line (order number, code, header flag).
_GEM_LINE = re.compile(r"\S{2,7} +\S{2,7} +[0-9]{5}")
_ORDER_LINE = re.compile(r"[0-9]{5} [0-9A-Z]{3,7} +[01] ")
_HEAD_BYTES = 1 << 16  # about 1,000 lines: enough to tell a file's layout
_SAMPLE_EFFECTIVE_FROM = date(2014, 10, 1)  # the sample's rows are from v32


class Icd9cmLoader:
    """The ICD-9-CM title files of a version: one part for diagnoses, one for procedures."""

    source = "icd9cm"
    description = "CMS ICD-9-CM code titles (long and short), diagnoses and procedures, until 2015-09-30"
    tables = ("code_rows",)
    declares = Declaration(
        code_systems=(CodeSystem("icd9cm", validity=True), CodeSystem("icd9pcs", validity=True)),
        whole_release=True,  # no period: v32, the last, stays open (its codes carry their own end)
    )

    def claim(self, path: Path) -> Claim | None:
        """A title file's lines are a code padded to 5 (diagnoses) or 4 (procedures), a space, a title."""
        part = _part_of(path)
        if part is None:
            return None
        return Claim(part=part, release_id=_release_from_name(path))

    def effective_from(self, release_id: str) -> date | None:
        """Version N took effect on October 1 of 1982 + N (v32: 2014-10-01)."""
        match = _RELEASE.fullmatch(release_id)
        if match is None or not 1 <= int(match.group(1)) <= LAST_VERSION:
            return None
        return date(1982 + int(match.group(1)), 10, 1)

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """The title files of each part as the relation ``staged``, one row per line.

        The lines are read once (DuckDB's CSV reader, via ``_lines``); which file of a pair holds
        the long titles is decided from their average length. ``icd9_rows`` cuts the lines into
        code and title once, into a table, because the pairing, the checks and the publish all
        read them; ``staged`` is a view adding what only the checks need.
        """
        files: list[_lines.LineFile] = []
        entries: list[_File] = []
        for part, paths in parts.items():
            if len(paths) != 2:
                names = " and ".join(shown(p) for p in paths)
                kind, suffix = ("diagnosis", "DX") if part == "diagnoses" else ("procedure", "SG")
                raise SourceError(
                    f"{names}: {len(paths)} file(s) of ICD-9-CM {kind} titles; a part is its long and short "
                    f"title file (CMS32_DESC_LONG_{suffix}.txt and CMS32_DESC_SHORT_{suffix}.txt): "
                    "load the two together"
                )
            for path in paths:
                entries.append(_File(len(entries), path.name, part))
                # every line ends with LF, the last too: a last title without it is a file cut short
                files.append(_lines.inspect(path, encoding=_lines.text_encoding(path), ended=True))
        _lines.stage(con, "icd9_raw", files)
        lengths = dict(con.execute(sqlfiles.query("icd9cm_title_lengths")).fetchall())
        roles = {}  # file_no -> (role, decided_by)
        for part in parts:
            roles.update(_roles([e for e in entries if e.part == part], lengths))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE icd9_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "code_system VARCHAR, width UTINYINT, role VARCHAR, decided_by VARCHAR, encoding VARCHAR)"
        )
        con.executemany("INSERT INTO icd9_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (e.file_no, e.name, e.part, SYSTEMS[e.part], WIDTHS[e.part], *roles[e.file_no], item.encoding)
            for e, item in zip(entries, files)
        ])
        for system in SYSTEMS.values():
            con.execute(f"SET VARIABLE icd9_pattern_{system} = ?", [codes.PATTERNS[system].pattern])
        con.execute("SET VARIABLE icd9_last_day = ?", [LAST_DAY])
        con.execute("CREATE OR REPLACE TEMP TABLE icd9_rows AS " + sqlfiles.query("icd9cm_rows"))
        con.execute(sqlfiles.query("icd9cm_repeats"))
        con.execute(sqlfiles.query("icd9cm_unpaired"))
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("icd9cm_stage"))
        counts = dict(con.execute(
            "SELECT file_no, COUNT(*) FILTER (WHERE kind = 'data') FROM icd9_rows GROUP BY file_no"
        ).fetchall())
        return [
            StagedFile(
                name=entry.name,
                part=entry.part,
                rows=counts.get(entry.file_no, 0),
                kind=f"{SYSTEMS[entry.part]} {roles[entry.file_no][0]} titles",
                line_ending=item.line_ending,
            )
            for entry, item in zip(entries, files)
        ]

    def fill(self, table: str) -> str:
        return sqlfiles.query("icd9cm_fill_code_rows")

    def notes(self, con) -> list[str]:
        """How the long file of each pair was told from the short one, when the content alone could not."""
        found = []
        for name, part, role, decided_by, encoding in con.execute(
            "SELECT source_file, part, role, decided_by, encoding FROM icd9_files ORDER BY file_no"
        ).fetchall():
            if encoding == "utf-8":
                found.append(
                    f"{name}: read as UTF-8 (its bytes are UTF-8; CMS published the titles as Latin-1, so this "
                    "copy was saved again as UTF-8)"
                )
            if decided_by == "name":
                found.append(
                    f"{name}: read as the {role} {part} titles from its name (its titles are as long on average "
                    "as those of the other file)"
                )
            elif decided_by == "content, not name":
                found.append(
                    f"{name}: read as the {role} {part} titles from their length, although the name says otherwise"
                )
        return found

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


LOADER = Icd9cmLoader()


class _File(NamedTuple):
    file_no: int
    name: str
    part: str


def model():
    """The pandera model of a staged ICD-9-CM title line (see sql/queries/icd9cm_stage.sql)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()

    class Icd9TitleLine(pa.DataFrameModel):
        source_file: str
        line_no: int

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("raw", "code_system <> 'icd9cm' OR separator_ok",
                         "column 6 must be a space: a diagnosis line is the code padded to 5 characters, "
                         "a space, then the title"),
                    Rule("raw", "code_system <> 'icd9pcs' OR separator_ok",
                         "column 5 must be a space: a procedure line is the code padded to 4 characters, "
                         "a space, then the title"),
                    Rule("raw", "NOT separator_ok OR title IS NOT NULL",
                         "a code without a title: each line is a code and its title"),
                    Rule("raw", "NOT separator_ok OR title IS NULL OR NOT title_indented",
                         "more than one space between the code field and the title: the title starts at "
                         "column 7 (diagnoses) or 6 (procedures); is the code padded to another width?"),
                    Rule("code", "code_system <> 'icd9cm' OR NOT separator_ok OR code_ok",
                         "not an ICD-9-CM diagnosis code: 3-5 digits, V and 2-4 digits, or E and 3-4 digits"),
                    Rule("code", "code_system <> 'icd9pcs' OR NOT separator_ok OR code_ok",
                         "not an ICD-9-CM procedure code: 2-4 digits"),
                    # C1 controls too: a UTF-8 file (see text_encoding) may hold them as characters
                    Rule("title",
                         f"title IS NULL OR NOT (title_control OR regexp_matches(title, '{_lines.CONTROL}'))",
                         "a control character (tab, escape, ...) in the title"),
                    Rule("code_repeated", "code_repeated IS NULL",
                         "a code appears once in a title file; the value names its other line(s)"),
                    Rule("code_unpaired", "code_unpaired IS NULL",
                         "the long and short title files of a part list the same codes; this one is missing "
                         "from the other file (are they of one version, and whole?)"),
                    # loaded on purpose and reported
                    Rule("raw", "kind <> 'blank'", "blank line (skipped: it holds no code)", note=True),
                    Rule("code", "NOT code_ok OR code = upper(code)", "code in lower case (stored upper case)",
                         note=True),
                    Rule("title", "title IS NULL OR NOT title_padded",
                         "title with trailing spaces (stored without them)", note=True),
                ),
            }

    return Icd9TitleLine


def _part_of(path: Path) -> str | None:
    """The part a file's first lines say it holds, or None when they are not ICD-9-CM title lines.

    A file is taken when at least half of its first non-blank lines fit the layout of one part
    (a bad line further on is refused by the checks, by its line); when both layouts fit as
    many lines, the name decides.
    """
    with open(path, "rb") as handle:
        data = handle.read(_HEAD_BYTES + 1)
    if not data or b"\x00" in data:
        return None
    lines = data[:_HEAD_BYTES].decode("latin-1").split("\n")
    if len(data) > _HEAD_BYTES:
        lines.pop()  # cut short
    lines = [line.rstrip("\r") for line in lines if line.strip(" \r")]
    if not lines:
        return None
    fits = {part: 0 for part in SYSTEMS}
    for line in lines:
        part = _layout(line)
        if part is not None:
            fits[part] += 1
    best = max(fits.values())
    if best == 0 or 2 * best < len(lines):
        return None
    tied = [part for part, count in fits.items() if count == best]
    if len(tied) == 1:
        return tied[0]
    hint = _name_hint(path)
    if hint is None:
        raise SourceError(
            f"{shown(path)}: as many lines read as ICD-9-CM diagnosis titles as procedure titles; "
            "name the file ..._DX.txt or ..._SG.txt as CMS does"
        )
    return hint


def _layout(line: str) -> str | None:
    """The part whose layout one line fits: code padded to the part's width, a space, a title."""
    if _GEM_LINE.fullmatch(line) or _ORDER_LINE.match(line):
        return None
    for part, width in WIDTHS.items():
        if len(line) > width + 1 and line[width] == " " and line[width + 1] != " ":
            if codes.matches(line[:width].rstrip(" ").upper(), SYSTEMS[part]):
                return part
    return None


def _name_hint(path: Path) -> str | None:
    name = path.name.upper()
    diagnoses, procedures = "_DX" in name, "_SG" in name
    if diagnoses != procedures:
        return "diagnoses" if diagnoses else "procedures"
    return None


def _roles(pair: list[_File], lengths: dict[int, float]) -> dict[int, tuple[str, str]]:
    """Which file of a pair holds the long titles: the one whose lines are longer on average.

    Returns each file's role and what decided it. A tie (the same titles in both, or files too
    small to differ) is broken by the names (LONG / SHORT, as CMS names them); a pair the names
    do not tell apart either is refused.
    """
    first, second = pair
    a, b = lengths.get(first.file_no) or 0.0, lengths.get(second.file_no) or 0.0
    if a != b:
        long_file, short_file = (first, second) if a > b else (second, first)
        return {
            entry.file_no: (role, "content" if _role_hint(entry.name) in (None, role) else "content, not name")
            for entry, role in ((long_file, "long"), (short_file, "short"))
        }
    hints = (_role_hint(first.name), _role_hint(second.name))
    if set(hints) == {"long", "short"}:
        return {first.file_no: (hints[0], "name"), second.file_no: (hints[1], "name")}
    raise SourceError(
        f"{shown(first.name)} and {shown(second.name)}: the titles of both files are {a:.1f} characters long on "
        "average, so neither reads as the long titles; load one long and one short title file (CMS names them "
        "..._DESC_LONG_... and ..._DESC_SHORT_...)"
    )


def _role_hint(name: str) -> str | None:
    upper = name.upper()
    says_long, says_short = "LONG" in upper, "SHORT" in upper
    if says_long != says_short:
        return "long" if says_long else "short"
    return None


def _release_from_name(path: Path) -> str | None:
    """CMS names the files after the version: CMS32_DESC_LONG_DX.txt -> v32."""
    match = _VERSION.match(path.name)
    if match is None or not 1 <= int(match.group(1)) <= LAST_VERSION:
        return None
    return f"v{int(match.group(1))}"
