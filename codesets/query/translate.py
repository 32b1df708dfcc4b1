"""GEM translation: codes, ranges and prefixes of one ICD system into the other.

``translate`` reads the inputs (``codesets.core.codes.parse_selector``), works out which GEM
release serves each direction, and runs one SQL statement (``sql/queries/gem_translate.sql``)
with the inputs as a registered Arrow table. Combinations come back whole, one row per
complete alternative; no input is dropped.

Only duckdb and pyarrow are imported here, and pyarrow lazily: a fresh process that
translates a batch pays for nothing else (no pandas, no pandera).
"""

from __future__ import annotations

import array
import datetime as _dt
import itertools
import warnings
from collections.abc import Iterable

from codesets.core import codes
from codesets.core.errors import QueryError
from codesets.core import sqlfiles

METHODS = ("forward", "backward", "both", "multi-stage")

# The GEMs CMS/NCHS publish: diagnoses ICD-9-CM <-> ICD-10-CM, procedures ICD-9-CM vol. 3
# <-> ICD-10-PCS. Any other pair has no GEM to read.
GEM_PAIRS = {
    ("icd9cm", "icd10cm"),
    ("icd10cm", "icd9cm"),
    ("icd9pcs", "icd10pcs"),
    ("icd10pcs", "icd9pcs"),
}

COLUMNS = (
    "input",          # the input exactly as given
    "source_code",    # canonical code matched (one per member of a range or prefix)
    "source_system",
    "target_system",
    "method",         # forward, backward or multi-stage: what produced the row
    "kind",           # single, combination, combination part, no map, not in GEM
    "target_codes",   # one code, or one per choice list of a combination; empty for none
    "approximate",
    "scenario",       # combination scenario (0 for a single row)
    "alternative",    # 1..n: within the scenario for combinations, else within the kind
    "choice_list",    # combination part: the choice list the input code sits in
    "choice_lists",   # combination (part): number of choice lists in the scenario
    "release_id",     # GEM release that answered
    "source_title",   # the source code's title, when a code set of its system is loaded
    "target_titles",  # one title per target code, likewise (NULL for a code no code set lists; NULL list with none loaded)
)

_RELEASES_SQL = """
SELECT source_system, target_system, release_id, effective_from, effective_to, is_current
FROM gem_directions
WHERE source_system IN ($from_system, $to_system) AND target_system IN ($from_system, $to_system)
"""


def translate(
    con,
    codes_in,
    from_system: str,
    to_system: str,
    method: str = "forward",
    release: str | None = None,
    as_of: _dt.date | str | None = None,
):
    """Translate codes from one GEM code system to the other; returns a pyarrow.Table.

    ``codes_in`` is a list of strings (codes such as ``250.00``/``25000``, prefixes such as
    ``E11*``, ranges such as ``I60-I66.1``) or a pyarrow string array, chunked array or
    one-column table. ``release`` picks a release id; ``as_of`` (date or ISO string) the
    release whose window covers that date of service; by default each direction uses its
    current release. Columns are listed in ``COLUMNS``.
    """
    as_of = check_request(from_system, to_system, method, release, as_of)
    directions = [(from_system, to_system), (to_system, from_system)]
    needed = {"forward": directions[:1], "backward": directions[1:]}.get(method, directions)
    # Backward answers come from the to->from GEM alone, but the from->to GEM (when loaded)
    # tells a code without answers ('no map') from one the GEMs lack ('not in GEM').
    optional = directions[:1] if method == "backward" else []
    chosen = _choose_releases(con, needed, optional, release, as_of)
    inputs = _input_table(codes_in)
    params = {
        "from_system": from_system,
        "to_system": to_system,
        "method": method,
        "forward_release": chosen.get(directions[0]),
        "backward_release": chosen.get(directions[1]),
    }
    # A per-call name keeps concurrent calls on one connection (threads) apart.
    name = f"gem_inputs_{id(inputs):x}"
    sql = sqlfiles.query("gem_translate").replace("gem_inputs", name)
    con.register(name, inputs)
    try:
        # execute() binds the statement once; con.sql() would bind it a second time to
        # learn its schema, which costs more than the copy the warning below is about.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            table = con.execute(sql, params).to_arrow_table()
    finally:
        con.unregister(name)
    from codesets.query.titles import with_map_titles

    return with_map_titles(con, table)


def check_request(from_system: str, to_system: str, method: str, release=None, as_of=None) -> _dt.date | None:
    """Refuse a malformed request (QueryError, naming the fix); return the as-of date parsed."""
    _check_systems(from_system, to_system, method)
    if release is not None and as_of is not None:
        raise QueryError("give either a release or an as-of date, not both")
    return _as_date(as_of)


