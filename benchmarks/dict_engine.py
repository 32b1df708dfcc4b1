"""A per-line Python dictionary engine for the PTP and MUE checks: the twin of the SQL scrub.

Run from the repository root with the project's virtual environment:

    python benchmarks/dict_engine.py DIR [--claims PATH] [--out FINDINGS.parquet] [--repeat N]

It exists only to prove the SQL of ``codesets scrub`` (identical findings) and to time it
(benchmarks/bench_scrub.py); the product never calls it. It is written the way scrubber teams
write such engines (see ../shared/specs/ on the context/modifier matrix): read the raw CMS files
line by line into dictionaries keyed for O(1) lookups, then walk the claim lines claim by claim,
line by line. The rules and the exact texts are those of docs/scrub-rules.md, checks ``ptp``
and ``mue``; input checking is out of scope (clean input is assumed) except that a line
breaking an input rule takes no part in the checks, as the rules say: the same bounds as the
SQL (line_number 1 to 2,147,483,647; units above 0 and at most MAX_UNITS; a real date). The
twin words no ``input`` finding (the SQL does, naming row and column, never a value of the
claim): it only leaves such a line out. No finding writes a date of service (PHI: "on the
line's date of service"), and the "no release" finding names its procedure code only where it
has the shape of a HCPCS Level II or CPT code (PROCEDURE_SHAPE), as the SQL does.

Files, as CMS publishes them (see ../shared/data/PROVENANCE.md):

- PTP: ``ccipra-vNNNrN-fK.txt`` (practitioner) and ``ccioph-vNNNrN-fK.txt`` (outpatient
  hospital), Latin-1, CRLF, 6 header lines, then tab-separated rows: column 1, column 2,
  prior-1996 flag, effective date YYYYMMDD, deletion date YYYYMMDD or ``*``, modifier
  indicator, rationale. The release is the version in the name (``v322r0``); only the latest
  version of each setting is used (the files are cumulative).
- MUE: ``MCR_MUE_{PractitionerServices,OutpatientHospitalServices,DMESupplierServices}_Eff_MM-DD-YYYY.csv``,
  Latin-1: a quoted multi-line notice record, a header record whose first field wraps
  (``HCPCS/`` LF ``CPT Code``), then code, MUE value, adjudication indicator text, rationale.
  The release is the Eff date (``2026-07-01``); a release serves from that date to the day
  before the next release of the same setting.

Line numbers in references are physical lines of the file (LF-terminated, so the lines inside
the quoted MUE notice count: the first data row of the real practitioner table is line 10).

The dictionaries:

- ``ptp[setting][column1_code] -> {column2_code: [(indicator, effective, deletion, rationale,
  file, line), ...]}`` (indicator 9 rows are not edits and are not kept; codes, dates and
  rationales are shared objects, not one copy per row);
- ``mue[setting] -> [MueRelease(effective_from, effective_to, release_id, file,
  limits={code: (value, mai, rationale, line)}), ...]`` sorted by effective_from.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import csv
import datetime as dt
import gc
import json
import math
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# The modifiers that may bypass a PTP edit of indicator 1 (docs/scrub-rules.md, "Modifiers").
ANATOMIC = frozenset(["E1", "E2", "E3", "E4", "FA", *(f"F{i}" for i in range(1, 10)), "LC", "LD", "LM", "RC", "RI",
                      "LT", "RT", "TA", *(f"T{i}" for i in range(1, 10))])
OTHER_NCCI = frozenset(["24", "25", "57", "58", "78", "79",  # global surgery
                        "27", "59", "91", "XE", "XS", "XP", "XU"])  # others
NCCI_MODIFIERS = ANATOMIC | OTHER_NCCI

PTP_SETTINGS = {"ccipra": "practitioner", "ccioph": "outpatient_hospital"}
MUE_SETTINGS = {
    "practitionerservices": "practitioner",
    "outpatienthospitalservices": "outpatient_hospital",
    "dmesupplierservices": "dme",
}
SETTINGS = ("practitioner", "outpatient_hospital", "dme")
PTP_HEADER_LINES = 6
PTP_NAME = re.compile(r"(ccipra|ccioph)-v(\d+)r(\d+)-f(\d+)\.txt", re.IGNORECASE)
MUE_NAME = re.compile(r"MCR_MUE_([A-Za-z]+)_Eff_(\d{2})-(\d{2})-(\d{4})\.csv", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DIGITS = re.compile(r"\s*\d+\s*")
MAX_UNITS = 99_999  # the most units one line may bill: codesets.scrub.claims.MAX_UNITS
MAX_LINE_NUMBER = 2_147_483_647  # line_number is an INTEGER in the SQL
# The procedure codes a finding may name where no edit row matched (the "no release" finding): the
# shape of a HCPCS Level II or CPT code (codesets.scrub.checks.input.PROCEDURE_SHAPE); any other value
# may be free text (a name, an SSN) and the finding's code is then None (docs/scrub-rules.md,
# "Values in findings"). ASCII digits only, as in the SQL.
PROCEDURE_SHAPE = re.compile(r"(?:[A-Z][0-9]{4})|(?:[0-9]{4}[0-9FTUM])")

FINDING_COLUMNS = ("claim_id", "line_number", "check", "severity", "code", "related_line_number", "reason",
                   "reference", "suggestion")
SORT_KEYS = ("claim_id", "line_number", "check", "related_line_number", "reference")

PTP_REASON = "{col2} is a column 2 code of {col1} on line {a} (NCCI PTP edit, modifier indicator {ind}): {rationale}"
PTP_SUGGESTION = {
    0: "do not bill {col2} with {col1} on the same day: no modifier bypasses this edit",
    1: "remove {col2}, or append an NCCI-associated modifier (59, XE, XP, XS, XU, anatomic or global surgery) "
       "if the services were distinct and documented",
}
MUE_LINE_REASON = "{units} units of {code} on this line exceed the MUE of {mue} (MAI 1, line edit; {rationale})"
MUE_LINE_SUGGESTION = "bill at most {mue} units of {code} on one line"
MUE_DAY_REASON = ("{total} units of {code} on the line's date of service {scope} exceed the MUE of {mue} "
                  "(MAI {mai}, date of service edit; {rationale})")
MUE_DAY_SUGGESTION = {
    2: "bill at most {mue} units of {code} per day: MAI 2 is a policy limit, not paid above it on appeal",
    3: "bill at most {mue} units of {code} per day, or send documentation of medical necessity on appeal "
       "(MAI 3 is clinical)",
}
MUE_NONE_REASON = "no MUE release in force for {setting} on the line's date of service"
MUE_NONE_SUGGESTION = ("load the MUE tables of the quarter holding the line's date of service "
                       "(codesets load ncci_mue FILE...)")
SCOPE_CLAIM = "on this claim"
SCOPE_MEMBER = "for this member and provider"


# --- the two rules still being researched: one small function each --------------------------

def bypassed(col1_line_modifiers, col2_line_modifiers) -> bool:
    """Whether the modifiers of the two lines bypass a PTP edit of modifier indicator 1.

    A non-anatomic NCCI-associated modifier on the column-2 line; or anatomic modifiers naming
    different sites: both lines carry one, and the column-2 line one the column-1 line lacks.
    """
    if any(m in OTHER_NCCI for m in col2_line_modifiers):
        return True
    sites_1 = {m for m in col1_line_modifiers if m in ANATOMIC}
    return bool(sites_1) and any(m in ANATOMIC and m not in sites_1 for m in col2_line_modifiers)


def in_force(date: dt.date, effective: dt.date, deletion: dt.date | None) -> bool:
    """Whether a PTP edit row applies on the date of service ``date``.

    Current reading: from the effective date through the deletion date, both included.
    """
    return effective <= date and (deletion is None or date <= deletion)


def mue_scope(by_member_provider: bool, claims_in_group: int) -> str:
    """``{scope}`` of an MAI 2/3 finding: the sum crossed claims by member and provider, or not."""
    return SCOPE_MEMBER if by_member_provider and claims_in_group > 1 else SCOPE_CLAIM


# --- texts -------------------------------------------------------------------------------------

def number(value) -> str:
    """Units and sums: an integer when whole (``3``), else the shortest form (``2.5``)."""
    if isinstance(value, int):
        return str(value)
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


# --- reading the CMS files --------------------------------------------------------------------

@dataclass
class MueRelease:
    setting: str
    release_id: str
    effective_from: dt.date
    file: str
    limits: dict = field(default_factory=dict)  # code -> (value, mai, rationale, line)
    effective_to: dt.date | None = None


def ptp_file_info(path: Path) -> tuple[str, str, tuple[int, int]]:
    """(setting, release id, sortable version) of a PTP file, from its name."""
    match = PTP_NAME.fullmatch(path.name)
    if not match:
        raise ValueError(f"{path.name}: not a PTP file name (ccipra|ccioph-vNNNrN-fK.txt)")
    prefix, year_quarter, revision, _part = match.groups()
    return PTP_SETTINGS[prefix.lower()], f"v{year_quarter}r{revision}", (int(year_quarter), int(revision))


def mue_file_info(path: Path) -> tuple[str, str, dt.date]:
    """(setting, release id, effective date) of an MUE table, from its name."""
    match = MUE_NAME.fullmatch(path.name)
    if not match or match.group(1).lower() not in MUE_SETTINGS:
        raise ValueError(f"{path.name}: not an MUE table name (MCR_MUE_<Table>_Eff_MM-DD-YYYY.csv)")
    table, month, day, year = match.groups()
    effective = dt.date(int(year), int(month), int(day))
    return MUE_SETTINGS[table.lower()], effective.isoformat(), effective


def _ymd(text: str, cache: dict) -> dt.date:
    date = cache.get(text)
    if date is None:
        date = cache[text] = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    return date


def read_ptp(ptp: dict, path: Path, dates: dict, texts: dict) -> int:
    """Add one PTP file's edit rows to ``ptp`` (column 1 -> column 2 -> rows, of one setting);
    return the rows read (indicator 9 included). ``dates`` and ``texts`` share parsed values."""
    file = sys.intern(path.name)
    rows = 0
    with open(path, "rb") as handle:
        for line, raw in enumerate(handle, start=1):  # physical lines: LF-terminated
            if line <= PTP_HEADER_LINES:
                continue
            text = raw.decode("latin-1").rstrip("\r\n")
            if not text:
                continue
            fields = text.split("\t")
            if len(fields) < 7:
                raise ValueError(f"{file} line {line}: {len(fields)} fields, expected 7")
            col1, col2, _prior, effective, deletion, indicator, rationale = fields[:7]
            rows += 1
            if indicator == "9":  # not an edit
                continue
            col1 = col1.strip().upper()
            by_col2 = ptp.get(col1)
            if by_col2 is None:
                by_col2 = ptp[col1] = {}
            col2 = col2.strip().upper()
            col2 = texts.setdefault(col2, col2)
            edits = by_col2.get(col2)
            if edits is None:
                edits = by_col2[col2] = []
            edits.append((
                int(indicator),
                _ymd(effective, dates),
                None if deletion.strip() in ("*", "") else _ymd(deletion, dates),
                texts.setdefault(rationale, rationale),
                file,
                line,
            ))
    return rows


def _physical_lines(text: str):
    """The lines of ``text`` ending at each LF (kept), so csv's line_num counts physical lines."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            if start < len(text):
                yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


