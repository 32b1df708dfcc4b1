"""CMS NCCI procedure-to-procedure (PTP) edits: practitioner and outpatient hospital tables.

CMS publishes each quarter's PTP edits as eight text files: practitioner ``ccipra-vNNNrN-f1``
to ``f4`` and outpatient hospital ``ccioph-vNNNrN-f1`` to ``f4``, split by column-1 code. Each
file is tab-separated, CRLF, Latin-1, with a header of six lines: the AMA notice, the title
``Column1/Column2 Edits``, and a column header wrapped over four lines. Then one edit per line:
column-1 code, column-2 code, ``*`` when the edit existed before 1996, effective date and
deletion date as YYYYMMDD (``*`` for none), modifier indicator (0 not allowed, 1 allowed,
9 not applicable) and the rationale.

The setting is in the file name only (the content is alike), so the part comes from the
name: ``ccipra`` practitioner, ``ccioph`` outpatient hospital. The release is the NCCI
version in the name: ``v322r0`` is version 32.2 revision 0, effective July 1, 2026 (the
year is 1994 + 32, the quarter 2 counts from 0).

The files are cumulative: each quarter repeats every edit of the last, deleted ones kept with
their deletion date. The shape this loader fills, ``edits``, is stored cumulatively: the publish
keeps a release as the rows it publishes first plus runs of lines pointing at rows an earlier
release published (``codesets.warehouse.history``), so the warehouse grows with what changed.

Quirks of the real files, loaded on purpose and reported: indicator 9 rows whose deletion date
equals the effective date (never an edit), the same pair and effective date twice (active
and deleted, or under indicators 9 and 0), deletion dates before the effective date, and
codes in lower case (stored upper case).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from codesets.core.errors import SourceError
from codesets.loaders import _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import Comparison, Declaration
from codesets.core.text import shown
from codesets.core import sqlfiles

SETTINGS = {"ccipra": "practitioner", "ccioph": "outpatient_hospital"}
FIELDS = 7  # column 1, column 2, prior-1996 flag, effective, deletion, indicator, rationale
_VERSION = re.compile(r"(?<![0-9A-Za-z])v([0-9]{2})([0-3])r([0-9]{1,2})(?![0-9])", re.IGNORECASE)
_PREFIX = re.compile(r"^(ccipra|ccioph)", re.IGNORECASE)
_DATA = re.compile(rb"^[A-Za-z0-9]{4,7}\t[^\t]*\t[^\t]*\t[0-9]{8}\t")
_HEADER_LINES = 20  # the header is six lines; a file whose first rows start later is not one
_SAMPLE_EFFECTIVE_FROM = date(2026, 7, 1)


class NcciPtpLoader:
    """The NCCI PTP edit files: one part per setting, so hospital files may follow later."""

    source = "ncci_ptp"
    description = "CMS NCCI procedure-to-procedure edits (ccipra practitioner, ccioph outpatient hospital)"
    tables = ("edits",)
    declares = Declaration(
        diff=Comparison(
            view="ptp_changes",
            part_columns=("setting",),
            changes=("added", "deleted", "reindicated", "changed", "removed"),
            order=("setting", "column1_code", "column2_code", "effective_date", "change", "old_source_file",
                   "old_line_no", "new_source_file", "new_line_no"),
            unit="edit lines",
        ),
    )

    def claim(self, path: Path) -> Claim | None:
        header = _header(path)
        if header is None:
            return None
        prefix = _PREFIX.match(path.name)
        if prefix is None:
            raise SourceError(
                f"{shown(path)}: an NCCI PTP file, but its name does not say the setting; CMS names them "
                "ccipra-... (practitioner) and ccioph-... (outpatient hospital): rename it so"
            )
        version = _VERSION.search(path.name)
        return Claim(part=SETTINGS[prefix.group(1).lower()], release_id=version.group(0).lower() if version else None)

    def effective_from(self, release_id: str) -> date | None:
        """``vYYQrN``: NCCI version YY.Q takes effect on the first day of quarter Q (0-3) of 1994 + YY."""
        match = _VERSION.fullmatch(release_id)
        if match is None:
            return None
        return date(1994 + int(match.group(1)), 1 + 3 * int(match.group(2)), 1)

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """Every data line of every file into ``ptp_raw``, read by DuckDB's CSV reader at disk speed.

        The reader skips empty lines and pads short ones, so the byte pass (``_lines.inspect``)
        counts lines and tabs first: a file whose tab count is not six per data line (an empty
        line has none) is refused here with the line named, before any row is read. Empty lines
        at the very end hold nothing and are not data lines.
        """
        staged, files = [], []
        for part, paths in parts.items():
            for path in paths:
                header = _header(path)
                info = _lines.inspect(path, ended=True)  # CMS ends every edit with CRLF: else cut short
                lines = _check_layout(path, info, header)
                files.append((len(files), path, part, header, lines, info.line_ending))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ptp_raw (file_no USMALLINT, c1 VARCHAR, c2 VARCHAR, "
            "prior VARCHAR, effective VARCHAR, deletion VARCHAR, indicator VARCHAR, rationale VARCHAR)"
        )
        first_rows = []
        for file_no, path, _part, header, lines, _ending in files:
            (before,) = con.execute("SELECT COUNT(*) FROM ptp_raw").fetchone()
            (rows,) = con.execute(sqlfiles.query("ncci_ptp_read"), [file_no, str(path), header]).fetchone()
            if rows != lines:  # the reader dropped or split a line: never load that silently
                raise SourceError(f"{shown(path)}: {lines:,} data lines but {rows:,} rows read; the file is not one edit per line")
            first_rows.append(before)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ptp_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "first_row BIGINT, header INTEGER)"
        )
        con.executemany("INSERT INTO ptp_files VALUES (?, ?, ?, ?, ?)",
                        [(n, p.name, part, first, header) for (n, p, part, header, _l, _e), first in zip(files, first_rows)])
        con.execute("CREATE OR REPLACE TEMP VIEW ptp_rows AS " + sqlfiles.query("ncci_ptp_rows"))
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + sqlfiles.query("ncci_ptp_stage"))
        for _n, path, part, _skipped, lines, ending in files:
            staged.append(StagedFile(name=path.name, part=part, rows=lines, kind=f"ptp {part}", line_ending=ending))
        return staged

    def fill(self, table: str) -> str:
        return (
            "SELECT part, setting, column1_code, column2_code, prior_1996, effective_date, deletion_date, "
            "modifier_indicator, rationale, source_file, line_no FROM ptp_rows"
        )

    def notes(self, con) -> list[str]:
        """Pairs published more than once in a part with the same effective date (a row rule cannot see them)."""
        return [
            f"{file}: {pairs:,} pair(s) repeated with the same effective date on the next line, first at line {first} "
            "(e.g. under indicators 9 and 0, or active and deleted); all are loaded, and the scrub applies "
            "the strictest one in force"
            for file, pairs, first in con.execute(sqlfiles.query("ncci_ptp_repeats")).fetchall()
        ]

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


LOADER = NcciPtpLoader()


def model():
    """The pandera model of a staged PTP row (columns: sql/queries/ncci_ptp_stage.sql)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()

    class PtpRow(pa.DataFrameModel):
        source_file: str
        line_no: int
        c1: str = pa.Field(str_matches=r"[A-Za-z0-9]{5}$", description="column 1 must be a five-character code")
        c2: str = pa.Field(str_matches=r"[A-Za-z0-9]{5}$", description="column 2 must be a five-character code")
        indicator: str = pa.Field(isin=["0", "1", "9"], description="modifier indicator must be 0, 1 or 9")

        class Config:
            strict = False
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("prior", "prior IS NULL OR prior = '*'", "the prior-1996 field must be empty or '*'"),
                    Rule("effective", "coalesce(length(effective) = 8 AND effective_date IS NOT NULL, FALSE)", "effective date must be a date as YYYYMMDD"),
                    Rule("deletion", "coalesce(deletion = '*' OR (length(deletion) = 8 AND deletion_date IS NOT NULL), FALSE)",
                         "deletion date must be a date as YYYYMMDD, or '*' for none"),
                    # quirks of the real files: loaded as published, reported
                    Rule("deletion", "NOT (indicator = '9' AND deletion_date = effective_date)",
                         "deletion date on the effective date under indicator 9 (not an edit)", note=True),
                    Rule("deletion", "indicator = '9' OR deletion_date IS NULL OR deletion_date >= effective_date",
                         "deletion date before the effective date (never in force)", note=True),
                    Rule("c1", "c1 = upper(c1) AND c2 = upper(c2)", "code in lower case (stored upper case)", note=True),
                ),
            }

    return PtpRow


