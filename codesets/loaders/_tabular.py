"""The ICD-10-CM Tabular List XML: headers and billable codes derived from the tree of ``<diag>``.

Why Python here, when every other file is read by DuckDB: DuckDB has no XML reader. So the
file is streamed through expat (``xml.parsers.expat``), which, unlike ``iterparse``, gives
the line of every element, and which refuses a malformed file with the line and column it
stopped at. The parser keeps nothing but a flat list of the elements that matter (one entry
per ``<diag>``, ``<sevenChrDef>``, ``<extension>`` and 7th-character note), handed to DuckDB
as Arrow tables in one go; the derivation itself is SQL (sql/queries/icd10cm_tabular_rows.sql).

The file (root ``<ICD10CM.tabular>``, UTF-8, CRLF) nests ``<diag>`` elements, category >
subcategory > ..., each with a ``<name>`` (the dotted code) and a ``<desc>`` (its title).
A ``<sevenChrDef>`` lists ``<extension char="A">initial encounter</extension>``: it applies to
every descendant of its diag, unless a nearer one has its own. The rule, which reproduces the
FY2021 order file exactly (tests/loaders/test_icd10cm.py proves it on the real files):

- every ``<diag>`` is a code: billable when it is a leaf with no 7th-character definition in
  scope, else a header (placeholder diags such as S06.2X and T36.0X1 included: the order file
  lists them as headers too);
- a leaf with a definition in scope gives one billable code per extension: the leaf padded
  with X to 6 characters, then the extension's character (S72.001 + A -> S72001A, E08.37 + 1
  -> E0837X1); its title is the leaf's title, a comma and a blank, then the extension's text
  ("Displaced fracture ... femur, initial encounter for closed fracture");
- a note of the form "7th characters D and S do not apply to codes in category S06 with 6th
  character 7 - ..., or 8 - ..." withholds those combinations (S061X7D is no code). Such notes
  are read from the ``<notes>`` of a diag; one this module cannot read refuses the file, since
  guessing would publish codes that do not exist.

Titles keep the XML's accents (Sézary, Ménière); the order file spells them in ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from codesets.core.errors import SourceError, SystemFailure
from codesets.loaders._order import CM_CODE
from codesets.loaders.contract import StagedFile
from codesets.core.text import escape, shown
from codesets.core import sqlfiles
from codesets.core.checks import Rule

ROOT = "ICD10CM.tabular"
_BLOCK = 1 << 20
_HEAD = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z0-9_.:-]+)", re.DOTALL)
_VERSION = re.compile(rb"<version>\s*(20[0-9]{2})\s*</version>")
# A note that limits the 7th characters of some codes: read only when it says so this way.
_LIMITING = re.compile(r"7th character.*\b(?:not|only)\b", re.IGNORECASE)
_RESTRICTION = re.compile(
    r"7th characters? (?P<seventh>[0-9A-Z](?:(?:, | and |, and )[0-9A-Z])*) do not apply to codes in "
    r"(?:category|subcategory) (?P<code>[A-Z][0-9A-Z]{2}(?:\.[0-9A-Z]{1,3})?) with 6th character "
    r"(?P<sixth>.+?)\.?"
)
_SIXTH = re.compile(r"(?:^|,? or )([0-9A-Z]) - ")


def root_of(path: Path) -> str | None:
    """The name of the first element of an XML file (from its first KB), or None."""
    with open(path, "rb") as handle:
        match = _HEAD.match(handle.read(4096))
    return match.group(1).decode("ascii") if match else None


def version_of(path: Path) -> str | None:
    """The year in the file's ``<version>`` element (near its top), or None."""
    with open(path, "rb") as handle:
        match = _VERSION.search(handle.read(4096))
    return match.group(1).decode("ascii") if match else None


def restriction(text: str, owner: str) -> tuple[list[str], list[str], str] | None:
    """(6th characters, 7th characters withheld, code prefix) of a limiting note, or None if unread.

    ``owner`` is the dotted code of the diag whose notes hold it; the prefix it names must
    be that code or below it.
    """
    match = _RESTRICTION.fullmatch(text.strip())
    if match is None:
        return None
    sixth = _SIXTH.findall(match.group("sixth"))
    code = match.group("code").replace(".", "")
    if not sixth or not code.startswith(owner.replace(".", "")):
        return None
    return sixth, re.findall(r"[0-9A-Z]", match.group("seventh")), code


@dataclass
class _Elements:
    """Column lists of the elements that matter, for Arrow; one entry per element, not per code."""

    diags: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "file_no", "diag_no", "parent_no", "lineage", "line_no", "name", "names", "description", "descs")})
    defs: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "file_no", "def_no", "diag_no", "line_no")})
    extensions: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "file_no", "def_no", "line_no", "char", "text")})
    limits: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "file_no", "diag_no", "line_no", "note", "sixth", "seventh", "prefix")})


@dataclass
class _Read:
    crlf: int = 0
    lf: int = 0


