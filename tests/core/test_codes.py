"""codes: canonical form, dotted display, and selectors (the Python twin of the SQL)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.core import codes
from codesets.core.errors import QueryError


def canonical(system):
    return st.from_regex(codes.PATTERNS[system], fullmatch=True)


any_canonical = st.sampled_from(codes.GEM_SYSTEMS).flatmap(
    lambda system: st.tuples(st.just(system), canonical(system))
)


@pytest.mark.parametrize(
    "given_text, expected",
    [("250.00", "25000"), ("25000", "25000"), (" r65.21 ", "R6521"), ("v45.81", "V4581"), ("0016070", "0016070")],
)
def test_normalize_accepts_the_usual_spellings(given_text, expected):
    assert codes.normalize(given_text) == expected


@pytest.mark.parametrize("bad", ["", "   ", ".", "R65 21", "R65-21", "2.5.0", "ÄB1", "ß"])
def test_normalize_names_the_bad_value(bad):
    with pytest.raises(QueryError) as info:
        codes.normalize(bad)
    assert repr(bad) in str(info.value)


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefxyz. \t", max_size=9))
def test_normalize_is_idempotent(text):
    try:
        once = codes.normalize(text)
    except QueryError:
        return
    assert codes.normalize(once) == once
    assert once == once.upper() and "." not in once and once.strip() == once


@pytest.mark.parametrize(
    "code, system, shown",
    [
        ("25000", "icd9cm", "250.00"),
        ("V4581", "icd9cm", "V45.81"),
        ("E8809", "icd9cm", "E880.9"),
        ("E880", "icd9cm", "E880"),
        ("250", "icd9cm", "250"),
        ("R6521", "icd10cm", "R65.21"),
        ("G02", "icd10cm", "G02"),
        ("0001", "icd9pcs", "00.01"),
        ("0016070", "icd10pcs", "0016070"),
    ],
)
def test_display_puts_the_dot_where_the_system_prints_it(code, system, shown):
    assert codes.display(code, system) == shown


@given(any_canonical)
def test_display_then_normalize_round_trips(pair):
    system, code = pair
    shown = codes.display(code, system)
    assert codes.normalize(shown) == code
    assert shown.count(".") <= 1


def test_parse_selector_kinds():
    assert codes.parse_selector(" e11* ") == codes.Selector(" e11* ", "prefix", "E11")
    assert codes.parse_selector("I60-I66.1") == codes.Selector("I60-I66.1", "range", "I60", "I661")
    assert codes.parse_selector("250.00").kind == "code"


@pytest.mark.parametrize("bad", ["I66-I60", "A-B-C", "-I60", "*"])
def test_parse_selector_refuses_bad_patterns(bad):
    with pytest.raises(QueryError):
        codes.parse_selector(bad)


def test_range_reads_each_end_at_its_own_length():
    selector = codes.parse_selector("I60-I66.1")
    inside = ["I60", "I600", "I6000", "I63511", "I66", "I661", "I6611"]
    outside = ["I59", "I5999", "I662", "I67", "I6690"]
    assert [c for c in inside + outside if selector.matches(c)] == inside


# The SQL side of the twin: the same predicates gem_translate.sql applies to known codes.
_SQL = """
SELECT k.code FROM known AS k, sel AS i
WHERE (i.kind = 'code' AND k.code = i.low)
   OR (i.kind = 'prefix' AND STARTS_WITH(k.code, i.low))
   OR (i.kind = 'range' AND LEFT(k.code, LENGTH(i.low)) >= i.low AND LEFT(k.code, LENGTH(i.high)) <= i.high)
ORDER BY k.code
"""


@pytest.fixture(scope="module")
def gem_con():
    """One in-memory warehouse reused by every example; each example rewrites its maps."""
    import duckdb

    from codesets.core import sqlfiles

    con = duckdb.connect()
    con.execute(sqlfiles.shapes_sql())  # plain tables here, where a warehouse has views over Parquet
    sqlfiles.apply(con)
    con.execute(
        "INSERT INTO release_catalog (source, release_id, part, effective_from, is_sample, loaded_at, "
        "loader_version, row_count, content_sha256, files, data_files) VALUES ('gems', 'r1', 'icd10cm-icd9cm', "
        "DATE '2015-10-01', false, now(), 'test', 0, 'x', [], [])"
    )
    yield con
    con.close()


short_icd10 = st.from_regex(r"[A-C][0-2][0-9A-B]{1,3}", fullmatch=True)
selector_text = st.one_of(
    short_icd10,
    short_icd10.map(lambda c: c[: max(1, len(c) - 1)] + "*"),
    st.tuples(short_icd10, short_icd10).map(lambda ab: "-".join(sorted(ab))),
)


@settings(max_examples=60, deadline=None)
@given(known=st.lists(short_icd10, min_size=1, max_size=25, unique=True), text=selector_text)
def test_range_twin_agrees_with_the_translation_query(gem_con, known, text):
    from codesets.query.translate import translate

    try:
        selector = codes.parse_selector(text)
    except QueryError:
        return  # a range whose ends compare backwards at their shared length
    gem_con.execute("DELETE FROM maps")
    gem_con.executemany(
        "INSERT INTO maps (source, release_id, part, source_system, target_system, source_code, target_code, "
        "flags, approximate, no_map, combination, scenario, choice_list, source_file, line_no) "
        "VALUES ('gems', 'r1', 'icd10cm-icd9cm', 'icd10cm', 'icd9cm', ?, '0010', '00000', "
        "false, false, false, 0, 0, 'f', ?)",
        [[code, line] for line, code in enumerate(known, 1)],
    )
    expected = sorted(c for c in known if selector.matches(c))
    answer = translate(gem_con, [text], "icd10cm", "icd9cm")
    got = sorted(
        row["source_code"] for row in answer.to_pylist() if row["kind"] != "not in GEM"
    )
    assert got == expected
    # The bare predicates agree too (no translation logic in between).
    import pyarrow as pa

    gem_con.register("known", pa.Table.from_pydict({"code": known}))
    gem_con.register(
        "sel",
        pa.Table.from_pydict(
            {"kind": [selector.kind], "low": [selector.low], "high": [selector.high or ""]}
        ),
    )
    assert [r[0] for r in gem_con.execute(_SQL).fetchall()] == expected
    if not expected:
        assert answer.column("kind").to_pylist() == ["not in GEM"]


def test_dotted_dots_text_lists_and_combinations_of_a_table():
    import pyarrow as pa

    table = pa.table({
        "code": ["25000", "E8809", None],
        "targets": [["E119", "R6521"], None, []],
        "successors": [["E1165+Z794"], None, None],
        "other": ["25000", "x", "y"],
    })
    shown = codes.dotted(table, {"code": "icd9cm", "targets": "icd10cm", "successors": "icd10cm", "missing": "cpt"})
    assert shown.column("code").to_pylist() == ["250.00", "E880.9", None]
    assert shown.column("targets").to_pylist() == [["E11.9", "R65.21"], None, []]
    assert shown.column("successors").to_pylist() == [["E11.65 + Z79.4"], None, None]
    assert shown.column("other").to_pylist() == ["25000", "x", "y"]  # columns not named stay as stored


def test_dotted_takes_a_system_per_row():
    import pyarrow as pa

    table = pa.table({"code": ["25000", "R6521", "0016070"]})
    shown = codes.dotted(table, {"code": ["icd9cm", "icd10cm", "icd10pcs"]})
    assert shown.column("code").to_pylist() == ["250.00", "R65.21", "0016070"]
