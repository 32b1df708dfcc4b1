"""NCCI medically unlikely edits (MUE): the most units of service of a code on one date of service.

CMS publishes one table per service type each quarter, as a CSV inside a zip:
MCR_MUE_PractitionerServices_Eff_07-01-2026.csv, MCR_MUE_OutpatientHospitalServices_Eff_...
and MCR_MUE_DMESupplierServices_Eff_... . Each is Latin-1 with records ending CRLF:

- record 1 is a notice (the AMA's CPT copyright): one quoted field over several lines, with
  bare LF line breaks, blank lines and a 0xAE byte inside, then ``,,,``;
- record 2 is the header, whose first title is quoted and wraps over two lines:
  ``"HCPCS/<LF>CPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale``
  (the second title names the table: Practitioner, Outpatient Hospital or DME Supplier Services);
- then one record per code: code, MUE value (whole units), the adjudication indicator (MAI)
  as text with its number first (``1 Line Edit``, ``2 Date of Service Edit: Policy``,
  ``3 Date of Service Edit: Clinical``), and CMS's rationale.

The table a file holds comes from its header (the part: ``practitioner``,
``outpatient_hospital``, ``dme``); the release comes from the name's ``Eff_MM-DD-YYYY``
(release id ``YYYY-MM-DD``, the first date of service it applies to).

Rows keep the PHYSICAL line of the file, counting the line breaks inside the quoted notice
and header, because that is the line a person finds in an editor: the first code of the real
practitioner table is on line 10. So the file is read as lines (``_lines``, DuckDB's reader),
the few head records are told apart in Python, and each data line is one record, cut into
fields in SQL. A data record that spans lines (a quoted field with a line break) is refused
by its lines, not guessed at; the real tables have none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from codesets.core.errors import SourceError
from codesets.loaders import _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import Comparison, Declaration
from codesets.core.text import escape, shown
from codesets.core import sqlfiles

# The header's second title names the table; the titles are compared without spaces or case,
# so the wrapped "HCPCS/<LF>CPT Code" and "HCPCS/CPT Code" are the same title.
PARTS = {
    "Practitioner Services MUE Values": "practitioner",
    "Outpatient Hospital Services MUE Values": "outpatient_hospital",
    "DME Supplier Services MUE Values": "dme",
}
CODE_TITLE = "HCPCS/CPT Code"
OTHER_TITLES = ("MUE Adjudication Indicator", "MUE Rationale")
# The adjudication indicators as CMS writes them; another text after a good digit is loaded and noted.
MAI_TEXTS = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy", 3: "3 Date of Service Edit: Clinical"}

_EFFECTIVE = re.compile(r"Eff_([0-9]{2})-([0-9]{2})-([0-9]{4})(?![0-9])", flags=re.IGNORECASE)
_RELEASE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATA_SHAPE = re.compile(r"[0-9]+$")
_MAI_SHAPE = re.compile(r"[123]( |$)")
_HEAD_BYTES = 1 << 16  # the notice and the header take about 1 KB; 64 KB is plenty
_HEAD_RECORDS = 3  # notice, header, first data record: enough to recognise a table
_SAMPLE_EFFECTIVE_FROM = date(2026, 7, 1)


def _key(title: str) -> str:
    return re.sub(r"\s+", "", title).casefold()


_PART_KEYS = {_key(title): part for title, part in PARTS.items()}
_TITLE_KEYS = {_key(CODE_TITLE), *(_key(t) for t in OTHER_TITLES), *_PART_KEYS}
_EXPECTED = f'"{CODE_TITLE}",<Practitioner|Outpatient Hospital|DME Supplier> Services MUE Values,{",".join(OTHER_TITLES)}'


class NcciMueLoader:
    """The three MUE tables of a quarter: one part per service type, so a release may gain one later."""

    source = "ncci_mue"
    description = "CMS NCCI medically unlikely edits (MUE), practitioner, outpatient hospital and DME tables"
    tables = ("limits",)
    declares = Declaration(
        diff=Comparison(
            view="mue_changes",
            part_columns=("service_type",),
            changes=("added", "raised", "lowered", "mai_changed", "rationale_changed", "changed", "removed"),
            order=("service_type", "code"),
            unit="codes",
        ),
    )

    def claim(self, path: Path) -> Claim | None:
        """An MUE table is recognised by its header (or, if that is wrong, by its first data record)."""
        head = _head(path)
        if head is None:
            if _has_bom(path) and _head_text_names_mue(path):
                raise SourceError(
                    f"{shown(path)}: an MUE table saved with a UTF-8 byte order mark (Excel's \"CSV UTF-8\"); "
                    "CMS publishes them as Latin-1: load the file as downloaded, or save it without the mark"
                )
            return None
        return Claim(part=head.part, release_id=_release_from_name(path))

    def effective_from(self, release_id: str) -> date | None:
        """An MUE release is named for the first date of service it applies to: YYYY-MM-DD."""
        match = _RELEASE.fullmatch(release_id)
        if match is None:
            return None
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            return None

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """The tables of each part as the relation ``staged``, one row per physical line.

        The lines are read once into a table (DuckDB's CSV reader, via ``_lines``); the head of
        each file (notice and header) is found in Python from its first records. ``mue_rows``
        cuts and types the lines once, into a table, because the counts, the repeats, the
        checks and the publish all read the fields (a quarter is about 45,000 lines);
        ``staged`` is a view adding what only the checks need.
        """
        files, heads = [], []
        for part, paths in parts.items():
            if len(paths) > 1:
                names = " and ".join(shown(p) for p in paths)
                raise SourceError(
                    f"{names} both hold the {part} MUE table; a release has one table per service type: "
                    "load them as separate releases"
                )
            head = _head(paths[0])
            if head is None:  # claimed a moment ago; the file changed since
                raise SourceError(f"{shown(paths[0])}: no longer looks like an MUE table; load it again")
            heads.append((len(heads), paths[0].name, part, head.notice_to, head.header_to))
            files.append(_lines.inspect(paths[0], ended=True))  # CMS ends every record with CRLF
        _lines.stage(con, "mue_raw", files)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE mue_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "notice_to INTEGER, header_to INTEGER)"
        )
        con.executemany("INSERT INTO mue_files VALUES (?, ?, ?, ?, ?)", heads)
        con.execute("CREATE OR REPLACE TEMP TABLE mue_rows AS " + sqlfiles.query("ncci_mue_rows"))
        con.execute(sqlfiles.query("ncci_mue_repeats"))
        con.execute("SET VARIABLE mue_mai_texts = ?", [[MAI_TEXTS[n] for n in sorted(MAI_TEXTS)]])
        con.execute("SET VARIABLE mue_control_pattern = ?", [_lines.CONTROL])
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("ncci_mue_stage"))
        records = dict(con.execute(
            "SELECT file_no, COUNT(*) FILTER (WHERE kind = 'data') FROM mue_rows GROUP BY file_no"
        ).fetchall())
        return [
            StagedFile(name=item.path.name, part=part, rows=records.get(number, 0), kind=part,
                       line_ending=_ending(item, header))
            for item, (number, _name, part, _notice, header) in zip(files, heads)
        ]

    def fill(self, table: str) -> str:
        return sqlfiles.query("ncci_mue_fill_limits")

    def notes(self, con) -> list[str]:
        """The head of each table, skipped on purpose: the notice record and the (wrapped) header."""
        found = []
        for name, notice_to, header_to in con.execute(
            "SELECT source_file, notice_to, header_to FROM mue_files ORDER BY file_no"
        ).fetchall():
            header = _span(notice_to + 1, header_to)
            wrapped = f", wrapped over {header_to - notice_to} lines" if header_to > notice_to + 1 else ""
            if notice_to:
                found.append(
                    f"{name}: {_span(1, header_to)} are the notice record ({_span(1, notice_to)}) and the "
                    f"header ({header}{wrapped}): not data, not loaded"
                )
            else:
                found.append(f"{name}: {header} is the header{wrapped} (no notice record): not data, not loaded")
        return found

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".csv", _SAMPLE_EFFECTIVE_FROM)


LOADER = NcciMueLoader()


def model():
    """The pandera model of a staged MUE line (see sql/queries/ncci_mue_stage.sql for the columns)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()
    known = ", ".join(f"'{text}'" for text in MAI_TEXTS.values())

    class MueLine(pa.DataFrameModel):
        source_file: str
        line_no: int
        # the fields of a data record with 4 fields; NULL on the head, blank lines and bad records
        code: str = pa.Field(
            nullable=True,
            str_matches=r"[A-Z0-9]{5}$",
            description="a code is 5 characters, A-Z or 0-9 (a HCPCS or CPT code)",
        )
        mue_field: str = pa.Field(
            nullable=True,
            str_matches=r"[0-9]{1,9}$",
            description="the MUE value is a whole number of units, 0 or more",
        )
        mai_text: str = pa.Field(
            nullable=True,
            str_matches=r"[123]( |$)",
            description="the adjudication indicator starts with 1, 2 or 3, then a space or the end of the field",
        )

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("raw", "kind <> 'data' OR fields IS NOT NULL",
                         "quotes do not pair up: a quoted field must close on its line and be followed by "
                         "a comma or the line end"),
                    Rule("record", "fields IS NULL OR field_count = 4",
                         "a data record has 4 fields: code, MUE value, adjudication indicator, rationale"),
                    Rule("code_repeated", "code_repeated IS NULL",
                         "a code appears once in a table; the value names its other line(s)"),
                    Rule("control_character", "control_character IS NULL",
                         "a control character (NUL, ESC, BEL ...) in a record: CMS's MUE tables are text, and a "
                         "control character reaches a terminal or a claim system through the stored value; "
                         "the value names the character and its column: fix the line (or get the file again)"),
                    # loaded on purpose and reported
                    Rule("mai_text", "mai IS NULL OR mai_known",
                         f"MUE adjudication indicator text CMS does not write for its digit (read by the digit; "
                         f"CMS writes {known})",
                         note=True),
                    Rule("code_field", "code_field IS NULL OR code_field = upper(code_field)",
                         "code in lower case (stored upper case)", note=True),
                    Rule("code_field", "code_field IS NULL OR code_field = trim(code_field)",
                         "code with spaces around it (stored without them)", note=True),
                    Rule("rationale_field", "rationale_field IS NULL OR rationale_field <> ''",
                         "rationale left empty (stored as NULL)", note=True),
                    Rule("raw", "kind <> 'blank'", "blank record (skipped: it holds no field)", note=True),
                ),
            }

    return MueLine


