"""Is a code valid on a date of service? Batches in one SQL statement, point lookups from memory.

``validity`` answers a batch (a list of codes, or an Arrow table of codes with their own
systems and dates) with one statement, ``sql/queries/code_validity.sql``, whose rules are
written out in docs/codes.md. ``CodeLookup`` answers one code at a time for a scrubber: it
reads the codes of a release once (about 0.1 s) and answers a code that release lists from
memory in microseconds (billable, header with its children, not yet effective or terminated
by its own dates), and so a code no release lists (unknown). A code other releases list needs
their dates and successors, so it is asked of the SQL statement. The two are held to the same answers by tests, on hand-made releases
and on the real files.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import itertools
import re
from typing import NamedTuple

from codesets.core import codes
from codesets.core.errors import QueryError
from codesets.core import sqlfiles

COLUMNS = (
    "input",              # the code exactly as given
    "code_system",
    "code",               # canonical code (undotted, upper case); NULL when the input is not a code
    "on_date",            # the date of service asked about
    "description",
    "short_description",
    "valid",              # a valid, billable code of the system on the date; NULL when no list answers
    "billable",
    "status",             # one of STATUSES
    "effective_from",     # the code's validity in the release that answered
    "effective_to",
    "release_id",         # the release in force on the date
    "source_file",        # the file and line of that release listing the code
    "line_no",
    "successors",         # billable children, replacing codes or GEM candidates (see docs/codes.md)
)

STATUSES = (
    "billable",
    "header (not billable)",
    "not yet effective",
    "terminated",
    "unknown",
    "no release in force",
    "valid shape (no CPT list)",
)

_RELEASES_SQL = """
SELECT DISTINCT source, release_id, effective_from, effective_to FROM code_releases
"""
_ROWS_SQL = """
SELECT code, description, short_description, billable, effective_from, effective_to, added, terminated,
    source_file, line_no
FROM code_history
WHERE source = ? AND release_id = ? AND code_system = ?
"""


_XREFS_SQL = """
SELECT source_code, list(target_code ORDER BY line_no, target_code)
FROM maps
WHERE source = 'hcpcs' AND release_id = ? AND source_system = 'hcpcs' AND target_code IS NOT NULL
GROUP BY source_code
"""


class Validity(NamedTuple):
    input: str
    code_system: str
    code: str | None
    on_date: _dt.date
    description: str | None
    short_description: str | None
    valid: bool | None
    billable: bool | None
    status: str
    effective_from: _dt.date | None
    effective_to: _dt.date | None
    release_id: str | None
    source_file: str | None
    line_no: int | None
    successors: list[str] | None


def source_of() -> dict[str, str]:
    """code system -> the source whose releases answer its validity, as the loaders declare it."""
    from codesets import loaders

    return {system: source for system, (source, _declared) in loaders.validity_systems().items()}


def pattern_of(system: str) -> str:
    """The shape of a canonical code of ``system``: its declaration's, else codesets.core.codes.PATTERNS's."""
    from codesets import loaders

    declared = loaders.validity_systems()[system][1].pattern
    return declared if declared is not None else codes.PATTERNS[system].pattern


def check_system(system: str) -> str:
    known = source_of()
    if system not in known:
        raise QueryError(f"unknown code system {system!r}; use one of {', '.join(known)}")
    return system


def as_date(on) -> _dt.date:
    if on is None:
        return _dt.date.today()
    if isinstance(on, _dt.datetime):
        return on.date()
    if isinstance(on, _dt.date):
        return on
    try:
        return _dt.date.fromisoformat(str(on).strip())
    except ValueError:
        raise QueryError(f"date {str(on)[:40]!r} is not a date; write it as YYYY-MM-DD") from None


def validity(con, codes_in, system: str | None = None, on=None):
    """The status of each code on its date; returns a pyarrow.Table with ``COLUMNS``, in input order.

    ``codes_in`` is a list of codes (with ``system`` and one date ``on``, default today), or a
    pyarrow Table (or pandas DataFrame) with a column ``code`` and optional columns
    ``code_system`` and ``on_date`` (dates), which override ``system`` and ``on`` row by row.
    """
    import pyarrow.compute as pc

    table = _input_table(codes_in, system, on)
    con.register("validity_arrow", table)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE validity_input AS SELECT CAST(row_number() OVER () - 1 AS BIGINT) AS row_id, "
            "input, code_system, on_date FROM validity_arrow"
        )
    finally:
        con.unregister("validity_arrow")
    result = con.sql(sqlfiles.query("code_validity"), params=query_params()).to_arrow_table()
    con.execute("DROP TABLE IF EXISTS validity_input")
    # in input order: sorting here costs a fraction of an ORDER BY in the statement
    result = result.take(pc.sort_indices(result.column("row_id"))).drop_columns(["row_id"])
    return _with_gem_candidates(con, result)


# An ICD-9 code's successors on a date from 2015-10-01 are its forward GEM answers. The GEM's
# alternatives are assembled by codesets.query.lookup (the rows of one direction, read once),
# not in code_validity.sql: building every combination there costs a quarter of a second a query.
_GEM_TARGET = {"icd9cm": "icd10cm", "icd9pcs": "icd10pcs"}


def _with_gem_candidates(con, table):
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pc.and_(pc.is_in(table.column("code_system"), pa.array(list(_GEM_TARGET))),
                     pc.equal(table.column("status"), "terminated"))
    if not pc.any(wanted).as_py():
        return table
    # each distinct code once, then spread over its rows by an index: no Python loop over the rows
    keys = pc.binary_join_element_wise(table.column("code_system"), pc.fill_null(table.column("code"), ""), "|")
    needed = pc.unique(pc.filter(keys, wanted)).to_pylist()
    gem = GemCandidates(con)
    found = [gem(key.split("|")[1], key.split("|")[0]) for key in needed]
    position = table.schema.get_field_index("successors")
    candidates = pa.array(found, table.schema.field(position).type).take(
        pc.index_in(keys, value_set=pa.array(needed, pa.string())))
    merged = pc.if_else(wanted, candidates, table.column("successors"))
    return table.set_column(position, "successors", merged)


class GemCandidates:
    """An ICD-9 code's forward GEM answers in the current release, a combination joined by '+'."""

    def __init__(self, con):
        from codesets.query.lookup import GemLookup

        self._lookup = GemLookup(con)

    def __call__(self, code: str, system: str) -> list[str] | None:
        try:
            answers = self._lookup(code, system, _GEM_TARGET[system])
        except QueryError:  # no GEM of that direction is loaded
            return None
        found = ["+".join(a.target_codes) for a in answers if a.kind in ("single", "combination")]
        return found or None