MAX_DEPTH = 64  # elements open at once; CDC's files nest at most 10


class _Parser:
    """expat handlers that fill ``_Elements`` for one file."""

    def __init__(self, file_no: int, out: _Elements):
        self.file_no, self.out = file_no, out
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.stack: list[str] = []
        self.open_diags: list[int] = []  # diag_no of each open <diag>, outermost first
        self.open_def: int | None = None
        self.collecting: list[str] | None = None
        self.pending: tuple = ()
        self.root: str | None = None
        self.diag_base = len(out.diags["diag_no"])  # row of this file's first diag in the lists
        self.def_count = 0

    def start(self, name: str, attrs: dict) -> None:
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if self.root is None:
            self.root = name
        line = self.parser.CurrentLineNumber
        if len(self.stack) > MAX_DEPTH:  # each diag keeps its lineage: depth costs memory squared
            raise SourceError(
                f"line {line:,}: <{escape(name, 40)}> is nested {len(self.stack)} elements deep; the tabular list "
                f"nests at most a dozen (chapter, section, diag ...): refused above {MAX_DEPTH}"
            )
        if name == "diag":
            diags = self.out.diags
            number = len(diags["diag_no"]) - self.diag_base
            lineage = [*diags["lineage"][self.diag_base + self.open_diags[-1]], number] if self.open_diags else [number]
            for key, value in (("file_no", self.file_no), ("diag_no", number),
                               ("parent_no", self.open_diags[-1] if self.open_diags else None),
                               ("lineage", lineage), ("line_no", line), ("name", None), ("names", 0),
                               ("description", None), ("descs", 0)):
                diags[key].append(value)
            self.open_diags.append(number)
        elif parent == "diag" and name in ("name", "desc"):
            self.collecting, self.pending = [], (name, line)
        elif name == "sevenChrDef":
            self.open_def = self.def_count
            self.def_count += 1
            owner = self.open_diags[-1] if parent == "diag" else None
            for key, value in (("file_no", self.file_no), ("def_no", self.open_def), ("diag_no", owner), ("line_no", line)):
                self.out.defs[key].append(value)
        elif name == "extension" and parent == "sevenChrDef":
            self.collecting, self.pending = [], ("extension", line, attrs.get("char"))
        elif name == "note" and parent == "notes" and len(self.stack) > 2 and self.stack[-3] == "diag":
            self.collecting, self.pending = [], ("note", line)

    def text(self, data: str) -> None:
        if self.collecting is not None:
            self.collecting.append(data)

    def end(self, name: str) -> None:
        self.stack.pop()
        if name == "diag":
            self.open_diags.pop()
        elif name == "sevenChrDef":
            self.open_def = None
        if self.collecting is None or name != self.pending[0]:
            return
        text, self.collecting = "".join(self.collecting), None
        row = self.diag_base + self.open_diags[-1] if self.open_diags else None
        diags = self.out.diags
        if name == "name":
            diags["names"][row] += 1
            diags["name"][row] = text
            diags["line_no"][row] = self.pending[1]  # a diag's rows point at its <name> line
        elif name == "desc":
            diags["descs"][row] += 1
            diags["description"][row] = text
        elif name == "extension":
            for key, value in (("file_no", self.file_no), ("def_no", self.open_def), ("line_no", self.pending[1]),
                               ("char", self.pending[2]), ("text", text)):
                self.out.extensions[key].append(value)
        elif name == "note" and _LIMITING.search(text):
            owner = diags["name"][row] or ""
            read = restriction(text, owner)
            for key, value in (("file_no", self.file_no), ("diag_no", self.open_diags[-1]), ("line_no", self.pending[1]),
                               ("note", text), ("sixth", read[0] if read else None),
                               ("seventh", read[1] if read else None), ("prefix", read[2] if read else None)):
                self.out.limits[key].append(value)


def read(path: Path, file_no: int, out: _Elements) -> _Read:
    """Stream one file through expat into ``out``; refuse a malformed file with expat's line and column."""
    parser = _Parser(file_no, out)
    found = _Read()
    tail = b""
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                joined = tail + block
                found.crlf += joined.count(b"\r\n")
                found.lf += block.count(b"\n")
                tail = block[-1:]
                parser.parser.Parse(block, False)
            parser.parser.Parse(b"", True)
    except SourceError as exc:  # raised by a handler, which knows the line but not the file
        raise SourceError(f"{shown(path)}: {exc}") from None
    except expat.ExpatError as exc:
        raise SourceError(
            f"{shown(path)}: line {exc.lineno:,}, column {exc.offset + 1}: not well-formed XML "
            f"({expat.ErrorString(exc.code)}); the tabular file must be the XML as CDC publishes it"
        ) from None
    except OSError as exc:
        raise SystemFailure(f"cannot read {shown(path)}: {exc.strerror}") from None
    if parser.root != ROOT:
        raise SourceError(f"{shown(path)}: the root element is <{escape(parser.root or '', 40)}>, not <{ROOT}>")
    return found