def read_mue(release: MueRelease, path: Path) -> int:
    """Fill ``release.limits`` from one MUE table; return the data rows read."""
    text = path.read_bytes().decode("latin-1")
    reader = csv.reader(_physical_lines(text))
    header_seen = False
    rows = 0
    before = 0  # physical lines consumed before the current record
    for record in reader:
        line = before + 1
        before = reader.line_num
        if not header_seen:
            header_seen = bool(record) and " ".join(record[0].split()).upper().startswith("HCPCS")
            continue
        if not any(f.strip() for f in record):
            continue
        if len(record) < 4:
            raise ValueError(f"{path.name} line {line}: {len(record)} fields, expected 4")
        code, value, adjudication, rationale = record[:4]
        mai = re.match(r"\s*([123])\b", adjudication)
        if not mai:
            raise ValueError(f"{path.name} line {line}: adjudication indicator {adjudication!r}")
        code = code.strip().upper()
        rows += 1
        if code not in release.limits:  # a code twice in one table: the first row holds
            release.limits[code] = (int(value.strip()), int(mai.group(1)), rationale, line)
    if not header_seen:
        raise ValueError(f"{path.name}: no header record (HCPCS/CPT Code, ...) found")
    return rows


@contextlib.contextmanager
def collector_paused():
    """Cyclic garbage collection off for a while: the engine makes millions of acyclic tuples and
    dicts, and the collector would otherwise rescan them again and again as they pile up."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- the engine --------------------------------------------------------------------------------

class DictEngine:
    """PTP and MUE edits in dictionaries; ``scrub(claims)`` walks the lines claim by claim."""

    def __init__(self) -> None:
        self.ptp: dict[str, dict[str, dict[str, list[tuple]]]] = {}  # setting -> column 1 -> column 2 -> rows
        self.ptp_release: dict[str, str] = {}  # setting -> release id
        self.mue: dict[str, list[MueRelease]] = {}
        self.rows_read = 0

    @classmethod
    def build(cls, ptp_files, mue_files) -> "DictEngine":
        """Read the files into the dictionaries, the collector paused meanwhile.

        A long-running scrubber then calls ``gc.freeze()`` (as main() and bench_scrub.py do, inside
        the build time): the dictionaries live as long as the process, and a full collection
        would otherwise walk their millions of objects again (about 1 s each time here).
        """
        with collector_paused():
            return cls._build(ptp_files, mue_files)

    @classmethod
    def _build(cls, ptp_files, mue_files) -> "DictEngine":
        engine = cls()
        latest: dict[str, tuple] = {}
        infos = []
        for path in map(Path, ptp_files):
            setting, release, version = ptp_file_info(path)
            infos.append((path, setting, release, version))
            if setting not in latest or version > latest[setting][0]:
                latest[setting] = (version, release)
        dates: dict[str, dt.date] = {}
        texts: dict[str, str] = {}
        for path, setting, release, version in infos:
            if version == latest[setting][0]:  # only the latest release of a setting serves
                engine.rows_read += read_ptp(engine.ptp.setdefault(setting, {}), path, dates, texts)
                engine.ptp_release[setting] = release
        for path in map(Path, mue_files):
            setting, release_id, effective = mue_file_info(path)
            if any(r.effective_from == effective for r in engine.mue.get(setting, ())):
                raise ValueError(f"{path.name}: a second MUE table of {setting} effective {release_id}")
            release = MueRelease(setting, release_id, effective, sys.intern(path.name))
            engine.rows_read += read_mue(release, path)
            engine.mue.setdefault(setting, []).append(release)
        for releases in engine.mue.values():
            releases.sort(key=lambda r: r.effective_from)
            for this, following in zip(releases, releases[1:]):
                this.effective_to = following.effective_from - dt.timedelta(days=1)
        return engine

    @classmethod
    def from_folder(cls, folder) -> "DictEngine":
        ptp, mue = quarter_files(folder)
        return cls.build(ptp, mue)

    def mue_release(self, setting: str, date: dt.date) -> MueRelease | None:
        releases = self.mue.get(setting)
        if not releases:
            return None
        i = bisect.bisect_right([r.effective_from for r in releases], date) - 1
        if i < 0:
            return None
        release = releases[i]
        return release if release.effective_to is None or date <= release.effective_to else None

    # -- scrubbing ------------------------------------------------------------------------------

    def scrub(self, claims, checks=("ptp", "mue")):
        """Findings (a pyarrow Table, docs/scrub-rules.md columns and order) for ``claims``."""
        unknown = set(checks) - {"ptp", "mue"}
        if unknown:
            raise ValueError(f"checks {sorted(unknown)}: the dictionary engine knows ptp and mue")
        with collector_paused():
            return self._scrub(claims, checks)  # its temporaries are freed before the collector resumes

    def _scrub(self, claims, checks):
        by_claim = valid_lines(claims)
        findings: list[tuple] = []
        if "ptp" in checks:
            self._ptp(by_claim, findings)
        if "mue" in checks:
            self._mue(by_claim, findings)
        return findings_table(findings)

    def _ptp(self, by_claim: dict, findings: list) -> None:
        releases = self.ptp_release
        for claim_id, lines in by_claim.items():
            if len(lines) < 2:
                continue
            groups: dict[tuple, list] = {}
            for line in lines:
                groups.setdefault((line[1], line[5]), []).append(line)  # date of service, setting
            for (date, setting), group in groups.items():
                if len(group) < 2 or setting not in releases:  # dme: no PTP edits
                    continue
                release = releases[setting]
                ptp = self.ptp[setting]
                for a in group:  # a: the column-1 line
                    by_col2 = ptp.get(a[2])
                    if by_col2 is None:
                        continue
                    for b in group:  # b: the column-2 line
                        if b is a:
                            continue
                        edits = by_col2.get(b[2])
                        if edits is None:
                            continue
                        best = None
                        for edit in edits:
                            indicator, effective, deletion = edit[0], edit[1], edit[2]
                            if not in_force(date, effective, deletion):
                                continue
                            if indicator == 1 and bypassed(a[3], b[3]):
                                continue
                            if best is None or (indicator, edit[4], edit[5]) < (best[0], best[4], best[5]):
                                best = edit
                        if best is None:
                            continue
                        indicator, _, _, rationale, file, row = best
                        col1, col2 = a[2], b[2]
                        findings.append((
                            claim_id, b[0], "ptp", "error", col2, a[0],
                            PTP_REASON.format(col2=col2, col1=col1, a=a[0], ind=indicator, rationale=rationale),
                            f"ncci_ptp {release} {file} line {row}",
                            PTP_SUGGESTION[indicator].format(col2=col2, col1=col1),
                        ))

    def _mue(self, by_claim: dict, findings: list) -> None:
        releases: dict[tuple, MueRelease | tuple] = {}  # (setting, date) -> release, or the no-release texts
        groups: dict[tuple, list] = {}  # MAI 2/3 groups: key -> [limit, release, sum, lines]
        for claim_id, lines in by_claim.items():
            for line in lines:
                number_, date, code, _mods, units, setting, member, provider = line
                key = (setting, date)
                release = releases.get(key)
                if release is None:
                    release = self.mue_release(setting, date)
                    if release is None:  # the texts of "no release": no date of service in them (PHI)
                        release = (MUE_NONE_REASON.format(setting=setting), MUE_NONE_SUGGESTION)
                    releases[key] = release
                if type(release) is tuple:
                    shown = code if PROCEDURE_SHAPE.fullmatch(code) else None  # a code, never free text
                    findings.append((claim_id, number_, "mue", "info", shown, None, release[0], None, release[1]))
                    continue
                limit = release.limits.get(code)
                if limit is None:
                    continue
                value, mai, rationale, row = limit
                if mai == 1:
                    if units > value:
                        findings.append((
                            claim_id, number_, "mue", "error", code, None,
                            MUE_LINE_REASON.format(units=number(units), code=code, mue=value, rationale=rationale),
                            f"ncci_mue {release.release_id} {release.file} line {row}",
                            MUE_LINE_SUGGESTION.format(mue=value, code=code),
                        ))
                    continue
                if member is not None and provider is not None:
                    group_key = (True, member, provider, code, date, setting)
                else:
                    group_key = (False, claim_id, code, date, setting)
                group = groups.get(group_key)
                if group is None:
                    groups[group_key] = [limit, release, units, [(claim_id, number_)]]
                else:
                    group[2] += units
                    group[3].append((claim_id, number_))
        for group_key, (limit, release, total, members) in groups.items():
            value, mai, rationale, row = limit
            if not total > value:
                continue
            code = group_key[-3]
            scope = mue_scope(group_key[0], len({claim for claim, _ in members}))
            reason = MUE_DAY_REASON.format(total=number(total), code=code, scope=scope, mue=value, mai=mai,
                                           rationale=rationale)
            reference = f"ncci_mue {release.release_id} {release.file} line {row}"
            suggestion = MUE_DAY_SUGGESTION[mai].format(mue=value, code=code)
            for claim_id, number_ in members:
                findings.append((claim_id, number_, "mue", "error", code, None, reason, reference, suggestion))


# --- claim lines -------------------------------------------------------------------------------

def _text(value) -> str | None:
    """A trimmed text cell, or None when missing or empty."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _line_number(value) -> int | None:
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    if type(value) is int:
        return value if 1 <= value <= MAX_LINE_NUMBER else None
    return None


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _units(value):
    """Units as int or float, 1 when missing, None when not a number > 0 and <= MAX_UNITS."""
    if value is None:
        return 1
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 1
        try:
            value = float(text)
        except ValueError:
            return None
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= MAX_UNITS:
        return value
    return None


