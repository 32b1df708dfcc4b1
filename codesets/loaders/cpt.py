"""CPT codes from the user's own list: CPT is the AMA's, so codesets ships no CPT text.

A user who holds a CPT licence loads their code list as a CSV file of this form:

- line 1 is a header naming the columns, in any order, case and spacing ignored:
  ``code`` (required; also ``cpt_code`` or ``cpt``), ``description`` (also ``long_description``,
  ``descriptor``), ``short_description`` (also ``short_descriptor``), ``effective_from`` (also
  ``effective_date``, ``start_date``) and ``effective_to`` (also ``end_date``,
  ``termination_date``), all optional but ``code``. Other columns are not read (a note names them);
- then one line per code, comma-separated. A field may be double-quoted (it may then hold
  commas, and ``""`` is one quote) but must close on its line: a line break inside a field is
  refused, so every row keeps the line a text editor shows;
- UTF-8 (a byte order mark is allowed, as Excel writes one), or Latin-1 when the file is not
  valid UTF-8; LF or CRLF line endings; blank lines are skipped and noted.

A code is canonical after trimming and upper-casing: five digits (Category I), four digits and
F (Category II), T (Category III), U (proprietary laboratory analyses) or M (multianalyte
assays with algorithmic analyses): ``codesets.core.codes.PATTERNS['cpt']``. Anything else is refused,
naming the line and value, and so is a code listed twice (both lines). Dates are YYYY-MM-DD;
a row's dates narrow the release's window (the code is valid from the later of the release's
first date and its own effective_from, to the earlier of the release's end and its
effective_to), and a row whose effective_to precedes its effective_from is refused.

Every listed code is billable: a user's list of CPT codes is a list of codes to report, with
no headers among them. The release is one part, ``codes`` (code system ``cpt``). Its id is
``--release`` or the year in the file name (``cpt-2026.csv`` -> ``2026``); CPT is annual and a
year's codes take effect on January 1, so release ``2026`` is effective 2026-01-01. A file
whose name holds no year needs ``--release`` (and ``--effective-from`` unless it is a year).

Text is stored as written: a description that a spreadsheet would run as a formula
(``=cmd()``) is data here, noted when loaded; every value a message shows is escaped and cut.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from codesets.core import codes
from codesets.core.errors import SourceError, SystemFailure
from codesets.loaders import _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Declaration, Period
from codesets.core.text import escape, shown
from codesets.core import sqlfiles

PART = "codes"
# The columns read, by role; a header name is compared after casefolding and turning runs of
# spaces, hyphens and slashes into one underscore.
COLUMNS = {
    "code": ("code", "cpt_code", "cpt"),
    "description": ("description", "long_description", "descriptor", "long_descriptor"),
    "short_description": ("short_description", "short_descriptor"),
    "effective_from": ("effective_from", "effective_date", "start_date"),
    "effective_to": ("effective_to", "end_date", "termination_date"),
}
_ROLE_OF = {name: role for role, names in COLUMNS.items() for name in names}
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
_HEAD_BYTES = 1 << 16
_HEAD_ROWS = 20  # data rows whose codes decide whether a file is a CPT list
_BLOCK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")
_PLAIN_NAME = re.compile(r"[a-z0-9_]{1,40}")
_SAMPLE_EFFECTIVE_FROM = date(2026, 1, 1)


class CptLoader:
    """A user's CPT code list (CSV): one part, ``codes``."""

    source = "cpt"
    description = "CPT codes from your own licensed list: a CSV whose header names a code column"
    tables = ("code_rows",)
    declares = Declaration(
        code_systems=(CodeSystem("cpt", validity=True),),
        whole_release=True,
        periods=(Period("calendar_year", r"(19|20)[0-9]{2}"),),
    )

    def claim(self, path: Path) -> Claim | None:
        """A CSV whose header names a code column and whose first rows hold a CPT-shaped code.

        One CPT-shaped code among the first rows is enough (a list with bad codes is claimed, so
        the checks can name them); a header that names no code column, or names one twice, is
        refused here when the file otherwise reads as a CPT list.
        """
        head = _head_lines(path)
        if not head:
            return None
        fields = _fields(head[0])
        rows = [_fields(line) for line in head[1:] if line.strip(" ,\t")][:_HEAD_ROWS]
        try:
            header = _header(path, fields)
        except SourceError:
            names = [_key(name) for name in fields]
            # a CPT list with a bad header: a plain column name that says CPT (not a notice's prose)
            meant = any(_PLAIN_NAME.fullmatch(name) and ("cpt" in name or name == "code") for name in names)
            if meant and any(codes.matches(f.strip().upper(), "cpt") for row in rows for f in row):
                raise
            return None
        at = header.code_at - 1
        if not any(len(row) > at and codes.matches(row[at].strip().upper(), "cpt") for row in rows):
            return None
        return Claim(part=PART, release_id=_release_from_name(path))

    def effective_from(self, release_id: str) -> date | None:
        """A CPT release named for its year takes effect on January 1 of that year."""
        match = re.fullmatch(r"(?:19|20)[0-9]{2}", release_id)
        return date(int(release_id), 1, 1) if match else None

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """The code list as the relation ``staged``, one row per physical line.

        The header is read here, in Python, so a missing or doubled column is named before any
        row is read. The lines are read once by DuckDB's CSV reader into ``cpt_raw`` (as lines:
        the fields are cut in SQL, so each keeps its physical line); ``cpt_rows`` cuts and types
        them once, into a table, and ``staged`` is a view adding what only the checks need.
        """
        paths = parts[PART]
        if len(paths) > 1:
            names = " and ".join(shown(p) for p in paths)
            raise SourceError(f"{names}: a CPT release is one code list; load each file as its own release")
        path = paths[0]
        item, encoding = _inspect(path)
        header = _header(path, _fields(_first_line(path, encoding)))
        if encoding == "latin-1":
            _lines.stage(con, "cpt_raw", [item])
        else:  # _lines reads Latin-1 only: the same one-column read, as UTF-8
            con.execute(
                "CREATE OR REPLACE TEMP TABLE cpt_raw AS " + sqlfiles.query("cpt_lines"),
                [str(path), encoding, 2 * _lines.MAX_LINE + 2],
            )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cpt_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "encoding VARCHAR, header_count INTEGER, code_at INTEGER, description_at INTEGER, "
            "short_description_at INTEGER, effective_from_at INTEGER, effective_to_at INTEGER, unread VARCHAR[])"
        )
        con.execute(
            "INSERT INTO cpt_files VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [path.name, PART, encoding, header.count, header.code_at, header.at.get("description"),
             header.at.get("short_description"), header.at.get("effective_from"), header.at.get("effective_to"),
             list(header.unread)],
        )
        con.execute("SET VARIABLE cpt_pattern = ?", [codes.PATTERNS["cpt"].pattern])
        con.execute("CREATE OR REPLACE TEMP TABLE cpt_rows AS " + sqlfiles.query("cpt_rows"))
        con.execute(sqlfiles.query("cpt_repeats"))
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("cpt_stage"))
        (rows,) = con.execute("SELECT COUNT(*) FILTER (WHERE kind = 'data') FROM cpt_rows").fetchone()
        return [StagedFile(name=path.name, part=PART, rows=rows, kind=f"cpt list ({encoding})",
                           line_ending=item.line_ending)]

    def fill(self, table: str) -> str:
        return sqlfiles.query("cpt_fill_code_rows")

    def notes(self, con) -> list[str]:
        """Columns of the list that are not read, and how the text was decoded when it was not UTF-8."""
        found = []
        for name, encoding, unread in con.execute("SELECT source_file, encoding, unread FROM cpt_files").fetchall():
            if unread:
                shown_names = ", ".join(f"'{escape(n, 40)}'" for n in unread)
                found.append(f"{name}: column(s) {shown_names} not read (codesets reads code, description, "
                             "short_description, effective_from, effective_to)")
            if encoding == "latin-1":
                found.append(f"{name}: not valid UTF-8, read as Latin-1")
        return found

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".csv", _SAMPLE_EFFECTIVE_FROM)


