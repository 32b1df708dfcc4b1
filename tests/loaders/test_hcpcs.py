"""The HCPCS loader on hand-made fixtures (one per failure mode), the three real annual contractor
files, the real 2026 CSV excerpt and the bundled sample."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import LoadRejected, SourceError
from codesets.loaders import hcpcs
from codesets.loaders.contract import Claim
from codesets.core import checks, sqlfiles
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, SHARED_DATA, catalog_files, need_shared

HCPCS_FIXTURES = FIXTURES / "hcpcs"
REAL = SHARED_DATA / "hcpcs"
REAL_2017 = REAL / "cms_annual_2017" / "HCPC17_CONTR_ANWEB.txt"
REAL_2018 = REAL / "cms_annual_2018" / "HCPC2018_CONTR_ANWEB_disc.txt"
REAL_2019 = REAL / "cms_annual_2019" / "HCPC2019_CONTR_ANWEB.txt"
REAL_2026 = REAL / "cms_2026_excerpt" / "HCPC2026_OCT_ANWEB.excerpt.csv"
ROWS = "code_rows"  # the shared table of code rows the loader fills, readable as a view
PART = "alphanumeric"
START = date(2019, 1, 1)


@pytest.fixture(scope="module", autouse=True)
def _model_declared_once():
    """Declare the model (and register pandera's sql_rules check) before any load runs.

    load() builds the model in a background thread; when a load is refused before it waits for
    that thread, the thread may still be registering the check while a test builds the model
    itself, and pandera refuses a second registration (checks.register_sql_rules has no lock).
    """
    hcpcs.model()


def load_fixture(warehouse, name, release_id="t1"):
    return load(warehouse, "hcpcs", [HCPCS_FIXTURES / name], release_id=release_id, effective_from=START)


def code_rows(warehouse, where="TRUE", params=()):
    with warehouse.connect() as con:
        return con.execute(
            "SELECT code_system, code, description, short_description, billable, effective_from, effective_to, "
            f"action_code, action_effective_date, line_no FROM {ROWS} WHERE {where} ORDER BY release_id, line_no",
            list(params),
        ).fetchall()


def map_rows(warehouse, where="TRUE", params=()):
    with warehouse.connect() as con:
        return con.execute(
            "SELECT source_system, source_code, target_system, target_code, map_rule, line_no FROM maps "
            f"WHERE source = 'hcpcs' AND {where} ORDER BY release_id, line_no, target_code",
            list(params),
        ).fetchall()


# --- recognising a file, naming its release ---------------------------------------------------


def test_claim_reads_the_content_and_takes_the_release_from_the_name(tmp_path):
    claim = hcpcs.LOADER.claim
    assert claim(HCPCS_FIXTURES / "good_records.txt") == Claim(PART, None)
    assert claim(HCPCS_FIXTURES / "good_quarterly.csv") == Claim(PART, None)
    assert claim(HCPCS_FIXTURES / "disclaimer_short_continuations.txt") == Claim(PART, None)
    named = tmp_path / "HCPC2019_APR_ANWEB.txt"
    shutil.copy(HCPCS_FIXTURES / "good_records.txt", named)
    assert claim(named) == Claim(PART, "2019-04")
    # the name names the release, never the form: a CSV under a .txt name is still read as a CSV
    csv_named_txt = tmp_path / "HCPC2020_JAN_ANWEB_v2.txt"
    shutil.copy(HCPCS_FIXTURES / "good_quarterly.csv", csv_named_txt)
    assert claim(csv_named_txt) == Claim(PART, "2020-01")


def test_claim_leaves_other_files_alone(tmp_path):
    claim = hcpcs.LOADER.claim
    assert claim(FIXTURES / "gems" / "good_i9gem_lf.txt") is None
    assert claim(FIXTURES / "ncci_mue" / "good_practitioner.csv") is None
    prose = tmp_path / "HCPC2019_README.txt"
    prose.write_text("***Disclaimers\r\n\r\nA disclaimer and nothing after it.\r\n")
    assert claim(prose) is None
    other_csv = tmp_path / "codes.csv"
    other_csv.write_text("CODE,SEQNUM,RECID\r\nA0021,00100,3\r\n")
    assert claim(other_csv) is None
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 400)
    assert claim(binary) is None


def test_claim_takes_exactly_the_hcpcs_code_files_of_the_shared_data():
    """Not the readme, record layout, processing notes, corrections or NOC lists; no other source's file."""
    need_shared(REAL_2017)
    claimed = {}
    for path in sorted(SHARED_DATA.rglob("*")):
        if path.is_file() and (claim := hcpcs.LOADER.claim(path)) is not None:
            claimed[path.relative_to(SHARED_DATA).as_posix()] = claim.release_id
    assert claimed == {
        "hcpcs/cms_2026_excerpt/HCPC2026_OCT_ANWEB.excerpt.csv": "2026-10",
        "hcpcs/cms_annual_2017/HCPC17_CONTR_ANWEB.txt": "2017",
        "hcpcs/cms_annual_2018/HCPC2018_CONTR_ANWEB_disc.txt": "2018",
        "hcpcs/cms_annual_2019/HCPC2019_CONTR_ANWEB.txt": "2019",
    }


@pytest.mark.parametrize(("name", "release"), [
    ("HCPC17_CONTR_ANWEB.txt", "2017"),
    ("HCPC2018_CONTR_ANWEB_disc.txt", "2018"),
    ("HCPC2019_CONTR_ANWEB.txt", "2019"),
    ("HCPC2026_OCT_ANWEB.excerpt.csv", "2026-10"),
    ("HCPC2026_JAN_ANWEB_v3.txt", "2026-01"),
    ("hcpc2025_jul_anweb.csv", "2025-07"),
    ("2019-Alpha-Numeric-HCPCS-File.txt", "2019"),
    ("codes.txt", None),
])
def test_release_from_the_file_name(name, release):
    from codesets.loaders._hcpcs_head import release_from_name

    assert release_from_name(Path("/nowhere") / name) == release


def test_effective_from_parses_the_release_id():
    effective_from = hcpcs.LOADER.effective_from
    assert effective_from("2017") == date(2017, 1, 1)
    assert effective_from("2026-10") == date(2026, 10, 1)
    assert effective_from("2026-04") == date(2026, 4, 1)
    assert effective_from("2026-13") is None
    assert effective_from("v322r0") is None
    assert effective_from("sample") is None


# --- good files ----------------------------------------------------------------------------


def test_fixed_width_records_fold_into_one_row_per_code(warehouse):
    result = load_fixture(warehouse, "good_records.txt")
    assert [(p.part, p.rows) for p in result.parts] == [(PART, 6 + 4)]  # 6 codes, 4 cross-references
    assert result.notes == []
    rows = code_rows(warehouse)
    assert [(system, code, line) for system, code, *_rest, line in rows] == [
        ("hcpcs_modifier", "AM", 1), ("hcpcs_modifier", "AS", 2), ("hcpcs", "C9137", 4), ("hcpcs", "G0436", 5),
        ("hcpcs", "G8891", 7), ("hcpcs", "J7207", 10),
    ]
    by_code = {row[1]: row for row in rows}
    assert by_code["AS"][2:5] == (
        "Physician assistant, nurse practitioner, or clinical nurse specialist services for assistant at surgery",
        "Assistant at surgery service", True,
    )
    assert by_code["G8891"][2] == (
        "Documentation of medical reason(s) for most recent ldl-c not under control (e.g., patients with palliative "
        "goals for whom treatment of hypertension with standard treatment goals is not clinically appropriate)"
    )
    assert by_code["C9137"][5:9] == (date(2016, 4, 1), date(2016, 12, 31), "N", date(2017, 1, 1))
    assert by_code["J7207"][5:9] == (date(2017, 1, 1), None, "N", date(2017, 1, 1))
    assert map_rows(warehouse) == [
        ("hcpcs_modifier", "AM", "hcpcs_modifier", "QM", None, 1),
        ("hcpcs", "C9137", "hcpcs", "J7207", None, 4),
        ("hcpcs", "G0436", "cpt", "99406", None, 5),
        ("hcpcs", "G0436", "cpt", "99407", None, 5),
    ]
    files = catalog_files(warehouse, "t1")
    assert {n: (f["rows"], f["kind"], f["line_ending"]) for n, f in files.items()} == {
        "good_records.txt": (10, "fixed-width", "CRLF"),
    }


def test_csv_export_loads_quoted_commas_and_padded_modifiers(warehouse):
    result = load_fixture(warehouse, "good_quarterly.csv")
    assert result.notes == ["good_quarterly.csv: line 1 is the CSV header: not data, not loaded"]
    rows = code_rows(warehouse)
    assert [(system, code, line) for system, code, *_rest, line in rows] == [
        ("hcpcs_modifier", "AM", 2), ("hcpcs_modifier", "AS", 3), ("hcpcs_modifier", "CP", 5),
        ("hcpcs", "C9137", 6), ("hcpcs", "J7207", 7),  # the last line has no line ending
    ]
    by_code = {row[1]: row for row in rows}
    assert by_code["AS"][2] == (
        "Physician assistant, nurse practitioner, or clinical nurse specialist services for assistant at surgery"
    )
    assert by_code["CP"][2].endswith("(c-apc) procedure, but reported on a different claim")
    assert by_code["CP"][5:9] == (date(2016, 1, 1), date(2017, 12, 31), "N", date(2018, 1, 1))
    assert by_code["C9137"][3] == "Adynovate, 1 i.u."
    assert map_rows(warehouse) == [
        ("hcpcs_modifier", "AM", "hcpcs_modifier", "QM", None, 2),
        ("hcpcs", "C9137", "hcpcs", "J7207", None, 6),
    ]
    assert catalog_files(warehouse, "t1")["good_quarterly.csv"]["kind"] == "csv"


def test_latin1_bytes_in_descriptions_arrive_as_utf8(warehouse):
    result = load_fixture(warehouse, "latin1_lf.txt")
    assert result.notes == ["latin1_lf.txt: 1 row(s) with a blank line (skipped: it holds no record), first at line 4"]
    (cafe,) = code_rows(warehouse, "code = 'A0021'")
    # 0xE9, 0xB1, 0xB5 in the first record; 0xEF and 0xA0 (a no-break space) in its continuation
    assert cafe[2] == "Ambulance service, café stop ± 1 mile, 5 µg oxygen naïve patient, 30\u00a0minutes"
    assert cafe[3] == "Café stop ± 1 mi"
    assert catalog_files(warehouse, "t1")["latin1_lf.txt"]["line_ending"] == "LF"


def test_disclaimer_block_and_short_continuations_are_noted(warehouse):
    result = load_fixture(warehouse, "disclaimer_short_continuations.txt")
    assert result.notes == [
        "disclaimer_short_continuations.txt: 3 row(s) with a continuation record shorter than 320 characters "
        "(blanks after the long description trimmed): read as padded with blanks, first at line 9",
        "disclaimer_short_continuations.txt: lines 1-6 are CMS's disclaimer block, text before the first record: "
        "skipped, not loaded",
    ]
    rows = code_rows(warehouse)
    assert [(code, line) for _s, code, *_rest, line in rows] == [("AM", 7), ("AS", 8), ("G8891", 10), ("J7207", 13)]
    assert rows[1][2].endswith("specialist services for assistant at surgery")
    assert rows[2][2].endswith("standard treatment goals is not clinically appropriate)")


# --- refusals --------------------------------------------------------------------------------

# fixture -> (line, column, value) of every row it must refuse
BAD_ROWS = {
    "bad_recid.txt": [(2, "recid", "5")],
    "bad_first_record_length.txt": [(2, "line_length", "200")],
    "bad_continuation_length.txt": [(3, "line_length", "60")],
    "bad_continuation_data.txt": [(3, "after_column_91", " " * 177 + "20120101" + " " * 15)],
    "bad_orphan_continuation.txt": [
        (3, "sequence_problem",
         "RECID 4 record of G8891 follows RECID 3 record of C9137 (line 2): its first record is not above it"),
    ],
    "bad_out_of_sequence.txt": [
        (3, "sequence_problem", "G8891 sequence 00300 follows sequence 00100 (line 2): a record is missing"),
    ],
    "bad_duplicate_code.txt": [
        (2, "code_repeated", "C9137, also on line 4"), (4, "code_repeated", "C9137, also on line 2"),
    ],
    "bad_add_date.txt": [(2, "add_dt", "20161301")],
    "bad_term_date.txt": [(2, "term_dt", "2016-12-")],
    "bad_term_before_add.txt": [(2, "term_dt", "20151231")],
    "bad_action_code.txt": [(2, "action_cd", "X")],
    "bad_xref.txt": [(2, "xref1", "J72-7")],
    "bad_code.txt": [(2, "hcpc", "   C9")],
    "bad_disclaimer_in_data.txt": [
        (3, "raw", "*In some instances, brand names may appear in HCPCS descriptions.\t\t\t"),
    ],
    "bad_csv_fields.csv": [(4, "csv_problem", 'quotes do not pair up:    AS,0020,8,"for, assistant at surgery' + "," * 44)],
    "bad_csv_date.csv": [(3, "add_dt", "1/1/1988")],
}


@pytest.mark.parametrize("name", sorted(BAD_ROWS))
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, name):
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, name)
    assert warehouse.current() is None, "a refused load must publish nothing"
    refused = info.value
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in refused.rejects] == [
        (name, line, column, value) for line, column, value in BAD_ROWS[name]
    ]
    message = str(refused)
    assert "nothing was loaded" in message and name in message
    assert all(r["rule"] for r in refused.rejects)