_MISSING = object()


def _upper_text(value) -> str | None:
    value = _text(value)
    return None if value is None else value.upper()


def _setting(value) -> str | None:
    value = _text(value)
    return "practitioner" if value is None else (value.lower() if value.lower() in SETTINGS else None)


def _cached(function):
    """``function`` memoised on its (hashable) argument: claim files repeat codes, dates and settings."""
    cache: dict = {}

    def lookup(value):
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = function(value)
            return result
        except TypeError:  # unhashable
            return function(value)

    return lookup


def _dates(column) -> list:
    """A date column as datetime.date (None when not a date), through day numbers when typed date32."""
    import pyarrow as pa

    if pa.types.is_date32(column.type):
        epoch, cache = dt.date(1970, 1, 1), {None: None}
        days = column.cast(pa.int32()).to_pylist()
        for d in set(days) - cache.keys():
            try:  # DuckDB writes infinity as a day no datetime.date holds: no date
                cache[d] = epoch + dt.timedelta(days=d)
            except OverflowError:
                cache[d] = None
        return [cache[d] for d in days]
    date = _cached(_date)
    return [date(v) for v in column.to_pylist()]


def valid_lines(claims) -> dict[str, list[tuple]]:
    """The lines that pass the input rules, by claim, as tuples
    (line_number, date_of_service, procedure_code, modifiers, units, setting, member_id, provider_id).

    A line breaking an input rule, and both copies of a repeated (claim_id, line_number), take
    no part in the checks (the SQL reports them as ``input`` findings; this twin skips them).
    """
    names = set(claims.column_names)
    n = claims.num_rows
    none = [None] * n

    def column(name):
        return claims.column(name).to_pylist() if name in names else none

    claim_ids, numbers, codes = column("claim_id"), column("line_number"), column("procedure_code")
    dates = _dates(claims.column("date_of_service")) if "date_of_service" in names else none
    modifiers_1, modifiers_2, modifiers_3, modifiers_4 = (column(f"modifier_{i}") for i in range(1, 5))
    units_column, settings = column("units"), column("setting")
    by_member = "member_id" in names and "provider_id" in names
    members, providers = (column("member_id"), column("provider_id")) if by_member else (none, none)
    # claim files repeat codes, settings and ids: each distinct cell is normalised once
    code_of: dict = {}
    setting_of: dict = {}
    id_of: dict = {}
    modifier_of = _cached(_upper_text)

    seen: set[tuple] = set()
    repeated: set[tuple] = set()
    by_claim: dict[str, list[tuple]] = {}
    for claim_id, line_number, date, code, m1, m2, m3, m4, units, setting, member, provider in zip(
            claim_ids, numbers, dates, codes, modifiers_1, modifiers_2, modifiers_3, modifiers_4, units_column,
            settings, members, providers):
        if type(line_number) is not int or not 1 <= line_number <= MAX_LINE_NUMBER:
            line_number = _line_number(line_number)
        if claim_id is None or line_number is None:
            continue  # no key to report a duplicate by
        if type(claim_id) is not str:
            claim_id = str(claim_id)
        if not claim_id.strip():
            continue
        key = (claim_id, line_number)
        if key in seen:
            repeated.add(key)
        else:
            seen.add(key)
        code = code_of.get(raw := code, _MISSING)
        if code is _MISSING:
            code = code_of[raw] = _upper_text(raw)
        if type(units) is not int or not 1 <= units <= MAX_UNITS:
            units = _units(units)
        setting = setting_of.get(raw := setting, _MISSING)
        if setting is _MISSING:
            setting = setting_of[raw] = _setting(raw)
        if date is None or code is None or units is None or setting is None:
            continue
        if m1 is None and m2 is None and m3 is None and m4 is None:
            modifiers = ()
        else:
            modifiers = tuple(m for m in map(modifier_of, (m1, m2, m3, m4)) if m is not None)
        if member is not None:
            member = id_of.get(raw := member, _MISSING)
            if member is _MISSING:
                member = id_of[raw] = _text(raw)
        if provider is not None:
            provider = id_of.get(raw := provider, _MISSING)
            if provider is _MISSING:
                provider = id_of[raw] = _text(raw)
        line = (line_number, date, code, modifiers, units, setting, member, provider)
        lines = by_claim.get(claim_id)
        if lines is None:
            by_claim[claim_id] = [line]
        else:
            lines.append(line)
    for claim_id, line_number in repeated:  # neither copy takes part
        if claim_id in by_claim:
            by_claim[claim_id] = [line for line in by_claim[claim_id] if line[0] != line_number]
    return by_claim