def _header(path: Path) -> int | None:
    """The number of header lines before the first edit, or None when this is no PTP file."""
    try:
        with open(path, "rb") as handle:
            head = [handle.readline(4096) for _ in range(_HEADER_LINES)]
    except OSError:
        return None
    titled = False
    for number, line in enumerate(head):
        if b"Column1/Column2" in line or line.startswith(b"Column 1\tColumn 2"):
            titled = True
        if _DATA.match(line):
            return number if titled else None
        if line == b"" and titled:  # the header alone: a PTP file without edits, refused as empty at load
            return number
    return None


def _check_layout(path: Path, info: _lines.LineFile, header: int) -> int:
    """The number of data lines; refuses an empty line or one without exactly six tabs, naming it.

    Empty lines at the very end of the file hold nothing and are not counted.
    """
    with open(path, "rb") as handle:
        header_tabs = sum(handle.readline().count(b"\t") for _ in range(header))
    trailing = _trailing_empty_lines(path)
    lines = info.lines - header - trailing
    if info.tabs == header_tabs + (FIELDS - 1) * lines:
        return lines
    with open(path, "rb") as handle:  # the slow path, for the message only
        for number, line in enumerate(handle, start=1):
            if number > header and line.count(b"\t") != FIELDS - 1 and number <= header + lines:
                if not line.strip(b"\r\n"):
                    raise SourceError(f"{shown(path)}: line {number:,} is empty; a PTP file has one edit per line")
                fields = line.count(b"\t") + 1
                raise SourceError(
                    f"{shown(path)}: line {number:,} has {fields} tab-separated fields; a PTP edit has {FIELDS} "
                    "(column 1, column 2, prior-1996 flag, effective, deletion, modifier indicator, rationale)"
                )
    raise SourceError(f"{shown(path)}: the header lines are not the PTP header")


def _trailing_empty_lines(path: Path) -> int:
    """Empty lines after the last line of text (a file's own final line ending is not one)."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    stripped = tail.rstrip(b"\r\n")
    if len(stripped) == len(tail) or not stripped:
        return 0
    return max(tail[len(stripped):].count(b"\n") - 1, 0) + (0 if tail.endswith(b"\n") else 1)
