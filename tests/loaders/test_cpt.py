"""The CPT loader on hand-made lists (one per failure mode), hostile values and the bundled sample.

CPT descriptors are the AMA's: every description in these tests is our own wording.
"""

from __future__ import annotations

import csv
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import LoadRejected, SourceError, UsageError
from codesets.loaders import _lines, cpt
from codesets.loaders.contract import Claim
from codesets.core.text import escape
from codesets.core import checks
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, SHARED_DATA, catalog_files, need_shared

CPT_FIXTURES = FIXTURES / "cpt"
START = date(2026, 1, 1)


def load_list(warehouse, path, release_id="2026", effective_from=None):
    path = path if isinstance(path, Path) else CPT_FIXTURES / path
    return load(warehouse, "cpt", [path], release_id=release_id, effective_from=effective_from)


def rows(warehouse, where="TRUE"):
    with warehouse.connect() as con:
        return con.execute(
            "SELECT code, description, short_description, billable, effective_from, effective_to, line_no "
            f"FROM code_rows WHERE {where} ORDER BY line_no"
        ).fetchall()


# --- recognising a list ----------------------------------------------------------------------


def test_claim_takes_a_csv_with_a_code_column_and_cpt_codes(tmp_path):
    claim = cpt.LOADER.claim
    assert claim(CPT_FIXTURES / "good_cpt-2026.csv") == Claim("codes", "2026")
    assert claim(CPT_FIXTURES / "good_synonyms.csv") == Claim("codes", None)
    # one CPT code is enough: the checks name the rest
    assert claim(CPT_FIXTURES / "bad_code.csv") == Claim("codes", None)
    assert claim(CPT_FIXTURES / "bad_quotes.csv") == Claim("codes", None)
    for name, release in [("my list 2025.csv", "2025"), ("cpt_2026_q2.csv", "2026"), ("cpt-20261.csv", None)]:
        shutil.copy(CPT_FIXTURES / "good_synonyms.csv", tmp_path / name)
        assert claim(tmp_path / name) == Claim("codes", release), name


def test_claim_leaves_other_csvs_alone(tmp_path):
    samples = {
        # the HCPCS CSV names its code column HCPC; its SEQNUM column is five digits
        "hcpcs.csv": "HCPC,SEQNUM,RECID,LONG DESCRIPTION\nA0021,00100,3,Outside state ambulance serv\n",
        "hcpcs_list.csv": "code,description\nA0021,ambulance\nJ9999,drug\n",  # Level II codes, no CPT
        "claims.csv": "claim_id,line_number,date_of_service,procedure_code\nC1,1,2026-01-02,99213\n",
        "prose.txt": "code\nThis is not a list.\n",
        "empty.csv": "",
    }
    for name, text in samples.items():
        (tmp_path / name).write_text(text)
        assert cpt.LOADER.claim(tmp_path / name) is None, name
    assert cpt.LOADER.claim(CPT_FIXTURES / "bad_empty_list.csv") is None
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 400)
    assert cpt.LOADER.claim(binary) is None


def test_nothing_under_the_shared_data_is_a_cpt_list():
    need_shared(SHARED_DATA)
    claimed = [
        Path(folder) / name
        for folder, _dirs, names in os.walk(SHARED_DATA)
        for name in names
        if cpt.LOADER.claim(Path(folder) / name) is not None
    ]
    assert claimed == []


def test_other_loaders_fixtures_are_not_claimed():
    for folder in ("gems", "ncci_mue", "icd9cm"):
        for path in sorted((FIXTURES / folder).glob("*")):
            assert cpt.LOADER.claim(path) is None, path


def test_effective_from_is_january_first_of_the_year():
    assert cpt.LOADER.effective_from("2026") == date(2026, 1, 1)
    assert cpt.LOADER.effective_from("2026q2") is None
    assert cpt.LOADER.effective_from("sample") is None


def test_a_list_without_a_year_needs_a_release(warehouse):
    with pytest.raises(UsageError, match="pass --release ID"):
        load(warehouse, "cpt", [CPT_FIXTURES / "good_synonyms.csv"])
    with pytest.raises(UsageError, match="pass --effective-from"):
        load(warehouse, "cpt", [CPT_FIXTURES / "good_synonyms.csv"], release_id="mine")
    result = load(warehouse, "cpt", [CPT_FIXTURES / "good_synonyms.csv"], release_id="mine",
                  effective_from=date(2026, 4, 1))
    assert (result.release_id, result.effective_from) == ("mine", date(2026, 4, 1))


# --- good lists --------------------------------------------------------------------------------