def stage(con, paths: Sequence[Path]) -> list[StagedFile]:
    """The tabular XML files (one at most) into the table ``tabular_rows`` and the view ``tabular_staged``."""
    import pyarrow as pa

    if len(paths) > 1:
        names = " and ".join(shown(p) for p in paths)
        raise SourceError(f"{names} are both ICD-10-CM tabular files; a release has one: load them as separate releases")
    out = _Elements()
    reads = [read(path, n, out) for n, path in enumerate(paths)]
    small, text, lines = pa.int32(), pa.string(), pa.list_(pa.int32())
    types = {
        "file_no": pa.uint16(), "diag_no": small, "parent_no": small, "lineage": lines, "line_no": small,
        "name": text, "names": small, "description": text, "descs": small, "def_no": small, "char": text,
        "text": text, "note": text, "sixth": pa.list_(text), "seventh": pa.list_(text), "prefix": text,
    }
    for table, columns in (("tabular_diags", out.diags), ("tabular_defs", out.defs),
                           ("tabular_extensions", out.extensions), ("tabular_limits", out.limits)):
        arrow = pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()})
        con.register("tabular_arrow", arrow)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM tabular_arrow")
        con.unregister("tabular_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE tabular_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR)")
    if paths:
        con.executemany("INSERT INTO tabular_files VALUES (?, ?, 'tabular')",
                        [(n, p.name) for n, p in enumerate(paths)])
    con.execute("SET VARIABLE tabular_code_pattern = ?", [CM_CODE])
    con.execute("CREATE OR REPLACE TEMP TABLE tabular_rows AS " + sqlfiles.query("icd10cm_tabular_rows"))
    con.execute(sqlfiles.query("icd10cm_tabular_repeats"))
    con.execute("CREATE OR REPLACE TEMP VIEW tabular_staged AS " + sqlfiles.query("icd10cm_tabular_stage"))
    counts = dict(con.execute(
        "SELECT file_no, COUNT(*) FILTER (WHERE kind IN ('diag', 'seventh') AND NOT withheld) "
        "FROM tabular_rows GROUP BY file_no"
    ).fetchall())
    return [
        StagedFile(name=path.name, part="tabular", rows=counts.get(n, 0),
                   kind="icd10cm tabular XML", line_ending=_ending(found))
        for n, (path, found) in enumerate(zip(paths, reads))
    ]


def fill() -> str:
    return sqlfiles.query("icd10cm_tabular_fill_code_rows")


def _ending(found: _Read) -> str:
    if found.lf == 0:
        return "none"
    return "CRLF" if found.crlf == found.lf else "LF" if found.crlf == 0 else "mixed"


def rules() -> tuple[Rule, ...]:
    """The row rules of the tabular XML (columns of icd10cm_tabular_stage.sql); text rows pass them."""
    return (
        Rule("name", "kind <> 'diag' OR names = 1", "a <diag> must have one <name>"),
        Rule("name", "kind <> 'diag' OR names <> 1 OR code IS NOT NULL",
             "a <diag> name must be an ICD-10-CM code, dotted after 3 characters (S72.001)"),
        Rule("description", "kind <> 'diag' OR (descs = 1 AND trim(description) <> '')",
             "a <diag> must have one <desc>, not empty"),
        Rule("name", "kind <> 'diag' OR NOT takes_seventh OR length(code) < 7",
             "a code of 7 characters cannot take a 7th character from the <sevenChrDef> in scope"),
        Rule("def", "kind <> 'def' OR owned", "a <sevenChrDef> must sit in a <diag>"),
        Rule("def", "kind <> 'def' OR defs_of_diag = 1", "a <diag> has one <sevenChrDef> at most"),
        Rule("def", "kind <> 'def' OR extensions > 0", "a <sevenChrDef> must list at least one <extension>"),
        Rule("char", "kind <> 'extension' OR regexp_full_match(coalesce(char, ''), '[0-9A-Z]')",
             "an <extension> char must be one letter or digit"),
        Rule("char_repeated", "char_repeated IS NULL",
             "a <sevenChrDef> lists each char once; the value names the other line(s)"),
        Rule("extension", "kind <> 'extension' OR trim(extension) <> ''", "an <extension> must have a text"),
        Rule("note", "kind <> 'limit' OR prefix IS NOT NULL",
             "a note limiting 7th characters in words this loader does not read "
             "('7th characters D and S do not apply to codes in category S06 with 6th character 7 - ..., or 8 - ...'); "
             "load the release's order file instead"),
        # loaded on purpose and reported
        Rule("code", "NOT withheld",
             "7th character withheld by its category's note (not a code; the order file does not list it either)",
             note=True),
        Rule("description", "kind NOT IN ('diag', 'seventh') OR strlen(description) = length(description)",
             "title with accented letters (kept as the XML writes them; the order file spells them in ASCII)",
             note=True),
    )