def test_refusals_say_what_is_expected():
    rules = {}
    for name in ("bad_first_record_length.txt", "bad_out_of_sequence.txt", "bad_disclaimer_in_data.txt"):
        con = duckdb.connect()
        hcpcs.LOADER.stage(con, {PART: [HCPCS_FIXTURES / name]})
        rules[name] = [rule for *_where, rule in checks.failing_rows(con, "staged", hcpcs.model())]
    assert rules["bad_first_record_length.txt"] == [
        "a first record (RECID 3 or 7) is 320 characters long; this one is cut short or too long, so its fields "
        "would be misread"
    ]
    assert "sequence number 100 higher" in rules["bad_out_of_sequence.txt"][0]
    assert "a disclaimer belongs before the first record" in rules["bad_disclaimer_in_data.txt"][0]


def test_a_windows_1252_byte_is_refused_by_line_and_column(warehouse, tmp_path):
    path = tmp_path / "HCPC2019_CONTR_ANWEB.txt"
    path.write_bytes((HCPCS_FIXTURES / "good_records.txt").read_bytes().replace(b"team member", b"team \x96 member"))
    with pytest.raises(SourceError, match=r"byte 0x96 at line 1, column 28 is not Latin-1"):
        load(warehouse, "hcpcs", [path])
    assert warehouse.current() is None