def _order(finding: tuple) -> tuple:
    """Sort key of a finding: claim_id, line_number, check, related_line_number, reference (NULLs last)."""
    related, reference = finding[5], finding[7]
    return (finding[0], finding[1], finding[2], related is None, related or 0, reference is None, reference or "")


def findings_table(findings: list[tuple]):
    """The findings as a pyarrow Table, sorted by claim_id, line_number, check, related_line_number, reference."""
    import pyarrow as pa

    schema = pa.schema([
        ("claim_id", pa.string()), ("line_number", pa.int64()), ("check", pa.string()), ("severity", pa.string()),
        ("code", pa.string()), ("related_line_number", pa.int64()), ("reason", pa.string()),
        ("reference", pa.string()), ("suggestion", pa.string()),
    ])
    findings.sort(key=_order)  # str order is code point order, which is UTF-8 byte order
    columns = list(zip(*findings)) if findings else [[] for _ in FINDING_COLUMNS]
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)


def quarter_files(folder) -> tuple[list[Path], list[Path]]:
    """The PTP files and MUE tables in ``folder``, by their CMS names."""
    folder = Path(folder)
    ptp = sorted(p for p in folder.iterdir() if PTP_NAME.fullmatch(p.name))
    mue = sorted(p for p in folder.iterdir() if MUE_NAME.fullmatch(p.name)
                 and MUE_NAME.fullmatch(p.name).group(1).lower() in MUE_SETTINGS)
    return ptp, mue


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="folder holding the PTP files and MUE tables (and claims.parquet)")
    parser.add_argument("--claims", help="claim lines, Parquet (default FOLDER/claims.parquet)")
    parser.add_argument("--out", help="write the findings here (Parquet)")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs after the first (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON line of measures")
    options = parser.parse_args()
    import pyarrow.parquet as pq

    build_started = time.perf_counter()
    engine = DictEngine.from_folder(options.folder)
    gc.freeze()
    build = time.perf_counter() - build_started
    claims = pq.read_table(options.claims or Path(options.folder) / "claims.parquet")
    findings = engine.scrub(claims)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(options.repeat):
        t0 = time.perf_counter()
        findings = engine.scrub(claims)
        warm.append(time.perf_counter() - t0)
    if options.out:
        pq.write_table(findings, options.out)
    report = {"build": build, "cold": cold, "warm": warm, "rss_mb": peak_rss_mb(), "findings": findings.num_rows,
              "ptp_rows": engine.rows_read, "claim_lines": claims.num_rows}
    if options.json:
        print(json.dumps(report))
    else:
        print(f"built from {engine.rows_read:,} rows in {build:.1f} s; {claims.num_rows:,} claim lines -> "
              f"{findings.num_rows:,} findings; first run from start {cold:.1f} s, warm "
              + ", ".join(f"{w:.2f}" for w in warm) + f" s; peak RSS {report['rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
