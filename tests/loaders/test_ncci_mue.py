"""The NCCI MUE loader on hand-made fixtures (one per failure mode), the real practitioner excerpt,
generated full-format tables and the bundled sample."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import LoadRejected, SourceError
from codesets.loaders import ncci_mue
from codesets.loaders.contract import Claim
from codesets.core import checks
from codesets.warehouse.load import load
from tests.conftest import benchmark_module, FIXTURES, SHARED_DATA, catalog_files, need_shared

MUE_FIXTURES = FIXTURES / "ncci_mue"
REAL = SHARED_DATA / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
START = date(2026, 7, 1)
POLICY, CLINICAL, LINE = "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical", "1 Line Edit"


def load_fixture(warehouse, *names, release_id="t1"):
    return load(warehouse, "ncci_mue", [MUE_FIXTURES / n for n in names], release_id=release_id, effective_from=START)


def rejected(warehouse, name):
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, name)
    assert warehouse.current() is None, "a refused load must publish nothing"
    return info.value


def refused(warehouse, name, match):
    with pytest.raises(SourceError, match=match) as info:
        load(warehouse, "ncci_mue", [name if isinstance(name, Path) else MUE_FIXTURES / name],
             release_id="t1", effective_from=START)
    assert not isinstance(info.value, LoadRejected)
    assert warehouse.current() is None, "a refused load must publish nothing"
    return str(info.value)


def limits(warehouse, where="TRUE", params=()):
    with warehouse.connect() as con:
        return con.execute(
            "SELECT code, mue_value, mai, mai_text, rationale, line_no FROM mue_limits "
            f"WHERE {where} ORDER BY service_type, line_no", list(params)
        ).fetchall()


# --- recognising a table -------------------------------------------------------------------


def test_claim_takes_the_part_from_the_header_and_the_release_from_the_name(tmp_path):
    claim = ncci_mue.LOADER.claim
    assert claim(MUE_FIXTURES / "good_practitioner.csv").part == "practitioner"
    assert claim(MUE_FIXTURES / "quirks_outpatient_hospital.csv").part == "outpatient_hospital"
    assert claim(MUE_FIXTURES / "good_dme_no_notice.csv").part == "dme"
    assert claim(MUE_FIXTURES / "good_practitioner.csv").release_id is None
    # the name gives the release, never the part: a DME table under a practitioner name is DME
    named = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
    shutil.copy(MUE_FIXTURES / "good_dme_no_notice.csv", named)
    assert claim(named) == Claim(part="dme", release_id="2026-10-01")
    impossible = tmp_path / "MCR_MUE_DMESupplierServices_Eff_13-01-2026.csv"
    shutil.copy(MUE_FIXTURES / "good_dme_no_notice.csv", impossible)
    assert claim(impossible).release_id is None


def test_claim_leaves_other_files_alone(tmp_path):
    assert ncci_mue.LOADER.claim(FIXTURES / "gems" / "good_i9gem_lf.txt") is None
    other = tmp_path / "other.csv"
    other.write_text('"A notice",,,\r\ncode,units,kind,why\r\nX,1,y,z\r\n')
    assert ncci_mue.LOADER.claim(other) is None
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 400)
    assert ncci_mue.LOADER.claim(binary) is None


def test_effective_from_parses_the_release_id():
    assert ncci_mue.LOADER.effective_from("2026-07-01") == date(2026, 7, 1)
    assert ncci_mue.LOADER.effective_from("2026-02-30") is None
    assert ncci_mue.LOADER.effective_from("v322r0") is None
    assert ncci_mue.LOADER.effective_from("sample") is None


# --- good files ----------------------------------------------------------------------------


def test_good_file_loads_with_physical_line_numbers(warehouse):
    result = load_fixture(warehouse, "good_practitioner.csv")
    assert [(p.part, p.rows) for p in result.parts] == [("practitioner", 6)]
    # lines 1-3 are the notice (one quoted field), 4-5 the wrapped header: data starts at line 6
    assert limits(warehouse) == [
        ("0001U", 1, 2, POLICY, "Code Descriptor / CPT Instruction", 6),
        ("20610", 2, 2, POLICY, "Anatomic Consideration", 7),
        ("36415", 2, 3, CLINICAL, "Clinical: Data", 8),
        ("64483", 1, 1, LINE, "Anatomic Consideration", 9),
        ("97110", 8, 3, CLINICAL, 'Clinical: Data, "per day"', 10),  # a quoted field with a comma and a quote
        ("J1100", 100, 3, CLINICAL, "Clinical: Data", 11),
    ]
    assert "good_practitioner.csv: lines 1-5 are the notice record (lines 1-3) and the header (lines 4-5, " \
           "wrapped over 2 lines): not data, not loaded" in result.notes
    files = catalog_files(warehouse, "t1")
    assert {n: (f["rows"], f["kind"]) for n, f in files.items()} == {"good_practitioner.csv": (6, "practitioner")}


def test_a_table_without_notice_starts_at_its_header(warehouse):
    result = load_fixture(warehouse, "good_dme_no_notice.csv")
    assert limits(warehouse) == [
        ("E0114", 1, 2, POLICY, "Nature of Equipment", 2),
        ("K0001", 1, 2, POLICY, "Nature of Equipment", 3),
        ("L3908", 2, 1, LINE, "Anatomic Consideration", 4),
    ]
    assert "good_dme_no_notice.csv: line 1 is the header (no notice record): not data, not loaded" in result.notes


def test_quirks_are_loaded_and_noted(warehouse):
    result = load_fixture(warehouse, "quirks_outpatient_hospital.csv")
    assert limits(warehouse) == [
        ("0001U", 1, 2, POLICY, "Code Descriptor / CPT Instruction", 6),  # written '0001u'
        ("20610", 2, 2, POLICY, "Anatomic Consideration", 7),  # written ' 20610 '
        ("36415", 2, 2, "2 Date of Service Edit", "Clinical: Data", 8),  # the text as written, the digit read
        ("64483", 1, 3, "3", "Anatomic Consideration", 9),
        ("71046", 3, 3, CLINICAL, None, 10),
        ("85025", 1, 3, CLINICAL, "Nature of Analyte", 12),  # line 11 is a blank record
    ]
    notes = "\n".join(result.notes)
    assert "1 row(s) with a code in lower case (stored upper case), first at line 6" in notes
    assert "1 row(s) with a code with spaces around it (stored without them), first at line 7" in notes
    assert "2 row(s) with a MUE adjudication indicator text CMS does not write for its digit" in notes
    assert "1 row(s) with a rationale left empty (stored as NULL), first at line 10" in notes
    assert "1 row(s) with a blank record (skipped: it holds no field), first at line 11" in notes
    assert catalog_files(warehouse, "t1")["quirks_outpatient_hospital.csv"]["rows"] == 6


def test_three_tables_make_three_parts_of_one_release(warehouse):
    result = load_fixture(warehouse, "good_practitioner.csv", "quirks_outpatient_hospital.csv", "good_dme_no_notice.csv")
    assert sorted((p.part, p.rows) for p in result.parts) == [("dme", 3), ("outpatient_hospital", 6), ("practitioner", 6)]
    with warehouse.connect() as con:
        assert con.execute("SELECT parts FROM releases WHERE source = 'ncci_mue'").fetchone() == (
            "dme outpatient_hospital practitioner",
        )


# --- refusals: each names file, line, column and value ------------------------------------


BAD_ROWS = {
    "bad_code.csv": [(7, "code", "001U"), (8, "code", "0002U9"), (9, "code", "A12.3"), (10, "code", "\xc91234")],
    "bad_mue_value.csv": [(7, "mue_field", "-1"), (8, "mue_field", "1.5"), (9, "mue_field", "one"),
                          (10, "mue_field", ""), (11, "mue_field", "12345678901")],
    "bad_mai.csv": [(7, "mai_text", "4 Line Edit"), (8, "mai_text", "Date of Service Edit: Clinical"),
                    (9, "mai_text", "12 Date of Service Edit: Policy"), (10, "mai_text", ""),
                    (11, "mai_text", " 3 Date of Service Edit: Clinical")],
    "bad_duplicate_code.csv": [(6, "code_repeated", "0001U, also on line 9"),
                               (9, "code_repeated", "0001U, also on line 6")],
    "bad_field_count.csv": [(7, "record", "3 fields: 20610,2,2 Date of Service Edit: Policy"),
                            (8, "record", "5 fields: 36415,2,3 Date of Service Edit: Clinical,Clinical: Data,extra")],
    "bad_quotes.csv": [(7, "raw", '"20610,2,2 Date of Service Edit: Policy,Anatomic Consideration'),
                       (8, "raw", '36415,2,3 Date of Service Edit: Clinical,Clinical "Data"'),
                       (9, "raw", '64483,1,1 Line Edit,"Anatomic'),
                       (10, "raw", 'Consideration"')],
}


@pytest.mark.parametrize("name", sorted(BAD_ROWS))
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, name):
    error = rejected(warehouse, name)
    assert [(r["line"], r["column"], r["value"]) for r in error.rejects] == BAD_ROWS[name]
    assert all(r["file"] == name and r["rule"] for r in error.rejects)
    assert name in str(error) and "nothing was loaded" in str(error)
    with open(error.rejects_path, newline="", encoding="utf-8") as handle:
        assert [int(r["line"]) for r in csv.DictReader(handle)] == [line for line, _c, _v in BAD_ROWS[name]]


def test_every_bad_row_of_several_tables_is_reported(warehouse):
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "ncci_mue", [MUE_FIXTURES / "bad_mai.csv", MUE_FIXTURES / "good_dme_no_notice.csv"],
             release_id="t1", effective_from=START)
    assert {r["file"] for r in info.value.rejects} == {"bad_mai.csv"}
    assert len(info.value.rejects) == 5
    assert warehouse.current() is None


def test_header_with_an_unknown_title_is_refused(warehouse):
    message = refused(warehouse, "bad_header_titles.csv", "line 4, column 2")
    assert "bad_header_titles.csv" in message and "'Physician Services MUE Values'" in message


def test_missing_header_is_refused(warehouse):
    message = refused(warehouse, "bad_header_missing.csv", "line 4: the header record is missing")
    assert "bad_header_missing.csv" in message and "0001U,1," in message


@pytest.mark.parametrize("header,match", [
    ('"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjustment Indicator,MUE Rationale',
     "line 4, column 3: header title 'MUE Adjustment Indicator'"),
    ('"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator',
     "line 4: the header record has 3 fields, not 4"),
    ('HCPCS Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale',
     "line 4, column 1: header title 'HCPCS Code'"),
])
def test_other_header_faults_name_line_and_column(warehouse, tmp_path, header, match):
    good = (MUE_FIXTURES / "good_practitioner.csv").read_bytes()
    notice, _header, rest = good.split(b"\r\n", 2)
    path = tmp_path / "bad_header.csv"
    path.write_bytes(notice + b"\r\n" + header.encode() + b"\r\n" + rest)
    refused(warehouse, path, match)


def test_empty_file_is_refused(warehouse):
    refused(warehouse, "bad_empty.csv", "bad_empty.csv: the file is empty")


def test_windows_1252_byte_is_refused_by_line_and_column(warehouse):
    refused(warehouse, "bad_c1_byte.csv", r"bad_c1_byte.csv: byte 0x93 at line 7, column 49 is not Latin-1")


def test_two_tables_of_one_service_type_are_refused(warehouse, tmp_path):
    other = tmp_path / "copy.csv"
    other.write_bytes((MUE_FIXTURES / "good_practitioner.csv").read_bytes().replace(b"J1100,100", b"J1100,90"))
    with pytest.raises(SourceError, match="both hold the practitioner MUE table"):
        load(warehouse, "ncci_mue", [MUE_FIXTURES / "good_practitioner.csv", other], release_id="t1",
             effective_from=START)
    assert warehouse.current() is None


# --- releases --------------------------------------------------------------------------------


def test_loading_the_same_bytes_again_is_a_no_op(warehouse):
    load_fixture(warehouse, "good_practitioner.csv", "good_dme_no_notice.csv")
    before = warehouse.current()
    again = load_fixture(warehouse, "good_dme_no_notice.csv", "good_practitioner.csv")
    assert again.status == "unchanged" and "unchanged" in again.summary()
    assert warehouse.current() == before


def test_a_later_release_closes_the_window_of_its_service_type(warehouse, tmp_path):
    load_fixture(warehouse, "good_practitioner.csv", "good_dme_no_notice.csv", release_id="2026-07-01")
    later = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
    later.write_bytes((MUE_FIXTURES / "good_practitioner.csv").read_bytes().replace(b"J1100,100", b"J1100,90"))
    result = load(warehouse, "ncci_mue", [later])
    assert result.release_id == "2026-10-01" and result.effective_from == date(2026, 10, 1)
    (part,) = result.parts
    assert (part.previous_release_id, part.rows_added, part.rows_removed) == ("2026-07-01", 1, 1)
    with warehouse.connect() as con:
        windows = con.execute(
            "SELECT DISTINCT service_type, release_id, effective_from, effective_to FROM mue_limits ORDER BY 1, 2"
        ).fetchall()
        on_day = con.execute(
            "SELECT release_id, mue_value FROM mue_limits WHERE code = 'J1100' AND service_type = 'practitioner' "
            "AND serves AND effective_from <= ? AND (effective_to IS NULL OR ? <= effective_to)",
            [date(2026, 9, 30), date(2026, 9, 30)],
        ).fetchall()
    assert windows == [
        ("dme", "2026-07-01", date(2026, 7, 1), None),
        ("practitioner", "2026-07-01", date(2026, 7, 1), date(2026, 9, 30)),
        ("practitioner", "2026-10-01", date(2026, 10, 1), None),
    ]
    assert on_day == [("2026-07-01", 100)]


def test_view_grain_holds(warehouse):
    from tests.warehouse.test_views import grain_violations
    from codesets.core import sqlfiles

    load_fixture(warehouse, "good_practitioner.csv", "quirks_outpatient_hospital.csv", release_id="2026-07-01")
    load(warehouse, "ncci_mue", [MUE_FIXTURES / "good_practitioner.csv"], release_id="copy",
         effective_from=date(2026, 10, 1))  # the same bytes: a no-op, not a second copy of the rows
    view = next(v for v in sqlfiles.views() if v.name == "mue_limits")
    with warehouse.connect() as con:
        assert grain_violations(con, view) == []
        assert con.execute("SELECT COUNT(*) FROM mue_limits").fetchone()[0] == 12


# --- the parser against Python's csv module --------------------------------------------------

FIELD_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=30)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 999), st.sampled_from([1, 2, 3]), FIELD_TEXT, FIELD_TEXT),
                     min_size=1, max_size=12))
def test_fields_match_pythons_csv_reader(tmp_path, rows):
    """The twin: Python's csv module writes the records (quoting what needs it) and reads them back;
    the staged fields must be the same, on the same physical lines."""
    rows = [(v, m, t, r) for v, m, t, r in rows if not any(0x80 <= ord(c) <= 0x9F for c in t + r)] or [(1, 1, "", "x")]
    path = tmp_path / "twin.csv"
    with open(path, "w", newline="", encoding="latin-1") as handle:
        handle.write('"A notice\n\nin three lines",,,\r\n"HCPCS/\nCPT Code",Practitioner Services MUE Values,'
                     "MUE Adjudication Indicator,MUE Rationale\r\n")
        writer = csv.writer(handle, lineterminator="\r\n")
        for number, (value, mai, text, rationale) in enumerate(rows):
            writer.writerow([f"A{number:04d}", value, f"{mai} {text}".rstrip() if text.strip() else str(mai), rationale])
    with open(path, newline="", encoding="latin-1") as handle:
        reader = csv.reader(handle)
        expected = []
        for record in reader:
            if reader.line_num > 5:
                expected.append((reader.line_num, *record))
    con = duckdb.connect()
    ncci_mue.LOADER.stage(con, {"practitioner": [path]})
    assert checks.run(con, "staged", ncci_mue.model()).failures == 0
    got = con.execute(
        "SELECT line_no, code_field, mue_field, mai_text, coalesce(rationale, '') FROM mue_rows "
        "WHERE kind = 'data' ORDER BY line_no"
    ).fetchall()
    assert got == expected


# --- the real CMS excerpt ------------------------------------------------------------------


def independent_rows(path: Path) -> list[tuple]:
    """The excerpt's data records read by Python's csv module: (line, code, value, mai text, rationale)."""
    with open(path, newline="", encoding="latin-1") as handle:
        reader = csv.reader(handle)
        found = []
        for record in reader:
            if reader.line_num > 9:  # every data record is one line
                found.append((reader.line_num, *record))
    return found


@pytest.fixture(scope="module")
def real_mue(tmp_path_factory):
    from codesets.warehouse.storage import Warehouse

    need_shared(REAL)
    wh = Warehouse(tmp_path_factory.mktemp("real_mue") / "wh")
    return wh, load(wh, "ncci_mue", [REAL])


def test_real_excerpt_loads_whole(real_mue):
    wh, result = real_mue
    assert (result.release_id, result.effective_from) == ("2026-07-01", date(2026, 7, 1))
    assert [(p.part, p.rows) for p in result.parts] == [("practitioner", 44)]
    assert catalog_files(wh, "2026-07-01")[REAL.name]["rows"] == 44
    assert f"{REAL.name}: lines 1-9 are the notice record (lines 1-7) and the header (lines 8-9, wrapped " \
           "over 2 lines): not data, not loaded" in result.notes


def test_real_excerpt_values_match_an_independent_read(real_mue):
    wh, _ = real_mue
    expected = independent_rows(REAL)
    assert len(expected) == 44
    rows = limits(wh, "service_type = 'practitioner'")
    assert [(line, code, str(value), text, rationale) for code, value, _mai, text, rationale, line in rows] == expected
    assert {(mai, text) for _c, _v, mai, text, _r, _l in rows} == {(2, POLICY), (3, CLINICAL)}


def test_real_excerpt_pinned_rows(real_mue):
    wh, _ = real_mue
    with wh.connect() as con:
        def row(code):
            return con.execute(
                "SELECT line_no, mue_value, mai, rationale, source_file FROM mue_limits WHERE code = ?", [code]
            ).fetchone()

        # the first data record sits on physical line 10: lines 1-7 are the notice, 8-9 the header
        assert row("0001U") == (10, 1, 2, "Code Descriptor / CPT Instruction", REAL.name)
        assert row("0009U") == (21, 2, 3, "Nature of Analyte", REAL.name)
        assert row("0022U") == (38, 2, 3, "Clinical: CMS Workgroup", REAL.name)
        assert row("0041U") == (53, 1, 2, "Code Descriptor / CPT Instruction", REAL.name)
    raw = REAL.read_bytes().split(b"\n")
    assert raw[9].startswith(b"0001U,1,2 ") and raw[52].startswith(b"0041U,1,2 ")  # lines 10 and 53, independently


def test_real_excerpt_reload_is_a_no_op(real_mue):
    wh, _ = real_mue
    before = wh.current()
    again = load(wh, "ncci_mue", [REAL])
    assert again.status == "unchanged" and wh.current() == before


# --- generated tables in the full CMS format -----------------------------------------------


def _generator():
    return benchmark_module("gen_ncci")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "v322r0"
    _generator().generate(out, "v322r0", seed=5, ptp_rows=0, mue_rows=600)
    mue = out.parent / "mue"
    mue.mkdir()
    for path in out.glob("MCR_MUE_*.csv"):
        shutil.move(path, mue / path.name)
    return mue


def data_records(path: Path) -> int:
    """Records after the notice and the header: CRLF ends every record, and only records."""
    return path.read_bytes().count(b"\r\n") - 2


def test_generated_tables_load_all_three_parts(generated, warehouse):
    from codesets.warehouse.refresh import refresh

    report = refresh(warehouse, generated)
    assert report.ok and not report.skipped, (report.failures, report.skipped)
    (result,) = report.results
    assert result.release_id == "2026-07-01"
    expected = {
        "practitioner": data_records(generated / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"),
        "outpatient_hospital": data_records(generated / "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv"),
        "dme": data_records(generated / "MCR_MUE_DMESupplierServices_Eff_07-01-2026.csv"),
    }
    assert {p.part: p.rows for p in result.parts} == expected
    assert sum(expected.values()) == 600
    with warehouse.connect() as con:
        per_type = dict(con.execute("SELECT service_type, COUNT(*) FROM mue_limits GROUP BY 1").fetchall())
        lines = con.execute("SELECT MIN(line_no), MAX(line_no) FROM mue_limits WHERE service_type = 'dme'").fetchone()
        mai = dict(con.execute("SELECT mai, MIN(mai_text) FROM mue_limits GROUP BY 1").fetchall())
    assert per_type == expected
    assert lines == (10, 9 + expected["dme"])
    assert mai == {1: LINE, 2: POLICY, 3: CLINICAL}
    again = refresh(warehouse, generated)
    assert [r.status for r in again.results] == ["unchanged"]


# --- the bundled sample ----------------------------------------------------------------------


def test_sample_serves_until_a_real_release_arrives(sample_warehouse):
    with sample_warehouse.connect() as con:
        rows = con.execute(
            "SELECT service_type, COUNT(*), MIN(effective_from), bool_and(serves), bool_and(is_sample) "
            "FROM mue_limits WHERE release_id = 'sample' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        text = con.execute("SELECT mai_text, rationale FROM mue_limits WHERE code = 'L3908'").fetchone()
    assert [r[0] for r in rows] == ["dme", "outpatient_hospital", "practitioner"]
    assert all(count > 5 and start == START and serves and sample for _t, count, start, serves, sample in rows)
    assert text == (LINE, "Anatomic Consideration")


def test_sample_files_are_our_own(tmp_path):
    sample = ncci_mue.LOADER.sample()
    assert sample.effective_from == START and sample.release_id == "sample"
    assert sorted(ncci_mue.LOADER.claim(p).part for p in sample.files) == ["dme", "outpatient_hospital", "practitioner"]
    for path in sample.files:
        text = path.read_bytes().decode("latin-1")
        assert "American Medical Association" not in text and "not a CMS table" in text


@pytest.mark.parametrize("name", sorted(BAD_ROWS) + ["good_practitioner.csv", "quirks_outpatient_hospital.csv"])
def test_pushdown_agrees_with_pandera(name):
    """The model declared once: pandera's own pandas validation refuses the same lines as the SQL push-down."""
    import pandera.pandas as pa

    con = duckdb.connect()
    ncci_mue.LOADER.stage(con, {ncci_mue.LOADER.claim(MUE_FIXTURES / name).part: [MUE_FIXTURES / name]})
    model = ncci_mue.model()
    pushed = {line for _file, line, *_rest in checks.failing_rows(con, "staged", model)}
    frame = con.sql("SELECT * FROM staged ORDER BY line_no").df()
    try:
        model.validate(frame, lazy=True)
        validated = set()
    except pa.errors.SchemaErrors as exc:
        validated = set(frame.loc[exc.failure_cases["index"].dropna().astype(int), "line_no"])
    assert pushed == validated == {line for line, _c, _v in BAD_ROWS.get(name, [])}


def test_a_byte_order_mark_is_named(tmp_path):
    from codesets.loaders.ncci_mue import LOADER

    need_shared(REAL_MUE_FOR_BOM)
    path = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
    path.write_bytes(b"\xef\xbb\xbf" + REAL_MUE_FOR_BOM.read_bytes())
    with pytest.raises(SourceError, match="byte order mark"):
        LOADER.claim(path)


REAL_MUE_FOR_BOM = SHARED_DATA / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