def _check_systems(from_system: str, to_system: str, method: str) -> None:
    for flag, system in (("from", from_system), ("to", to_system)):
        if system not in codes.GEM_SYSTEMS:
            raise QueryError(
                f"unknown code system {system!r} for --{flag}; GEMs translate between "
                f"{', '.join(codes.GEM_SYSTEMS)}"
            )
    if from_system == to_system:
        raise QueryError(f"--from and --to are both {from_system}; pick the other system as --to")
    if (from_system, to_system) not in GEM_PAIRS:
        raise QueryError(
            f"no GEM maps {from_system} to {to_system}; GEMs pair icd9cm with icd10cm "
            "(diagnoses) and icd9pcs with icd10pcs (procedures)"
        )
    if method not in METHODS:
        raise QueryError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")


def _as_date(value) -> _dt.date | None:
    if value is None or isinstance(value, _dt.date):
        return value.date() if isinstance(value, _dt.datetime) else value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise QueryError(f"as-of date {value!r} is not a date; write it as YYYY-MM-DD") from None


def _choose_releases(con, needed, optional, release, as_of) -> dict[tuple[str, str], str]:
    """The release serving each needed direction, or a QueryError saying what to load.

    An optional direction is chosen the same way when it can be, and left out otherwise.
    """
    from_system, to_system = needed[0]
    rows = con.execute(_RELEASES_SQL, {"from_system": from_system, "to_system": to_system}).fetchall()
    chosen = {}
    for direction in optional:
        try:
            chosen.update(_choose_releases_from(rows, [direction], release, as_of))
        except QueryError:
            pass
    chosen.update(_choose_releases_from(rows, needed, release, as_of))
    return chosen


def _choose_releases_from(rows, needed, release, as_of) -> dict[tuple[str, str], str]:
    chosen = {}
    for direction in needed:
        served = [r for r in rows if (r[0], r[1]) == direction]
        label = f"{direction[0]}>{direction[1]}"
        if not served:
            raise QueryError(
                f"the warehouse has no {label} GEM; load one with "
                "`codesets load gems FILE...` or `codesets refresh DIR`"
            )
        if release is not None:
            match = [r for r in served if r[2] == release]
            if not match:
                known = ", ".join(sorted(r[2] for r in served))
                raise QueryError(f"release {release!r} has no {label} GEM; known releases: {known}")
        elif as_of is not None:
            dated = [r for r in served if r[3] is not None]  # a sample that no longer serves has no window
            match = [r for r in dated if r[3] <= as_of and (r[4] is None or as_of <= r[4])]
            if not match:
                first = min((r[3] for r in dated), default=None)
                since = f"the earliest starts {first.isoformat()}" if first else "none has a window"
                raise QueryError(
                    f"no {label} GEM release covers {as_of.isoformat()}; {since}; "
                    "pick another date or a --release"
                )
        else:
            match = [r for r in served if r[5]]
        chosen[direction] = match[0][2]
    return chosen


def _input_table(codes_in):
    """The inputs as an Arrow table (position, input, kind, low, high), read once in Python.

    Parsing in Python keeps the error for a bad code specific (it names the value); a
    dict lookup per distinct string keeps 15,000 codes in the low milliseconds. ``high``
    is '' unless the input is a range.
    """
    import pyarrow as pa

    texts = _as_strings(codes_in)
    if not texts:
        raise QueryError("no codes given; pass at least one code, prefix (E11*) or range (I60-I66.1)")
    seen: dict[str, codes.Selector] = {}
    kinds, lows, highs = [], [], []
    for text in texts:
        selector = seen.get(text)
        if selector is None:
            selector = seen[text] = codes.parse_selector(text)
        kinds.append(selector.kind)
        lows.append(selector.low)
        highs.append(selector.high or "")
    positions = array.array("i", range(len(texts)))
    return pa.Table.from_arrays(
        [
            pa.Array.from_buffers(pa.int32(), len(texts), [None, pa.py_buffer(positions)]),
            _string_array(texts),
            _string_array(kinds),
            _string_array(lows),
            _string_array(highs),
        ],
        names=["position", "input", "kind", "low", "high"],
    )


def _string_array(values: list[str]):
    """An Arrow string array built from its buffers.

    ``pa.array`` and ``pa.table`` ask pandas whether the values are a Series, which
    imports pandas: 0.3 s, as long as the whole batch translation takes.
    """
    import pyarrow as pa

    encoded = [v.encode("utf-8") for v in values]
    offsets = array.array("i", [0])
    total = 0
    for item in encoded:
        total += len(item)
        offsets.append(total)
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def _as_strings(codes_in) -> list:
    if isinstance(codes_in, str):
        return [codes_in]
    if hasattr(codes_in, "column_names"):  # a pyarrow Table: use its only column
        if codes_in.num_columns != 1:
            raise QueryError(
                f"a table of codes must have one column, not {codes_in.num_columns}; "
                "select the code column first"
            )
        codes_in = codes_in.column(0)
    if hasattr(codes_in, "to_pylist"):
        values = codes_in.to_pylist()
    elif isinstance(codes_in, Iterable):
        values = list(codes_in)
    else:
        raise QueryError(f"codes must be a list of strings or an Arrow array, not {type(codes_in).__name__}")
    for value in itertools.islice((v for v in values if not isinstance(v, str)), 1):
        raise QueryError(f"code {value!r} is not text; pass codes as strings such as '250.00'")
    return values