def test_a_utf8_file_is_refused_by_line(warehouse):
    with pytest.raises(SourceError, match=r"utf8\.csv: the file is UTF-8 \(from line 3\).*save it as Latin-1"):
        load_fixture(warehouse, "utf8.csv")
    assert warehouse.current() is None


def test_a_csv_header_without_a_title_read_is_refused(warehouse, tmp_path):
    path = tmp_path / "HCPC2026_OCT_ANWEB.csv"
    path.write_bytes((HCPCS_FIXTURES / "good_quarterly.csv").read_bytes().replace(b",TERM DT,", b",TERMDT,", 1))
    with pytest.raises(SourceError, match=r"line 1: header title 'TERM DT' is missing"):
        load(warehouse, "hcpcs", [path])
    assert warehouse.current() is None


def test_both_forms_in_one_release_are_refused(warehouse, tmp_path):
    """The fixed-width file and the spreadsheet list the same codes: one part, so a release holds one of them."""
    with pytest.raises(SourceError, match="a release holds one"):
        load(warehouse, "hcpcs", [HCPCS_FIXTURES / "good_records.txt", HCPCS_FIXTURES / "good_quarterly.csv"],
             release_id="t1", effective_from=START)
    assert warehouse.current() is None
    load_fixture(warehouse, "good_records.txt")
    with pytest.raises(SourceError, match="already published from other files"):
        load_fixture(warehouse, "good_quarterly.csv")