def test_a_user_list_loads(warehouse):
    result = load(warehouse, "cpt", [CPT_FIXTURES / "good_cpt-2026.csv"])  # release and date from the name
    assert (result.release_id, result.effective_from) == ("2026", START)
    assert [(p.part, p.rows) for p in result.parts] == [("codes", 6)]
    assert result.notes == [
        "good_cpt-2026.csv: column(s) 'rvu' not read (codesets reads code, description, short_description, "
        "effective_from, effective_to)"
    ]
    assert rows(warehouse) == [
        ("99213", "Office visit, established patient — test wording, not AMA text", "Office visit est (test)",
         True, None, None, 2),
        ("80053", 'Chemistry panel, "comprehensive" (test wording)', "Chem panel (test)", True, START, None, 3),
        ("1036F", "Quality measure (test wording)", "Tobacco non-user (test)", True, None, None, 4),
        ("0042T", "Emerging technology (test wording)", "Emerging tech (test)", True, START, date(2026, 6, 30), 5),
        ("0001U", "Proprietary laboratory analysis (test wording)", "Lab analysis (test)", True, date(2026, 4, 1),
         None, 6),
        ("0002M", "Multianalyte assay (test wording — café)", "Assay score (test)", True, None, None, 7),
    ]
    files = catalog_files(warehouse, "2026")
    assert {n: (f["rows"], f["kind"], f["line_ending"]) for n, f in files.items()} == {
        "good_cpt-2026.csv": (6, "cpt list (utf-8)", "CRLF")
    }


def test_a_rows_dates_narrow_the_release_window(warehouse):
    load(warehouse, "cpt", [CPT_FIXTURES / "good_cpt-2026.csv"])
    with warehouse.connect() as con:
        windows = dict((code, (start, end)) for code, start, end in con.execute(
            "SELECT code, effective_from, effective_to FROM codes WHERE code_system = 'cpt'"
        ).fetchall())
    year_end = date(2026, 12, 31)  # a CPT year's release answers through December 31
    assert windows["99213"] == (START, year_end)
    assert windows["0042T"] == (START, date(2026, 6, 30))
    assert windows["0001U"] == (date(2026, 4, 1), year_end)


def test_synonyms_and_latin1(warehouse):
    result = load_list(warehouse, "good_synonyms.csv")
    assert result.notes == ["good_synonyms.csv: not valid UTF-8, read as Latin-1"]
    assert rows(warehouse) == [
        ("99203", "Office visit new patient (test wording café)", None, True, None, None, 2),
        ("36415", "Blood draw (test wording)", None, True, None, None, 3),
    ]


def test_quirks_and_hostile_text_are_loaded_as_text_and_noted(warehouse):
    result = load_list(warehouse, "quirks.csv")
    assert rows(warehouse) == [
        ("0001U", "Lab analysis (test wording)", "Lab", True, None, None, 2),
        ("99213", "Office visit (test wording)", "Visit", True, None, None, 3),
        ("71046", "=cmd|' /C calc'!A0", "+1", True, None, None, 5),
        ("85025", "Blood count\twith a tab (test wording)", "CBC", True, None, None, 6),
        ("93000", "@SUM(1+1)", "-2", True, None, None, 8),
    ]
    notes = "\n".join(result.notes)
    assert "quirks.csv: 2 row(s) with a blank line (skipped: it holds no code), first at line 4" in notes
    assert "quirks.csv: 2 row(s) with a code in lower case or with spaces around it (stored trimmed, upper case), " \
           "first at line 2" in notes
    assert "quirks.csv: 2 row(s) with a description or short description starting with =, +, - or @" in notes
    assert "quirks.csv: 1 row(s) with a control character (tab, escape, ...) in a description" in notes


def test_crlf_and_lf_and_no_final_newline_read_alike(warehouse, tmp_path):
    text = 'code,description\n99213,Office visit (test wording)\n0001U,"Lab (test wording, caf\u00e9)"'
    for number, (ending, encoding) in enumerate([("\n", "utf-8"), ("\r\n", "utf-8"), ("\r\n", "latin-1")]):
        path = tmp_path / f"list{number}.csv"
        path.write_bytes(text.replace("\n", ending).encode(encoding))
        load_list(warehouse, path, release_id=f"r{number}", effective_from=date(2026, 1, 1 + number))
    with warehouse.connect() as con:
        got = con.execute(
            "SELECT release_id, code, description, line_no FROM code_rows ORDER BY release_id, line_no"
        ).fetchall()
    assert [(c, d, n) for _r, c, d, n in got] == [
        ("99213", "Office visit (test wording)", 2), ("0001U", "Lab (test wording, café)", 3),
    ] * 3


def test_very_long_fields_load_whole(warehouse, tmp_path):
    long_text = "sample wording " * 20_000  # 300,000 characters, one field
    path = tmp_path / "long-2026.csv"
    path.write_text(f'code,description\n99213,"{long_text}"\n0001U,"{long_text}é"\n', encoding="utf-8")
    load_list(warehouse, path)
    with warehouse.connect() as con:
        lengths = con.execute("SELECT code, length(description) FROM code_rows ORDER BY line_no").fetchall()
    assert lengths == [("99213", len(long_text)), ("0001U", len(long_text) + 1)]


