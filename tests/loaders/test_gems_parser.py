"""Property tests of the GEM parser: any well-formed file reads back exactly as it was written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.loaders import gems
from codesets.core import checks
from tests.conftest import stage_gems

# (source system, target system, source width, no-map marker)
DIRECTIONS = [
    ("icd9cm", "icd10cm", 5, "NoDx"),
    ("icd10cm", "icd9cm", 7, "NoDx"),
    ("icd9pcs", "icd10pcs", 5, "NoPCS"),
    ("icd10pcs", "icd9pcs", 7, "NoI9"),
]
CODE = {
    "icd9cm": st.one_of(st.from_regex(r"\A[0-9]{3,5}\Z"), st.from_regex(r"\AV[0-9]{2,4}\Z"),
                        st.from_regex(r"\AE[0-9]{3,4}\Z")),
    "icd10cm": st.from_regex(r"\A[A-Z][0-9][0-9A-Z]{1,5}\Z"),
    "icd9pcs": st.from_regex(r"\A[0-9]{3,4}\Z"),
    "icd10pcs": st.from_regex(r"\A[0-9][0-9A-HJ-NP-Z]{6}\Z"),
}


@st.composite
def gem_rows(draw, direction):
    """One GEM row as (source, target or None, approximate, no_map, combination, scenario, choice)."""
    source_system, target_system, _width, _marker = direction
    source = draw(CODE[source_system])
    kind = draw(st.sampled_from(["single", "combination", "no map"]))
    if kind == "no map":
        return (source, None, True, True, False, 0, 0)
    target = draw(CODE[target_system])
    approximate = draw(st.booleans())
    if kind == "single":
        return (source, target, approximate, False, False, 0, 0)
    return (source, target, approximate, False, True, draw(st.integers(1, 9)), draw(st.integers(1, 9)))


def render(direction, row) -> str:
    _src, _tgt, width, marker = direction
    source, target, approximate, no_map, combination, scenario, choice = row
    target_width = 12 - width
    flags = f"{int(approximate)}{int(no_map)}{int(combination)}{scenario}{choice}"
    return f"{source:<{width}} {(target or marker):<{target_width}} {flags}"


@st.composite
def gem_files(draw):
    direction = draw(st.sampled_from(DIRECTIONS))
    rows = draw(st.lists(gem_rows(direction), min_size=1, max_size=30, unique_by=lambda r: render(direction, r)))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    final = draw(st.booleans())
    return direction, rows, ending, final


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(gem_files())
def test_written_rows_read_back(case):
    direction, rows, ending, final_newline = case
    lines = [render(direction, row) for row in rows]
    text = ending.join(lines) + (ending if final_newline else "")
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated_gem.txt"
        path.write_bytes(text.encode("ascii"))
        infos = stage_gems(con, [path])
        failures = checks.failing_rows(con, "staged", gems.model())
        read = con.execute(
            "SELECT source_code, target_code, approximate, no_map, combination, scenario, choice_list "
            "FROM staged ORDER BY line_no"
        ).fetchall()
    assert failures == []
    assert infos[0].kind == f"{direction[0]}>{direction[1]}" or _ambiguous(direction, rows)
    assert infos[0].rows == len(rows)
    assert infos[0].line_ending == ("CRLF" if ending == "\r\n" else "LF") or len(rows) == 1 and not final_newline
    assert [tuple(r) for r in read] == rows


def _ambiguous(direction, rows) -> bool:
    """Codes that fit both the diagnosis and the procedure systems cannot name the direction."""
    source_system, target_system, _w, _m = direction
    other = {"icd9cm": "icd9pcs", "icd9pcs": "icd9cm", "icd10cm": "icd10pcs", "icd10pcs": "icd10cm"}
    fits = [
        gems.codes.matches(s, other[source_system]) and (t is None or gems.codes.matches(t, other[target_system]))
        for s, t, *_ in rows
    ]
    return all(fits)