def query_params() -> dict:
    """The parameters of code_validity.sql: which source answers for each system, and its codes' shape
    (one expression over 'system:code', so the query names no system)."""
    known = source_of()
    systems = list(known)
    shapes = "|".join(f"(?:{system}:(?:{pattern_of(system)}))" for system in systems)
    return {"systems": systems, "sources": [known[s] for s in systems], "shapes": shapes}


def prepare_scrub(con) -> None:
    """For the scrub check `validity`: the temp table validity_answers, one row per distinct
    (code, code system, date of service) of claim_lines (scrub_validity_input.sql)."""
    con.execute("CREATE OR REPLACE TEMP TABLE validity_input AS\n" + sqlfiles.query("scrub_validity_input"), {
        "cpt_pattern": codes.PATTERNS["cpt"].pattern,
    })
    con.execute("CREATE OR REPLACE TEMP TABLE validity_answers AS\n" + sqlfiles.query("code_validity"), query_params())


def _input_table(codes_in, system, on):
    import pyarrow as pa

    if hasattr(codes_in, "to_arrow") or type(codes_in).__module__.startswith("pandas"):
        codes_in = pa.Table.from_pandas(codes_in, preserve_index=False)
    if isinstance(codes_in, pa.Table):
        if "code" not in codes_in.column_names:
            raise QueryError(f"the batch has no column 'code' (columns: {', '.join(codes_in.column_names)})")
        n = codes_in.num_rows
        code_column = codes_in.column("code").cast(pa.string())
        if "code_system" in codes_in.column_names:
            systems = codes_in.column("code_system").cast(pa.string())
            unknown = set(systems.unique().to_pylist()) - set(source_of())
            if unknown:
                check_system(sorted(map(str, unknown))[0])
        else:
            systems = pa.array([check_system(_need_system(system))] * n, pa.string())
        if "on_date" in codes_in.column_names:
            dates = codes_in.column("on_date").cast(pa.date32())
        else:
            dates = pa.array([as_date(on)] * n, pa.date32())
        return pa.table({"input": code_column, "code_system": systems, "on_date": dates})
    items = list(codes_in)
    for item in items:
        if not isinstance(item, str):
            raise QueryError(f"code {item!r} is not text; pass codes as strings such as 'R65.21'")
    system = check_system(_need_system(system))
    day = as_date(on)
    return pa.table({
        "input": pa.array(items, pa.string()),
        "code_system": pa.array([system] * len(items), pa.string()),
        "on_date": pa.array([day] * len(items), pa.date32()),
    })