def test_a_line_too_long_to_be_a_record_is_refused(warehouse, tmp_path):
    path = tmp_path / "huge-2026.csv"
    path.write_text("code,description\n99213,x\n0001U," + "é" * (_lines.MAX_LINE // 2 + 10) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 3 is longer than 1,048,576 bytes"):
        load_list(warehouse, path)
    assert warehouse.current() is None


def test_a_refused_long_value_is_cut_and_escaped_in_the_message(warehouse, tmp_path):
    path = tmp_path / "bad-2026.csv"
    path.write_text("code,description\n99213,fine\n" + "9" * 5000 + "\x1b[31m,bad\n", encoding="utf-8")
    with pytest.raises(LoadRejected) as info:
        load_list(warehouse, path)
    (reject,) = info.value.rejects
    assert (reject["line"], reject["column"]) == (3, "code")
    assert len(reject["value"]) == checks.VALUE_LIMIT
    assert "\x1b" not in str(info.value) and len(str(info.value)) < 2000


def test_a_carriage_return_inside_a_utf8_line_is_refused(warehouse, tmp_path):
    path = tmp_path / "cr-2026.csv"
    path.write_bytes("code,description\n99213,caf\u00e9\n0001U,one\rtwo\n".encode())
    with pytest.raises(SourceError, match="line 3 holds a carriage return that does not end the line"):
        load_list(warehouse, path)


# --- refusals: each names file, line, column and value ------------------------------------

BAD_ROWS = {
    "bad_code.csv": [(3, "code", "9921"), (4, "code", "99213A"), (5, "code", "A0021"), (6, "code", ""),
                     (7, "code", "0001X"), (8, "code", "９９２１３")],
    "bad_duplicate.csv": [(2, "code_repeated", "99213, also on lines 5, 6"),
                          (5, "code_repeated", "99213, also on lines 2, 6"),
                          (6, "code_repeated", "99213, also on lines 2, 5")],
    "bad_dates.csv": [(3, "effective_from", "2026-13-01"), (4, "effective_from", "01/01/2026"),
                      (5, "effective_from", "2026-1-1"), (6, "effective_to", "2026-02-30"),
                      (7, "dates", "2026-06-01 to 2026-05-31")],
    "bad_field_count.csv": [(3, "record", "2 fields (the header has 3): 99214,Office visit (test wording)"),
                            (4, "record",
                             "4 fields (the header has 3): 99215,Office visit (test wording),Visit,extra")],
    "bad_quotes.csv": [(2, "raw", '99213,"Office visit (test wording),'),
                       (3, "raw", '99214,Office "visit" (test wording)'),
                       (4, "raw", '99215,"a quoted field'),
                       (5, "raw", 'over two lines"'),
                       (6, "raw", '36415,"closed" then more')],
}


@pytest.mark.parametrize("name", sorted(BAD_ROWS))
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, name):
    with pytest.raises(LoadRejected) as info:
        load_list(warehouse, name)
    assert warehouse.current() is None, "a refused load must publish nothing"
    error = info.value
    assert [(r["line"], r["column"], r["value"]) for r in error.rejects] == BAD_ROWS[name]
    assert all(r["file"] == name and r["rule"] for r in error.rejects)
    for line, column, value in BAD_ROWS[name]:  # the message itself names each, values escaped
        assert all(text in str(error) for text in (name, f" {line} ", column, escape(value)))
    with open(error.rejects_path, newline="", encoding="utf-8") as handle:
        assert [int(r["line"]) for r in csv.DictReader(handle)] == [line for line, _c, _v in BAD_ROWS[name]]


@pytest.mark.parametrize("name,match", [
    ("bad_no_code_column.csv", "bad_no_code_column.csv: line 1: the header names no code column; expected a column "
                               "'code' \\(or 'cpt_code', 'cpt'\\), found 'cpt_number,description'"),
    ("bad_code_twice.csv", "bad_code_twice.csv: line 1, columns 1 and 2: 'code' and 'CPT Code' both name the code"),
    ("bad_c1.csv", "bad_c1.csv: byte 0x93 at line 2, column 7 is not Latin-1 text"),
    ("bad_empty_list.csv", "bad_empty_list.csv: not a file of source cpt"),
])
def test_files_refused_as_a_whole(warehouse, name, match):
    with pytest.raises(SourceError, match=match) as info:
        load_list(warehouse, name)
    assert not isinstance(info.value, LoadRejected)
    assert warehouse.current() is None


def test_two_lists_in_one_release_are_refused(warehouse, tmp_path):
    other = tmp_path / "other.csv"
    shutil.copy(CPT_FIXTURES / "good_synonyms.csv", other)
    with pytest.raises(SourceError, match="a CPT release is one code list"):
        load(warehouse, "cpt", [CPT_FIXTURES / "good_synonyms.csv", other], release_id="2026")
    assert warehouse.current() is None


@pytest.mark.parametrize("name", [*sorted(BAD_ROWS), "good_cpt-2026.csv", "good_synonyms.csv", "quirks.csv"])
def test_pushdown_agrees_with_pandera(name):
    """The model declared once: pandera's own pandas validation refuses the same lines as the SQL push-down."""
    import pandera.pandas as pa

    con = duckdb.connect()
    cpt.LOADER.stage(con, {"codes": [CPT_FIXTURES / name]})
    model = cpt.model()
    pushed = {line for _file, line, *_rest in checks.failing_rows(con, "staged", model)}
    frame = con.sql("SELECT * FROM staged ORDER BY line_no").df()
    try:
        model.validate(frame, lazy=True)
        validated = set()
    except pa.errors.SchemaErrors as exc:
        validated = set(frame.loc[exc.failure_cases["index"].dropna().astype(int), "line_no"])
    assert pushed == validated == {line for line, _c, _v in BAD_ROWS.get(name, [])}


# --- the parser against Python's csv module --------------------------------------------------

FIELD_TEXT = st.text(
    st.characters(min_codepoint=9, max_codepoint=0x2FF, blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85"),
    max_size=30,
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(FIELD_TEXT, FIELD_TEXT, st.booleans()), min_size=1, max_size=12),
       encoding=st.sampled_from(["utf-8", "latin-1"]), ending=st.sampled_from(["\n", "\r\n"]))
def test_fields_match_pythons_csv_reader(tmp_path, rows, encoding, ending):
    """The twin: Python's csv module writes the list (quoting what needs it, or every field) and
    reads it back; the staged fields must be the same, on the same physical lines."""
    if encoding == "latin-1":
        rows = [(d, s, q) for d, s, q in rows if all(ord(c) < 0x80 or 0xA0 <= ord(c) <= 0xFF for c in d + s)]
        rows = rows or [("", "", False)]
        # 0xE9 before an ASCII byte is not UTF-8: the file is read as Latin-1, as written
        rows[0] = (rows[0][0] + "\u00e9", rows[0][1], rows[0][2])
    path = tmp_path / "twin.csv"
    with open(path, "w", newline="", encoding=encoding) as handle:
        minimal = csv.writer(handle, lineterminator=ending)
        every = csv.writer(handle, lineterminator=ending, quoting=csv.QUOTE_ALL)  # quotes that are not needed
        minimal.writerow(["code", "description", "short_description"])
        for number, (description, short, quote_all) in enumerate(rows):
            (every if quote_all else minimal).writerow([f"{number:04d}T", description, short])
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        next(reader)
        expected = [(reader.line_num, *record) for record in reader]
    con = duckdb.connect()
    cpt.LOADER.stage(con, {"codes": [path]})
    assert checks.run(con, "staged", cpt.model()).failures == 0
    got = con.execute(
        "SELECT line_no, code, coalesce(description, ''), coalesce(short_description, '') FROM cpt_rows "
        "WHERE kind = 'data' ORDER BY line_no"
    ).fetchall()
    assert got == expected


# --- releases and the sample -----------------------------------------------------------------


def test_loading_the_same_bytes_again_is_a_no_op(warehouse):
    load(warehouse, "cpt", [CPT_FIXTURES / "good_cpt-2026.csv"])
    before = warehouse.current()
    again = load(warehouse, "cpt", [CPT_FIXTURES / "good_cpt-2026.csv"])
    assert again.status == "unchanged" and warehouse.current() == before


def test_sample_is_our_own_wording_and_loads(warehouse):
    sample = cpt.LOADER.sample()
    assert sample.release_id == "sample" and sample.effective_from == START
    (path,) = sample.files
    assert cpt.LOADER.claim(path) == Claim("codes", None)
    with open(path, newline="", encoding="utf-8") as handle:
        listed = list(csv.DictReader(handle))
    assert len(listed) >= 10
    assert all("(sample wording, not AMA text)" in row["description"] for row in listed)
    result = load(warehouse, "cpt", [path], sample.release_id, sample.effective_from, sample=True)
    assert result.notes == [] and result.parts[0].rows == len(listed)
    with warehouse.connect() as con:
        systems = con.execute("SELECT DISTINCT code_system, billable, is_sample FROM codes").fetchall()
        kinds = {code[-1] for (code,) in con.execute("SELECT code FROM codes").fetchall()}
    assert systems == [("cpt", True, True)]
    assert {"F", "T", "U", "M"} <= kinds