def test_loading_the_same_bytes_again_is_a_no_op(warehouse):
    load_fixture(warehouse, "good_records.txt")
    before = warehouse.current()
    again = load_fixture(warehouse, "good_records.txt")
    assert again.status == "unchanged"
    assert warehouse.current() == before


@pytest.mark.parametrize("name", sorted(BAD_ROWS) + ["good_records.txt", "good_quarterly.csv", "latin1_lf.txt",
                                                      "disclaimer_short_continuations.txt"])
def test_pushdown_agrees_with_pandera(name):
    """The model declared once: pandera's own pandas validation refuses the same lines as the SQL push-down."""
    import pandera.pandas as pa

    con = duckdb.connect()
    hcpcs.LOADER.stage(con, {PART: [HCPCS_FIXTURES / name]})
    model = hcpcs.model()
    pushed = {line for _file, line, *_rest in checks.failing_rows(con, "staged", model)}
    frame = con.sql("SELECT * FROM staged ORDER BY line_no").df()
    try:
        model.validate(frame, lazy=True)
        validated = set()
    except pa.errors.SchemaErrors as exc:
        validated = set(frame.loc[exc.failure_cases["index"].dropna().astype(int), "line_no"])
    assert pushed == validated == {line for line, _c, _v in BAD_ROWS.get(name, [])}


