"""The head of a HCPCS file, read in Python from its first lines: format, disclaimer block, CSV header.

CMS ships the alpha-numeric HCPCS file in two forms that hold the same codes:

- the fixed-width "contractor" file (HCPC2018_CONTR_ANWEB_disc.txt): 320-character records,
  a RECID digit at column 11; some years open with a block of disclaimer text (2018: 11 lines,
  2019: 8 lines, padded with TABs and holding Latin-1 no-break spaces) before the first record;
- the spreadsheet (HCPC2026_OCT_ANWEB.xlsx), met here as a CSV exported from it, whose first
  line is the header ``HCPC,SEQNUM,RECID,LONG DESCRIPTION,...``.

Only the head is read here (a few lines); every line after it is checked in DuckDB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from codesets.core.errors import SourceError
from codesets.core.text import escape, shown

HEAD_BYTES = 1 << 16  # the disclaimer block takes about 1 KB, a CSV header 400 bytes
DISCLAIMER_LINES = 60  # a disclaimer block longer than this is not one
UTF8_BOM = b"\xef\xbb\xbf"

# The first record of a fixed-width file: a procedure code (letter and four digits) or a modifier
# right-justified in the 5-character code field, a 5-digit sequence number and a RECID digit.
# Loose on purpose (case, RECID value): the row checks refuse what is wrong, naming the line.
RECORD_START = re.compile(r"(?:[A-Za-z][0-9]{4}| {3}[A-Za-z0-9]{2})[0-9]{5}[0-9]")

# The CSV titles the loader reads, under the names the staged columns take.
CSV_TITLES = {
    "HCPC": "hcpc",
    "SEQNUM": "seqnum",
    "RECID": "recid",
    "LONG DESCRIPTION": "long_description",
    "SHORT DESCRIPTION": "short_description",
    "XREF1": "xref1",
    "XREF2": "xref2",
    "XREF3": "xref3",
    "XREF4": "xref4",
    "XREF5": "xref5",
    "ADD DT": "add_dt",
    "ACT EFF DT": "act_eff_dt",
    "TERM DT": "term_dt",
    "ACTION CD": "action_cd",
}
CSV_START = ("HCPC", "SEQNUM", "RECID")

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAME_YEAR = re.compile(r"^HCPCS?((?:19|20)[0-9]{2}|[0-9]{2})(?![0-9])", re.IGNORECASE)
_ANY_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
_NAME_MONTH = re.compile(r"(?<![A-Za-z])(" + "|".join(_MONTHS) + r")(?![A-Za-z])", re.IGNORECASE)
_RELEASE = re.compile(r"((?:19|20)[0-9]{2})(?:-([0-9]{2}))?")


@dataclass(frozen=True)
class Head:
    format: str  # 'fixed' (the contractor records) or 'csv' (the spreadsheet export)
    disclaimer_to: int  # last line of the disclaimer block; 0 when the file has none
    header_line: int = 0  # the CSV header's line; 0 for a fixed-width file
    columns: dict[str, int] = field(default_factory=dict)  # staged column -> 1-based CSV field
    field_count: int = 0  # fields of the CSV header

    @property
    def kind(self) -> str:
        return "fixed-width" if self.format == "fixed" else "csv"


def read_head(path: Path) -> Head | None:
    """The head of a HCPCS file; None for a file that is not one.

    A file is one when its first line is a record or the CSV header, or when it opens with a
    line naming a disclaimer and a record or the header follows within a few dozen lines.
    A file that is one but whose CSV header lacks a title the loader reads is refused here.
    """
    with open(path, "rb") as handle:
        data = handle.read(HEAD_BYTES + 1)
    whole = len(data) <= HEAD_BYTES
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    lines = data[:HEAD_BYTES].decode("latin-1").split("\n")
    if not whole:
        lines.pop()  # may be cut short
    lines = [line.removesuffix("\r") for line in lines]
    if not lines:
        return None
    start = 0
    if "disclaimer" in lines[0].casefold() and not _is_record(lines[0]) and not _is_header(lines[0]):
        start = next(
            (n for n, line in enumerate(lines[:DISCLAIMER_LINES]) if _is_record(line) or _is_header(line)), None
        )
        if start is None:
            return None
    first = lines[start]
    if _is_record(first):
        return Head("fixed", start)
    if _is_header(first):
        columns, count = _csv_columns(path, first, start + 1)
        return Head("csv", start, start + 1, columns, count)
    return None


def _is_record(line: str) -> bool:
    return RECORD_START.match(line) is not None


def _is_header(line: str) -> bool:
    titles = _titles(line)
    return tuple(titles[: len(CSV_START)]) == CSV_START


def _titles(line: str) -> list[str]:
    return [t.strip().strip('"').strip().upper() for t in line.split(",")]


def _csv_columns(path: Path, line: str, line_no: int) -> tuple[dict[str, int], int]:
    titles = _titles(line)
    columns = {}
    for title, name in CSV_TITLES.items():
        if titles.count(title) != 1:
            said = "twice" if titles.count(title) > 1 else "missing"
            raise SourceError(
                f"{shown(path)}: line {line_no}: header title '{title}' is {said}; this loader reads the CMS "
                f"alpha-numeric HCPCS spreadsheet as CSV, with the titles {', '.join(CSV_TITLES)} "
                f"(found '{escape(line, 120)}')"
            )
        columns[name] = titles.index(title) + 1
    return columns, len(titles)


def release_from_name(path: Path) -> str | None:
    """The release a CMS file name gives: HCPC17_CONTR_ANWEB.txt -> 2017, HCPC2026_OCT_ANWEB.csv -> 2026-10.

    The year follows ``HCPC`` (two or four digits), or stands alone in the name or its folder's;
    a month name (JAN, APR, JUL, OCT for the quarterly updates) makes the release YYYY-MM.
    """
    year = None
    if match := _NAME_YEAR.match(path.name):
        digits = match.group(1)
        year = int(digits) if len(digits) == 4 else 2000 + int(digits)
    else:
        for part in (path.name, path.parent.name):
            if match := _ANY_YEAR.search(part):
                year = int(match.group(1))
                break
    if year is None:
        return None
    if month := _NAME_MONTH.search(path.name):
        return f"{year}-{_MONTHS.index(month.group(1).upper()) + 1:02d}"
    return str(year)


def effective_from(release_id: str) -> date | None:
    """A release YYYY takes effect January 1 of Y; a quarterly release YYYY-MM the first of its month."""
    match = _RELEASE.fullmatch(release_id)
    if match is None:
        return None
    month = int(match.group(2) or 1)
    return date(int(match.group(1)), month, 1) if 1 <= month <= 12 else None


def refuse_utf8(path: Path) -> None:
    """CMS writes these files in Latin-1; a UTF-8 copy (a spreadsheet saved as "CSV UTF-8") is refused.

    Read as Latin-1, a UTF-8 file would load with its accented letters garbled; the lines are
    read as Latin-1 (codesets.loaders._lines), so such a file is named here instead.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    body = data.removeprefix(UTF8_BOM)  # a byte order mark before ASCII text changes nothing
    if body.isascii():
        return
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return  # Latin-1, as CMS writes it
    position = re.search(rb"[\x80-\xff]", body).start()
    line = body.count(b"\n", 0, position) + 1
    raise SourceError(
        f"{shown(path)}: the file is UTF-8 (from line {line}); CMS publishes the HCPCS file in Latin-1: "
        "save it as Latin-1 (in a spreadsheet, 'CSV (Comma delimited)'), or use the file CMS published"
    )