LOADER = CptLoader()


def model():
    """The pandera model of a staged CPT list line (see sql/queries/cpt_stage.sql for the columns)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()

    class CptLine(pa.DataFrameModel):
        source_file: str
        line_no: int

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("raw", "kind <> 'data' OR fields IS NOT NULL",
                         "quotes do not pair up: a quoted field must close on its line (a line break inside "
                         "a field is not read) and be followed by a comma or the line end"),
                    Rule("record", "fields IS NULL OR field_count = header_count",
                         "a line has as many fields as the header names columns"),
                    Rule("code", "NOT row_complete OR code_ok",
                         "not a CPT code: five digits, or four digits and F, T, U or M (e.g. 99213, 0001F, "
                         "0042T, 0001U)"),
                    Rule("code_repeated", "code_repeated IS NULL",
                         "a code appears once in a list; the value names its other line(s)"),
                    Rule("effective_from", "NOT row_complete OR effective_from_ok",
                         "a date is YYYY-MM-DD (e.g. 2026-01-01), or empty"),
                    Rule("effective_to", "NOT row_complete OR effective_to_ok",
                         "a date is YYYY-MM-DD (e.g. 2026-12-31), or empty"),
                    Rule("dates", "dates IS NULL OR from_date <= to_date",
                         "effective_to is before effective_from"),
                    # loaded on purpose and reported
                    Rule("raw", "kind <> 'blank'", "blank line (skipped: it holds no code)", note=True),
                    Rule("code", "NOT code_ok OR code = canonical_code",
                         "code in lower case or with spaces around it (stored trimmed, upper case)", note=True),
                    Rule("description", "NOT formula_like",
                         "description or short description starting with =, +, - or @ (stored as text; a "
                         "spreadsheet opening an export may read it as a formula)", note=True),
                    Rule("description", "NOT control_character",
                         "control character (tab, escape, ...) in a description (stored as written)", note=True),
                ),
            }

    return CptLine


@dataclass(frozen=True)
class _Header:
    count: int  # fields in the header
    at: dict[str, int]  # role -> 1-based field number
    unread: tuple[str, ...]  # names of columns not read

    @property
    def code_at(self) -> int:
        return self.at["code"]


def _key(name: str) -> str:
    return re.sub(r"[\s/-]+", "_", name.strip().lstrip("\ufeff").casefold()).strip("_")


def _header(path: Path, fields: list[str]) -> _Header:
    """Map header names to roles; a missing code column, or a role named twice, is refused."""
    at: dict[str, int] = {}
    unread = []
    for number, name in enumerate(fields, start=1):
        role = _ROLE_OF.get(_key(name))
        if role is None:
            if name.strip():
                unread.append(name.strip())
            continue
        if role in at:
            raise SourceError(
                f"{shown(path)}: line 1, columns {at[role]} and {number}: '{escape(fields[at[role]-1], 40)}' and "
                f"'{escape(name, 40)}' both name the {role.replace('_', ' ')}; keep one"
            )
        at[role] = number
    if "code" not in at:
        found = escape(",".join(fields), 120)
        raise SourceError(
            f"{shown(path)}: line 1: the header names no code column; expected a column 'code' (or 'cpt_code', "
            f"'cpt'), found '{found}'"
        )
    return _Header(len(fields), at, tuple(unread))


def _fields(line: str) -> list[str]:
    """One line's CSV fields as Python's csv module reads them (the header and the claim only)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return [line]