# --- the continuation join, as a property ----------------------------------------------------

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789(),;/.-", min_size=1, max_size=15)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORDS, min_size=1, max_size=60))
def test_wrapped_descriptions_join_back_to_their_words(tmp_path, words):
    """CMS wraps a long description at blanks into 80-character pieces; the fold gives the text back."""
    text = " ".join(words)
    pieces = textwrap.wrap(text, width=80, break_on_hyphens=False)  # words are shorter than a piece
    lines = []
    for number, piece in enumerate(pieces, start=1):
        recid = "3" if number == 1 else "4"
        record = f"A0021{number * 100:05d}{recid}{piece:<80}"
        if number == 1:
            record = f"{record:<268}2019010120190101{'':8}N"
        lines.append(f"{record:<320}")
    path = tmp_path / "wrapped.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    con = duckdb.connect()
    hcpcs.LOADER.stage(con, {PART: [path]})
    assert checks.failing_rows(con, "staged", hcpcs.model()) == []
    (description,) = con.execute(f"SELECT description FROM ({hcpcs.LOADER.fill(ROWS)})").fetchone()
    assert description == text


# --- the real files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_hcpcs(tmp_path_factory):
    """A warehouse holding the three real annual files, one release each."""
    from codesets.warehouse.storage import Warehouse

    need_shared(REAL_2017, REAL_2018, REAL_2019)
    wh = Warehouse(tmp_path_factory.mktemp("real_hcpcs") / "wh")
    results = {path.name: load(wh, "hcpcs", [path]) for path in (REAL_2017, REAL_2018, REAL_2019)}
    return wh, results


@pytest.mark.parametrize(("path", "release", "start", "procedure", "modifiers", "maps"), [
    (REAL_2017, "2017", date(2017, 1, 1), 6155, 343, 107),
    (REAL_2018, "2018", date(2018, 1, 1), 6205, 354, 123),
    (REAL_2019, "2019", date(2019, 1, 1), 6440, 360, 156),
])
def test_real_files_load_whole(real_hcpcs, path, release, start, procedure, modifiers, maps):
    wh, results = real_hcpcs
    result = results[path.name]
    assert (result.release_id, result.effective_from) == (release, start)
    assert [(p.part, p.status, p.rows) for p in result.parts] == [(PART, "loaded", procedure + modifiers + maps)]
    with wh.connect() as con:
        counts = dict(con.execute(
            f"SELECT code_system, COUNT(*) FROM {ROWS} WHERE release_id = ? GROUP BY 1", [release]
        ).fetchall())
        distinct = con.execute(
            f"SELECT COUNT(DISTINCT (code_system, code)), COUNT(*) FROM {ROWS} WHERE release_id = ?", [release]
        ).fetchone()
        mapped = con.execute("SELECT COUNT(*) FROM maps WHERE release_id = ? AND source = 'hcpcs'", [release]).fetchone()
    assert counts == {k: v for k, v in {"hcpcs": procedure, "hcpcs_modifier": modifiers}.items() if v}
    assert distinct[0] == distinct[1] == procedure + modifiers  # one row per code
    assert mapped[0] == maps
    records = {REAL_2017: 10828, REAL_2018: 10985, REAL_2019: 11622}[path]
    file = catalog_files(wh, release)[path.name]
    assert (file["rows"], file["line_ending"]) == (records, "CRLF" if path.suffix == ".txt" else "LF")


