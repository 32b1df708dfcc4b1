"""HCPCS Level II: CMS's alpha-numeric HCPCS file, the procedure codes and modifiers with their dates.

CMS publishes the file each year (and updates it each quarter) in two forms holding the same rows:
the fixed-width "contractor" file (HCPC2019_CONTR_ANWEB.txt, 320-character records in CMS's
record layout) and a spreadsheet (HCPC2026_OCT_ANWEB.xlsx), read here as a CSV exported from it.
A code's long description runs over several records: a first record (RECID 3 for a procedure
code, 7 for a modifier) with every field, then continuation records (RECID 4, 8) carrying the
next 80 characters of text, numbered up by 100 (SEQNUM). One code, one row of the shared code
rows: its add date (ADD DT) and termination date (TERM DT) narrow the release's window. Each
cross-reference (XREF1-XREF5) is a map row: the code CMS points to, for most a terminated code's
successor.

Both forms are one part, ``alphanumeric``: they are the same file, so a release holds one of
them, and loading the other form under the same release is refused as a changed part. The
release comes from the name (HCPC17_CONTR_ANWEB.txt -> ``2017``, effective January 1;
HCPC2026_OCT_ANWEB.csv -> ``2026-10``, effective October 1); the form from the content.

Quirks of the real files, each handled on purpose (tests/loaders/test_hcpcs.py):

- 2018 opens with 11 lines of disclaimer text and 2019 with 8 (TAB-padded, with Latin-1 no-break
  spaces, 0xA0): recognised as a block (its first line names a disclaimer, a record follows),
  skipped and noted. Text among the records is refused: it is no record.
- 2017's 4,330 continuation records are cut after column 91 (the end of the long description),
  and one of 2019's (G8891, line 4,461) is 316 characters: a continuation carries nothing past
  column 91, so a shorter one is read as padded with blanks, and noted. A first record that is
  not 320 characters is refused: its fields would be misread.
- P7001's cross-reference is the word 'CPT' (see the CPT book), not a code: noted, not mapped.
- 2019's A5513 has no action effective date (stored as NULL, noted); a few codes' action took
  effect before the code was added (E0910, S0091): loaded as published, noted.
- CRLF line endings; the CSV's quoted descriptions with commas, modifiers with three leading
  blanks ('   A1') and a last line without a line ending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from codesets.core import codes
from codesets.core.errors import SourceError
from codesets.loaders import _hcpcs_head, _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Declaration, Period
from codesets.core.text import shown
from codesets.core import sqlfiles

PART = "alphanumeric"  # CMS: "Alpha-Numeric HCPCS File", fixed-width or spreadsheet
ACTION_CODES = "ABCDFNPRST"  # the record layout's ACTION CD values
RECORD_LENGTH = 320
DESCRIPTION_END = 91  # the long description is columns 12-91; a continuation record holds nothing after
_SAMPLE_EFFECTIVE_FROM = date(2019, 1, 1)

# The shared table of code rows: 'code_rows' (the `codes` view reads it) in the tree being written,
# 'codes' before; whichever the contract names.

# the 1-based CSV field of each column read, a column per name in hcpcs_files (NULL for a fixed-width file)
_FIELD_COLUMNS = tuple(f"field_{name}" for name in _hcpcs_head.CSV_TITLES.values())


class HcpcsLoader:
    """The alpha-numeric HCPCS file: one part, fixed-width or CSV."""

    source = "hcpcs"
    description = "CMS alpha-numeric HCPCS file (Level II codes and modifiers), fixed-width or CSV"
    tables = ("code_rows", "maps")
    declares = Declaration(
        code_systems=(CodeSystem("hcpcs", validity=True), CodeSystem("hcpcs_modifier", validity=True)),
        whole_release=True,
        periods=(Period("calendar_year", r"(19|20)[0-9]{2}"), Period("quarter", r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])")),
    )

    def claim(self, path: Path) -> Claim | None:
        """A HCPCS file starts with a record (a code, a sequence number and a RECID digit at
        column 11) or the CSV header HCPC,SEQNUM,RECID,..., perhaps after a disclaimer block."""
        if _hcpcs_head.read_head(path) is None:
            return None
        return Claim(part=PART, release_id=_hcpcs_head.release_from_name(path))

    def effective_from(self, release_id: str) -> date | None:
        return _hcpcs_head.effective_from(release_id)

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """The lines of each file as the relation ``staged``: read once (DuckDB's CSV reader, via
        ``_lines``), cut into fields once (table ``hcpcs_rows``); ``staged`` is a view adding
        what only the checks and the fills need."""
        files, heads = [], []
        for part, paths in parts.items():
            if len(paths) > 1:
                names = " and ".join(shown(p) for p in paths)
                raise SourceError(
                    f"{names} are both an alpha-numeric HCPCS file; a release holds one (the fixed-width "
                    "file or the spreadsheet, which list the same codes): load them as separate releases"
                )
            path = paths[0]
            head = _hcpcs_head.read_head(path)
            if head is None:  # claimed a moment ago; the file changed since
                raise SourceError(f"{shown(path)}: no longer looks like a HCPCS file; load it again")
            _hcpcs_head.refuse_utf8(path)
            files.append(_lines.inspect(path))
            heads.append((path, part, head))
        _lines.stage(con, "hcpcs_raw", files)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE hcpcs_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "format VARCHAR, disclaimer_to INTEGER, head_to INTEGER, field_count INTEGER, "
            + ", ".join(f"{c} INTEGER" for c in _FIELD_COLUMNS) + ")"
        )
        con.executemany(
            f"INSERT INTO hcpcs_files VALUES ({', '.join('?' * (7 + len(_FIELD_COLUMNS)))})",
            [
                (number, path.name, part, head.format, head.disclaimer_to, head.header_line or head.disclaimer_to,
                 head.field_count or None, *(head.columns.get(c) for c in _hcpcs_head.CSV_TITLES.values()))
                for number, (path, part, head) in enumerate(heads)
            ],
        )
        con.execute("SET VARIABLE hcpcs_record_start = ?", ["^" + _hcpcs_head.RECORD_START.pattern])
        for name, system in (("hcpcs_pattern", "hcpcs"), ("hcpcs_modifier_pattern", "hcpcs_modifier"),
                             ("cpt_pattern", "cpt")):
            con.execute(f"SET VARIABLE {name} = ?", [codes.PATTERNS[system].pattern])
        con.execute("CREATE OR REPLACE TEMP TABLE hcpcs_rows AS " + sqlfiles.query("hcpcs_rows"))
        con.execute(sqlfiles.query("hcpcs_repeats"))
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("hcpcs_stage"))
        records = dict(con.execute(
            "SELECT file_no, COUNT(*) FILTER (WHERE kind = 'record') FROM hcpcs_rows GROUP BY file_no"
        ).fetchall())
        _refuse_excerpts(con, heads, records)
        return [
            StagedFile(name=item.path.name, part=part, rows=records.get(number, 0), kind=head.kind,
                       line_ending=item.line_ending)
            for number, (item, (_path, part, head)) in enumerate(zip(files, heads))
        ]

    def fill(self, table: str) -> str:
        if table == "maps":
            return sqlfiles.query("hcpcs_fill_maps")
        return sqlfiles.query("hcpcs_fill_codes")

    def notes(self, con) -> list[str]:
        """Each file's head, skipped on purpose: the disclaimer block and the CSV header."""
        found = []
        for name, fmt, disclaimer_to, head_to in con.execute(
            "SELECT source_file, format, disclaimer_to, head_to FROM hcpcs_files ORDER BY file_no"
        ).fetchall():
            if disclaimer_to:
                found.append(
                    f"{name}: {_span(1, disclaimer_to)} are CMS's disclaimer block, text before the first "
                    "record: skipped, not loaded"
                )
            if fmt == "csv":
                found.append(f"{name}: line {head_to} is the CSV header: not data, not loaded")
        return found

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