def _head_lines(path: Path) -> list[str]:
    """The first lines of a file as text (the last may be cut short); none for a file that is not text."""
    with open(path, "rb") as handle:
        data = handle.read(_HEAD_BYTES)
    if not data or b"\x00" in data:
        return []
    data = data.removeprefix(_BOM)  # a last line cut short still shows its first fields
    try:  # a character cut at the end of the head is left out, not taken for Latin-1
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _first_line(path: Path, encoding: str) -> str:
    with open(path, "rb") as handle:
        line = handle.readline(_lines.MAX_LINE + 2)
    return line.removeprefix(_BOM).rstrip(b"\r\n").decode(encoding)


def _inspect(path: Path) -> tuple[_lines.LineFile, str]:
    """The file's lines and encoding: UTF-8 when its bytes are valid UTF-8, Latin-1 otherwise.

    A Latin-1 file is inspected by ``_lines``. ``_lines`` reads Latin-1 only (and refuses the
    C1 bytes that many UTF-8 characters hold), so a UTF-8 file gets the same checks here, in
    the pass that validates it: a carriage return inside a line, and a line too long to be a
    record, are refused naming the line.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = crlf = tabs = 0
    offset, last_newline = 0, -1
    carried = b""  # a carriage return that ended the previous block, its partner undecided
    last = b""
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                decoder.decode(block)
                first = block.find(b"\n")
                if offset + (first if first >= 0 else len(block)) - last_newline - 1 > _lines.MAX_LINE:
                    _too_long(path, newlines + 1)
                joined = carried + block
                for match in _LONE_CR.finditer(joined):
                    if match.start() < len(joined) - 1:
                        line = newlines + joined.count(b"\n", 0, match.start()) + 1
                        raise SourceError(
                            f"{shown(path)}: line {line:,} holds a carriage return that does not end the line; "
                            "save the file with LF or CRLF line endings"
                        )
                carried = b"\r" if joined.endswith(b"\r") else b""
                if first >= 0:
                    last_newline = offset + block.rfind(b"\n")
                crlf += joined.count(b"\r\n")
                newlines += block.count(b"\n")
                tabs += block.count(b"\t")
                offset += len(block)
                last = block[-1:]
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return _lines.inspect(path), "latin-1"
    except OSError as exc:
        raise SystemFailure(f"cannot read {shown(path)}: {exc.strerror}") from None
    if offset == 0:
        raise SourceError(f"{shown(path)}: the file is empty")
    if carried:
        raise SourceError(
            f"{shown(path)}: the file ends with a carriage return alone; save it with LF or CRLF line endings"
        )
    ending = "none" if newlines == 0 else "CRLF" if crlf == newlines else "LF" if crlf == 0 else "mixed"
    lines = newlines + (0 if last == b"\n" else 1)
    return _lines.LineFile(path, lines, ending, tabs, newlines - crlf), "utf-8"


def _too_long(path: Path, line: int) -> None:
    raise SourceError(
        f"{shown(path)}: line {line:,} is longer than {_lines.MAX_LINE:,} bytes; this is not a file of records"
    )


def _release_from_name(path: Path) -> str | None:
    """A year in the file name is the release: cpt-2026.csv -> 2026."""
    match = _YEAR.search(path.name)
    return match.group(1) if match else None