def test_real_quirks_are_noted(real_hcpcs):
    _wh, results = real_hcpcs
    notes = {name: result.notes for name, result in results.items()}
    assert "HCPC17_CONTR_ANWEB.txt: 4330 row(s) with a continuation record shorter than 320 characters (blanks after " \
           "the long description trimmed): read as padded with blanks, first at line 12" in notes[REAL_2017.name]
    assert "HCPC2018_CONTR_ANWEB_disc.txt: lines 1-11 are CMS's disclaimer block, text before the first record: " \
           "skipped, not loaded" in notes[REAL_2018.name]
    assert "HCPC2019_CONTR_ANWEB.txt: lines 1-8 are CMS's disclaimer block, text before the first record: " \
           "skipped, not loaded" in notes[REAL_2019.name]
    # G8891's second record is 316 characters
    assert "HCPC2019_CONTR_ANWEB.txt: 1 row(s) with a continuation record shorter than 320 characters (blanks " \
           "after the long description trimmed): read as padded with blanks, first at line 4461" in notes[REAL_2019.name]
    assert "HCPC2019_CONTR_ANWEB.txt: 1 row(s) with a blank action effective date (ACT EFF DT; stored as NULL), " \
           "first at line 1021" in notes[REAL_2019.name]
    for name in (REAL_2017.name, REAL_2018.name, REAL_2019.name):
        assert any("XREF1) that is the word 'CPT'" in n for n in notes[name]), name
    assert not any("disclaimer" in n for n in notes[REAL_2017.name])


def test_real_disclaimer_bytes_never_reach_a_row(real_hcpcs):
    """2019's disclaimer holds 0xA0 at line 3 column 138, line 5 column 66, line 6 columns 1, 2 and 47;
    no record of the three years holds a byte above 0x7F, so every stored text is ASCII."""
    need_shared(REAL_2019)
    head = REAL_2019.read_bytes().split(b"\n")[:9]
    assert {n + 1: [c + 1 for c, b in enumerate(line) if b > 0x7F] for n, line in enumerate(head)
            if not line.isascii()} == {3: [138], 5: [66], 6: [1, 2, 47]}
    wh, _results = real_hcpcs
    with wh.connect() as con:
        (non_ascii,) = con.execute(
            f"SELECT COUNT(*) FROM {ROWS} WHERE regexp_matches(description || coalesce(short_description, ''), "
            "'[^\\x00-\\x7F]')"
        ).fetchone()
        (first_line,) = con.execute(f"SELECT MIN(line_no) FROM {ROWS} WHERE release_id = '2019'").fetchone()
    assert non_ascii == 0
    assert first_line == 9


def test_real_codes_at_their_add_and_termination_dates(real_hcpcs):
    wh, _ = real_hcpcs
    # C9014 was added in 2018 (action A; absent from the 2017 file) and discontinued a year later:
    # the 2019 file dates its end 2018-12-31 (action D) and names its successor J0567
    assert code_rows(wh, "code = 'C9014'") == [
        ("hcpcs", "C9014", "Injection, cerliponase alfa, 1 mg", "Injection, cerliponase alfa", True, date(2018, 1, 1),
         None, "A", date(2018, 1, 1), 1790),
        ("hcpcs", "C9014", "Injection, cerliponase alfa, 1 mg", "Injection, cerliponase alfa", True, date(2018, 1, 1),
         date(2018, 12, 31), "D", date(2019, 1, 1), 1824),
    ]
    assert map_rows(wh, "source_code = 'C9014'") == [("hcpcs", "C9014", "hcpcs", "J0567", None, 1824)]
    # G0202 was valid in 2017, terminated 2017-12-31 in 2018 (action D), kept as terminated in 2019,
    # and cross-referenced to the CPT code that replaced it
    rows = code_rows(wh, "code = 'G0202'")
    assert [(r[6], r[7], r[9]) for r in rows] == [
        (None, "C", 2917), (date(2017, 12, 31), "D", 2995), (date(2017, 12, 31), "N", 3146),
    ]
    assert all(r[5] == date(2001, 4, 1) for r in rows)
    assert map_rows(wh, "source_code = 'G0202'") == [
        ("hcpcs", "G0202", "cpt", "77067", None, 2995), ("hcpcs", "G0202", "cpt", "77067", None, 3146),
    ]
    # C9137 terminated 2016-12-31 with its successor J7207, valid from 2017-01-01
    assert [(r[5], r[6], r[7]) for r in code_rows(wh, "code = 'C9137' AND release_id = '2017'")] == [
        (date(2016, 4, 1), date(2016, 12, 31), "D"),
    ]
    assert map_rows(wh, "source_code = 'C9137' AND release_id = '2017'") == [
        ("hcpcs", "C9137", "hcpcs", "J7207", None, 1747),
    ]
    assert [(r[5], r[6]) for r in code_rows(wh, "code = 'J7207' AND release_id = '2017'")] == [
        (date(2017, 1, 1), None),
    ]