def _need_system(system: str | None) -> str:
    if system is None:
        raise QueryError(f"name the code system: one of {', '.join(source_of())}")
    return system


class CodeLookup:
    """``CodeLookup(con)("R65.21", "icd10cm", date(2024, 5, 1))`` -> Validity.

    Bound to one read-only connection (one generation), so what it reads once stays true.
    """

    def __init__(self, con, owns_connection: bool = False):
        self.con = con
        self._owns = owns_connection
        self._windows: dict[str, list[tuple]] = {}
        for source, release, start, end in con.execute(_RELEASES_SQL).fetchall():
            self._windows.setdefault(source, []).append((start, end, release))
        self._rows: dict[tuple[str, str, str], dict[str, tuple]] = {}
        self._billable: dict[tuple[str, str, str], list[str]] = {}
        self._xref_rows: dict[str, dict[str, list[str]]] = {}
        self._gem = None
        self._sources = source_of()
        self._shapes: dict[str, re.Pattern] = {}

    def _shape(self, system: str) -> re.Pattern:
        shape = self._shapes.get(system)
        if shape is None:
            shape = self._shapes[system] = re.compile(pattern_of(system))
        return shape

    def __call__(self, code: str, system: str, on=None) -> Validity:
        if system not in self._sources:
            check_system(system)
        day = as_date(on)
        if isinstance(code, str) and code.isascii() and code.count(".") <= 1:
            canonical = code.strip(" \t\r\n").replace(".", "").upper()  # as code_validity.sql reads an input
            source = self._sources[system]
            release = next(
                (r for start, end, r in self._windows.get(source, ()) if start <= day and (end is None or day <= end)),
                None,
            )
            if not self._shape(system).fullmatch(canonical):  # not a code of the system
                return Validity(code, system, None, day, None, None, False, None, "unknown", None, None, release,
                                None, None, None)
            if release is not None:
                row = self._release_rows(source, release, system).get(canonical)
                if row is not None:
                    return self._listed(code, system, canonical, day, source, release, row)
                if self._nowhere(source, release, system, canonical):
                    return Validity(code, system, canonical, day, None, None, False, None, "unknown", None, None,
                                    release, None, None, None)
        (answer,) = validity(self.con, [code], system, day).to_pylist()
        return Validity(**answer)

    def _listed(self, code, system, canonical, day, source, release, row) -> Validity:
        """A code the release in force lists: the first rows of the status table of docs/codes.md."""
        description, short, billable, start, end, added, terminated, source_file, line_no = row
        successors = None
        if not billable:
            status = "header (not billable)"
            successors = self._children(source, release, system, canonical)
        elif added is not None and day < added:
            status = "not yet effective"
        elif terminated is not None and day > terminated:
            status = "terminated"
            if system == "hcpcs":
                successors = self._xrefs(release).get(canonical)
            elif system in _GEM_TARGET:
                if self._gem is None:
                    self._gem = GemCandidates(self.con)
                successors = self._gem(canonical, system)
        else:
            status = "billable"
        start = added if added is not None else start  # the code's own first date where the file gives one
        return Validity(code, system, canonical, day, description, short, status == "billable", billable, status,
                        start, end, release, source_file, line_no, successors)

    def _nowhere(self, source, release, system, code) -> bool:
        """No loaded release lists the code, and the release in force lists no code that extends it."""
        if any(code in self._release_rows(source, other, system) for _s, _e, other in self._windows[source]):
            return False
        return self._children(source, release, system, code) is None

    def _children(self, source, release, system, code) -> list[str] | None:
        ordered = self._billable.get((source, release, system))
        if ordered is None:
            rows = self._release_rows(source, release, system)
            ordered = self._billable[(source, release, system)] = sorted(c for c, r in rows.items() if r[2])
        found = []
        for candidate in itertools.islice(ordered, bisect.bisect_right(ordered, code), None):
            if not candidate.startswith(code):
                break
            found.append(candidate)
        return found or None

    def _xrefs(self, release) -> dict[str, list[str]]:
        found = self._xref_rows.get(release)
        if found is None:
            found = self._xref_rows[release] = dict(self.con.execute(_XREFS_SQL, [release]).fetchall())
        return found

    def close(self) -> None:
        if self._owns:
            self.con.close()

    def __enter__(self) -> CodeLookup:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _release_rows(self, source: str, release: str, system: str) -> dict[str, tuple]:
        """The codes of one release and system, read once: code -> the columns of _ROWS_SQL after it."""
        key = (source, release, system)
        rows = self._rows.get(key)
        if rows is None:
            rows = self._rows[key] = {r[0]: r[1:] for r in self.con.execute(_ROWS_SQL, list(key)).fetchall()}
        return rows