@dataclass(frozen=True)
class _Record:
    fields: tuple[str, ...]
    first_line: int
    last_line: int


@dataclass(frozen=True)
class _Head:
    part: str
    notice_to: int  # last line of the notice record; 0 when the file has none
    header_to: int  # last line of the header record


def _head(path: Path) -> _Head | None:
    """Find the notice and header of an MUE table; None for a file that is not one.

    A file is taken for an MUE table when one of its first records holds an MUE header title or
    has the shape of an MUE data record. Such a file whose header is missing or wrong is refused
    here, naming the line (and column) that is wrong.
    """
    with open(path, "rb") as handle:
        data = handle.read(_HEAD_BYTES + 1)
    if not data:
        raise SourceError(f"{shown(path)}: the file is empty")
    complete = len(data) <= _HEAD_BYTES
    records = _records(data[:_HEAD_BYTES].decode("latin-1"), _HEAD_RECORDS, complete)
    if not any(_header_like(r) or _data_like(r) for r in records):
        return None
    first = records[0]
    notice = first if _notice_like(first) else None
    if notice is None:
        header = first
    else:
        header = records[1] if len(records) > 1 else None
    name = shown(path)
    if header is None:
        raise SourceError(
            f"{name}: line {first.last_line + 1}: the header record is missing after the notice (lines "
            f"{first.first_line}-{first.last_line}); expected {_EXPECTED}"
        )
    if not _header_like(header):
        raise SourceError(
            f"{name}: line {header.first_line}: the header record is missing; expected {_EXPECTED}, "
            f"found {_shown_record(header)}"
        )
    if len(header.fields) != 4:
        raise SourceError(
            f"{name}: line {header.first_line}: the header record has {len(header.fields)} fields, not 4; "
            f"expected {_EXPECTED}, found {_shown_record(header)}"
        )
    expected = {1: (CODE_TITLE,), 2: tuple(PARTS), 3: OTHER_TITLES[:1], 4: OTHER_TITLES[1:]}
    for column, titles in expected.items():
        value = header.fields[column - 1]
        if _key(value) not in {_key(t) for t in titles}:
            wanted = " or ".join(f"'{t}'" for t in titles)
            raise SourceError(
                f"{name}: line {header.first_line}, column {column}: header title '{escape(value, 80)}' "
                f"is not {wanted}; this loader reads the CMS MUE tables as published"
            )
    return _Head(
        part=_PART_KEYS[_key(header.fields[1])],
        notice_to=notice.last_line if notice is not None else 0,
        header_to=header.last_line,
    )