def test_real_cross_references(real_hcpcs):
    """XREF: mostly a terminated code's successor; also a Medicare code for one Medicare does not pay,
    CPT codes (Category I and III), and one modifier for another."""
    wh, _ = real_hcpcs
    with wh.connect() as con:
        kinds = con.execute(
            "SELECT m.release_id, m.target_system, COUNT(*), COUNT(*) FILTER (WHERE c.effective_to IS NOT NULL) "
            f"FROM maps AS m JOIN {ROWS} AS c ON c.release_id = m.release_id AND c.code = m.source_code "
            "AND c.code_system = m.source_system AND c.line_no = m.line_no "
            "WHERE m.source = 'hcpcs' AND c.source = 'hcpcs' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert kinds == [
        ("2017", "cpt", 11, 11), ("2017", "hcpcs", 95, 72), ("2017", "hcpcs_modifier", 1, 0),
        ("2018", "cpt", 22, 22), ("2018", "hcpcs", 100, 77), ("2018", "hcpcs_modifier", 1, 0),
        ("2019", "cpt", 30, 29), ("2019", "hcpcs", 125, 101), ("2019", "hcpcs_modifier", 1, 0),
    ]
    assert map_rows(wh, "release_id = '2017' AND source_code IN ('A0021', 'C9735', 'C9742', 'AM', 'P7001')") == [
        ("hcpcs_modifier", "AM", "hcpcs_modifier", "QM", None, 20),
        ("hcpcs", "A0021", "hcpcs", "A0030", None, 462),
        ("hcpcs", "C9735", "cpt", "0377T", None, 1873),
        ("hcpcs", "C9742", "cpt", "31573", None, 1883),
        ("hcpcs", "C9742", "cpt", "31574", None, 1883),
    ]


def test_real_continuations_join_as_cms_joins_them(real_hcpcs):
    """G8891 is three records in 2019 (the second 316 characters long); the modifiers of the 2026
    spreadsheet carry CMS's whole text in one cell, and 2019's folded records give the same text
    for all but JG, whose description CMS changed in 2025."""
    wh, _ = real_hcpcs
    (g8891,) = code_rows(wh, "code = 'G8891' AND release_id = '2019'")
    assert g8891[2] == (
        "Documentation of medical reason(s) for most recent ldl-c not under control (e.g., patients with palliative "
        "goals for whom treatment of hypertension with standard treatment goals is not clinically appropriate)"
    )
    assert (g8891[6], g8891[9]) == (date(2014, 12, 31), 4460)
    import csv

    with open(REAL_2026, newline="", encoding="latin-1") as handle:  # an excerpt: read here, never loaded
        cms = {row["HCPC"].strip(): row["LONG DESCRIPTION"] for row in csv.DictReader(handle) if row["RECID"] == "7"}
    with wh.connect() as con:
        ours = dict(con.execute(
            f"SELECT code, description FROM {ROWS} WHERE release_id = '2019' AND code_system = 'hcpcs_modifier'"
        ).fetchall())
    compared = [(code, ours[code] == cms[code]) for code in sorted(set(ours) & set(cms))]
    assert len(compared) == 33
    assert [code for code, same in compared if not same] == ["JG"]
    # of the 32 that agree, these span more than one record in 2019 (RECID 8 at column 11, read here apart)
    continued = {line[:5].strip() for line in REAL_2019.read_bytes().decode("latin-1").split("\r\n")
                 if line[10:11] == "8"}
    assert sorted(continued & {code for code, same in compared if same}) == [
        "AD", "AP", "AQ", "AS", "AT", "CP", "GD", "L1",
    ]