def _refuse_excerpts(con, heads, records: dict[int, int]) -> None:
    """A release lists every code in force: a file with records but no procedure code is a part of
    one (the 2026 CSV excerpt holds modifiers only), and as a release it would end every code."""
    procedures = dict(con.execute(
        "SELECT file_no, COUNT(*) FILTER (WHERE is_first AND code_system = 'hcpcs') FROM hcpcs_rows GROUP BY file_no"
    ).fetchall())
    for number, (path, _part, _head) in enumerate(heads):
        if records.get(number) and not procedures.get(number):
            raise SourceError(
                f"{shown(path)}: {records[number]:,} records and not one procedure code (RECID 3): a HCPCS release "
                "lists every code in force, so this is part of a file (an excerpt?); load the whole file"
            )


LOADER = HcpcsLoader()


def model():
    """The pandera model of a staged HCPCS line (see sql/queries/hcpcs_stage.sql for the columns)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()
    actions = ", ".join(f"'{a}'" for a in ACTION_CODES)
    xref_rules = tuple(
        Rule(f"xref{n}", f"NOT is_readable_first OR xref_kinds[{n}] <> 'bad'",
             f"cross-reference XREF{n} names a HCPCS code (A0021), a CPT code (99406, 0377T), a modifier (QM) "
             "or nothing")
        for n in range(1, 6)
    )
    xref_notes = tuple(
        Rule(f"xref{n}", f"NOT is_readable_first OR xref_kinds[{n}] <> 'CPT'",
             f"cross-reference (XREF{n}) that is the word 'CPT' (see the CPT book), not a code: not mapped",
             note=True)
        for n in range(1, 6)
    )

    class HcpcsLine(pa.DataFrameModel):
        source_file: str
        line_no: int
        # the fields of a record; NULL on the disclaimer, the header, blank lines and text
        recid: str = pa.Field(
            nullable=True,
            isin=["3", "4", "7", "8"],
            description="RECID (column 11) is 3 (a procedure code's first record), 4 (its continuation), "
                        "7 (a modifier's first record) or 8 (its continuation)",
        )
        seqnum: str = pa.Field(
            nullable=True,
            str_matches=r"[0-9]{1,5}$",
            description="the sequence number (SEQNUM, columns 6-10) is digits",
        )

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("raw", "record_shaped IS NOT FALSE",
                         "not a HCPCS record: columns 1-11 of a record are a code, a 5-digit sequence number and a "
                         "RECID digit (text such as a disclaimer belongs before the first record)"),
                    Rule("csv_problem", "csv_problem IS NULL",
                         "a CSV record has as many fields as the header, and quotes that pair up on its line"),
                    Rule("line_length", f"format <> 'fixed' OR NOT is_first OR line_length = {RECORD_LENGTH}",
                         f"a first record (RECID 3 or 7) is {RECORD_LENGTH} characters long; this one is cut short or "
                         "too long, so its fields would be misread"),
                    Rule("line_length",
                         f"format <> 'fixed' OR NOT is_continuation OR line_length BETWEEN {DESCRIPTION_END} "
                         f"AND {RECORD_LENGTH}",
                         f"a continuation record (RECID 4 or 8) is {DESCRIPTION_END} to {RECORD_LENGTH} characters: "
                         f"its long description ends at column {DESCRIPTION_END}"),
                    Rule("after_column_91", "NOT is_continuation OR NOT regexp_matches(after_column_91, '[^ ]')",
                         "a continuation record (RECID 4 or 8) is blank after column 91 (the layout gives it no "
                         "other field)"),
                    Rule("hcpc", "code_system IS NULL OR code_fits",
                         "a procedure code (RECID 3, 4) is a letter and four digits; a modifier (RECID 7, 8) "
                         "two letters or digits, right-justified in a fixed-width record ('   A1')"),
                    Rule("sequence_problem", "sequence_problem IS NULL",
                         "a continuation record (RECID 4 or 8) follows its code's first record (3 or 7) or previous "
                         "continuation, its sequence number 100 higher (in a CSV, higher)"),
                    Rule("code_repeated", "code_repeated IS NULL",
                         "a code has one first record (RECID 3 or 7) in a file; the value names its other line(s)"),
                    Rule("long_description", "NOT is_readable_first OR trim(long_description) <> ''",
                         "a first record starts the long description (columns 12-91)"),
                    Rule("add_dt", "NOT is_readable_first OR added IS NOT NULL",
                         "the add date (ADD DT; columns 269-276 of a fixed-width record) is a date written YYYYMMDD"),
                    Rule("act_eff_dt", "NOT is_readable_first OR trim(act_eff_dt) = '' OR action_effective IS NOT NULL",
                         "the action effective date (ACT EFF DT; columns 277-284 of a fixed-width record) is a date "
                         "written YYYYMMDD, "
                         "or blank"),
                    Rule("term_dt", "NOT is_readable_first OR trim(term_dt) = '' OR terminated IS NOT NULL",
                         "the termination date (TERM DT; columns 285-292 of a fixed-width record) is a date written "
                         "YYYYMMDD, or blank"),
                    Rule("term_dt", "NOT is_readable_first OR terminated IS NULL OR added IS NULL OR terminated >= added",
                         "the termination date (TERM DT) is on or after the add date (ADD DT)"),
                    Rule("action_cd", f"NOT is_readable_first OR action_cd IN ({actions})",
                         "the action code (ACTION CD; column 293 of a fixed-width record) is one of "
                         f"{', '.join(ACTION_CODES)}"),
                    *xref_rules,
                    # loaded on purpose and reported
                    Rule("line_length",
                         f"format <> 'fixed' OR NOT is_continuation OR line_length >= {RECORD_LENGTH}",
                         "continuation record shorter than 320 characters (blanks after the long description "
                         "trimmed): read as padded with blanks", note=True),
                    Rule("act_eff_dt", "NOT is_readable_first OR trim(act_eff_dt) <> ''",
                         "blank action effective date (ACT EFF DT; stored as NULL)", note=True),
                    Rule("act_eff_dt", "NOT is_readable_first OR action_effective >= added",
                         "date of action (ACT EFF DT) before the add date (loaded as published)", note=True),
                    Rule("hcpc", "code_system IS NULL OR hcpc = upper(hcpc)",
                         "code in lower case (stored upper case)", note=True),
                    *xref_notes,
                    Rule("raw", "kind <> 'record' OR NOT regexp_matches(raw, '[\x00-\x08\x0A-\x1F\x7F]')",
                         "a control character (NUL, ESC ...) in a record; CMS's records are text"),
                    Rule("raw", "kind <> 'blank'", "blank line (skipped: it holds no record)", note=True),
                ),
            }

    return HcpcsLine


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"