def _records(text: str, limit: int, complete: bool) -> list[_Record]:
    """The first ``limit`` CSV records of ``text``, with the physical lines each spans.

    RFC 4180 quoting: a field that starts with a quote runs to the closing quote, line breaks
    and commas included, and ``""`` inside it is one quote. A record ends at a line feed outside
    quotes (a carriage return before it is dropped). The last record counts only when ``text``
    is the whole file (``complete``), or it may be cut short.
    """
    records: list[_Record] = []
    fields: list[str] = []
    field: list[str] = []
    line = start = 1
    quoted = was_quoted = False
    position, end = 0, len(text)
    while position < end and len(records) < limit:
        char = text[position]
        position += 1
        if quoted:
            if char == '"':
                if text.startswith('"', position):
                    field.append('"')
                    position += 1
                else:
                    quoted = False
                continue
            if char == "\n":
                line += 1
            field.append(char)
        elif char == '"' and not field and not was_quoted:
            quoted = was_quoted = True
        elif char == ",":
            fields.append("".join(field))
            field, was_quoted = [], False
        elif char == "\n":
            value = "".join(field)
            fields.append(value[:-1] if value.endswith("\r") and not was_quoted else value)
            records.append(_Record(tuple(fields), start, line))
            fields, field, was_quoted = [], [], False
            line += 1
            start = line
        else:
            field.append(char)
    if complete and position >= end and len(records) < limit and (fields or field) and not quoted:
        records.append(_Record((*fields, "".join(field)), start, line))
    return records