def test_real_2026_excerpt_is_refused_as_part_of_a_file(warehouse):
    """35 rows of the October 2026 spreadsheet, modifiers only: loaded as a release it would end every code."""
    need_shared(REAL_2026)
    with pytest.raises(SourceError, match=r"HCPC2026_OCT_ANWEB.excerpt.csv: 35 records and not one procedure code "
                                          r"\(RECID 3\).*an excerpt\?\); load the whole file"):
        load(warehouse, "hcpcs", [REAL_2026])
    assert warehouse.current() is None


def test_real_reload_is_a_no_op(real_hcpcs):
    wh, _ = real_hcpcs
    before = wh.current()
    again = load(wh, "hcpcs", [REAL_2018])
    assert again.status == "unchanged"
    assert wh.current() == before


# --- the bundled sample ----------------------------------------------------------------------


def test_sample_is_claimed_and_loads(warehouse):
    sample = hcpcs.LOADER.sample()
    assert (sample.release_id, sample.effective_from) == ("sample", date(2019, 1, 1))
    (path,) = sample.files
    assert hcpcs.LOADER.claim(path) == Claim(PART, None)
    assert "not a CMS release" in path.read_text(encoding="latin-1")
    assert (path.parent / "README.md").is_file()
    result = load(warehouse, "hcpcs", list(sample.files), release_id="sample", effective_from=sample.effective_from,
                  sample=True)
    assert [(p.part, p.rows) for p in result.parts] == [(PART, 10 + 5)]
    assert result.notes == [f"{path.name}: lines 1-5 are CMS's disclaimer block, text before the first record: "
                            "skipped, not loaded"]
    rows = {row[1]: row for row in code_rows(warehouse)}
    assert sorted(rows) == ["AM", "AS", "C9027", "C9137", "G0436", "G8891", "J7207", "J9271", "L3900", "QM"]
    assert rows["L3900"][2] == (
        "Wrist hand finger orthosis, dynamic flexor hinge, reciprocal wrist extension/ flexion, finger "
        "flexion/extension, wrist or finger driven, custom fabricated"
    )
    assert rows["C9027"][6] == date(2015, 12, 31)
    assert ("hcpcs", "C9027", "hcpcs", "J9271", None, 10) in map_rows(warehouse)


def test_fill_names_only_shape_columns():
    """What fill() selects are columns of the shared shapes (publish refuses others)."""
    from codesets.warehouse.storage import shape_columns

    shapes = shape_columns()
    con = duckdb.connect()
    hcpcs.LOADER.stage(con, {PART: [HCPCS_FIXTURES / "good_records.txt"]})
    for table in hcpcs.LOADER.tables:
        names = [row[0] for row in con.execute(f"DESCRIBE {hcpcs.LOADER.fill(table)}").fetchall()]
        assert set(names) <= {name for name, _type in shapes[table]}, table
        assert "part" in names
    assert sqlfiles.query("hcpcs_fill_codes").startswith("-- hcpcs_fill_codes:")


def test_a_control_character_in_a_record_is_refused(warehouse, tmp_path):
    """A NUL or ESC in a description would reach a terminal through every answer that shows it."""
    records = (FIXTURES / "hcpcs" / "good_records.txt").read_bytes()
    path = tmp_path / "HCPC2030_CONTR_ANWEB.txt"
    path.write_bytes(records[:20] + b"\x1b" + records[21:])
    with pytest.raises(LoadRejected) as refused:
        load(warehouse, "hcpcs", [path])
    assert [(r["line"], r["column"]) for r in refused.value.rejects] == [(1, "raw")]
    assert "control character" in refused.value.rejects[0]["rule"]
    assert warehouse.current() is None