def _notice_like(record: _Record) -> bool:
    """The notice: one text field, then empty ones (``,,,``), and no header title."""
    head, *rest = record.fields
    return bool(head.strip()) and not any(f.strip() for f in rest) and _key(head) not in _TITLE_KEYS


def _header_like(record: _Record) -> bool:
    return any(_key(f) in _TITLE_KEYS for f in record.fields)


def _data_like(record: _Record) -> bool:
    return (
        len(record.fields) == 4
        and _DATA_SHAPE.match(record.fields[1].strip()) is not None
        and _MAI_SHAPE.match(record.fields[2]) is not None
    )


def _shown_record(record: _Record) -> str:
    return "'" + escape(",".join(record.fields), 120) + "'"


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _release_from_name(path: Path) -> str | None:
    """CMS names each table after the first day it applies to: ..._Eff_07-01-2026.csv -> 2026-07-01."""
    match = _EFFECTIVE.search(path.name)
    if match is None:
        return None
    month, day, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _ending(item: _lines.LineFile, header_to: int) -> str:
    """The records' line ending: CMS's notice and header break lines with a bare LF inside quotes,
    which is how the tables are published, not a mix worth a note."""
    if item.line_ending != "mixed":
        return item.line_ending
    with open(item.path, "rb") as handle:
        head = b"".join(handle.readline() for _ in range(header_to))
    inside = head.count(b"\n") - head.count(b"\r\n")
    return "CRLF" if item.bare_lf == inside else "mixed"


def _has_bom(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(3) == b"\xef\xbb\xbf"


def _head_text_names_mue(path: Path) -> bool:
    with open(path, "rb") as handle:
        return b"MUE Values" in handle.read(1 << 16)
