"""The ICD-10-CM loader: what it claims, release ids, the order, code and tabular files on hand-made
fixtures (one bad file per failure mode), the real CDC files (counts pinned; the 7th-character
derivation of the tabular XML proved against the order file of the same year) and a property test
of that derivation against a Python twin."""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import LoadRejected, SourceError
from codesets.loaders import icd10cm
from codesets.loaders.contract import Claim
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, SHARED_DATA, catalog_files, need_shared

CM = FIXTURES / "icd10cm"
REAL = SHARED_DATA / "icd10cm"
ORDER_2021 = REAL / "fy2021_jan" / "icd10cm-order-Jan-2021.txt"
TABULAR_2021 = REAL / "fy2021_jan" / "icd10cm_tabular_2021.xml"
CODES_2024 = REAL / "fy2024" / "icd10cm-codes-2024.txt"
TABULAR_2025_04 = REAL / "fy2025_apr" / "icd10cm-tabular-April-2025.xml"
TABULAR_2026_04 = REAL / "fy2026_apr" / "icd10c-tabular-April-1-2026.xml"
EXCERPT_2026 = REAL / "fy2026_excerpt" / "icd10cm_order_2026.excerpt.txt"
START = date(2020, 10, 1)
LOADER = icd10cm.LOADER


def load_fixture(warehouse, *names, release_id="t1"):
    return load(warehouse, "icd10cm", [CM / n for n in names], release_id=release_id, effective_from=START)


def listed(warehouse, where="TRUE", params=()):
    """(code, billable, description, short_description) from the view codes: columns of the shape only."""
    with warehouse.connect() as con:
        return con.execute(
            "SELECT code, billable, description, short_description FROM codes "
            f"WHERE code_system = 'icd10cm' AND ({where}) ORDER BY code", list(params)
        ).fetchall()


def staged(parts: dict[str, list[Path]]) -> list[tuple]:
    """(part, code, billable, description, short_description, line_no) as the publish would write them."""
    con = duckdb.connect()
    try:
        LOADER.stage(con, parts)
        return con.execute(
            f"SELECT part, code, billable, description, short_description, line_no, effective_from, effective_to "
            f"FROM ({LOADER.fill('code_rows')}) ORDER BY part, line_no, code"
        ).fetchall()
    finally:
        con.close()


# --- recognising the files --------------------------------------------------------------------


def test_claim_tells_the_three_kinds_from_content(tmp_path):
    assert LOADER.claim(CM / "good_order.txt") == Claim("order", None)
    assert LOADER.claim(CM / "quirks_order.txt") == Claim("order", None)  # LF, a blank line
    assert LOADER.claim(CM / "good_codes.txt") == Claim("codes", None)
    assert LOADER.claim(CM / "good_tabular.xml") == Claim("tabular", "2021")  # its <version>
    # the content decides the kind; the name only the release
    misnamed = tmp_path / "icd10cm-order-2025.txt"
    shutil.copy(CM / "good_codes.txt", misnamed)
    assert LOADER.claim(misnamed) == Claim("codes", "2025")


def test_claim_leaves_other_files_alone(tmp_path):
    others = [
        FIXTURES / "icd10pcs" / "good_order.txt",
        FIXTURES / "icd10pcs" / "good_codes.txt",
        *(FIXTURES / "gems").iterdir(),
        *(FIXTURES / "ncci_mue").iterdir(),
    ]
    for path in others:
        assert LOADER.claim(path) is None, path
    cases = {
        "empty.txt": b"",
        "blob.bin": bytes(range(256)) * 64,
        "words.txt": b"GENERAL EQUIVALENCE MAPPINGS\nDocumentation for Technical Users\n",
        "pcs_tables.xml": b'<?xml version="1.0"?>\n<ICD10PCS.tabular>\n</ICD10PCS.tabular>\n',
        "gem.txt": b"A000    0010    00000\nA001    0010    00000\nA009    0019    00000\n",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert LOADER.claim(tmp_path / name) is None, name


def test_claim_names_a_pcs_excerpt_by_its_name_when_codes_fit_both(tmp_path):
    # 7-character codes of PCS section B fit ICD-10-CM's shape too: only the name can tell
    lines = b"BW00ZZZ Plain Radiography of Abdomen\nBW03ZZZ Plain Radiography of Chest\n"
    for name, expected in (("imaging_cm.txt", Claim("codes", None)), ("imaging_pcs.txt", None), ("imaging.txt", None)):
        (tmp_path / name).write_bytes(lines)
        assert LOADER.claim(tmp_path / name) == expected, name


def test_every_real_file_is_claimed_by_its_loader_alone():
    """Walk ../shared/data: icd10cm claims exactly the files under icd10cm/, and no other loader of
    this pair claims them (the ICD-10-PCS test walks the other way)."""
    need_shared(ORDER_2021)
    from codesets.loaders import icd10pcs

    claimed = {}
    for path in sorted(SHARED_DATA.rglob("*")):
        if path.is_file():
            claim = LOADER.claim(path)
            assert (claim is not None) == (path.parent.parent.name == "icd10cm"), path
            assert icd10pcs.LOADER.claim(path) is None or claim is None, path
            if claim is not None:
                claimed[path.name] = (claim.part, claim.release_id)
    assert claimed == {
        "icd10cm-order-Jan-2021.txt": ("order", "2021"),
        "icd10cm_tabular_2021.xml": ("tabular", "2021"),
        "icd10cm-codes-2024.txt": ("codes", "2024"),
        "icd10cm-tabular-April-2025.xml": ("tabular", "2025-04"),
        "icd10c-tabular-April-1-2026.xml": ("tabular", "2026-04"),
        "icd10cm_order_2026.excerpt.txt": ("order", "2026"),
    }


# --- releases ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, release", [
    ("icd10cm-order-Jan-2021.txt", "2021"),
    ("icd10cm-codes-2024.txt", "2024"),
    ("icd10cm_order_2026.excerpt.txt", "2026"),
    ("icd10cm-tabular-April-2025.xml", "2025-04"),
    ("icd10c-tabular-April-1-2026.xml", "2026-04"),
    ("icd10cm_tabular_2021.xml", "2021"),
    ("icd10cm-order-2024-to-2025.txt", None),  # two years: cannot tell
    ("order.txt", None),
])
def test_release_id_from_the_name(tmp_path, name, release):
    path = tmp_path / name
    if name.endswith(".xml"):  # its <version> says the same year
        path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<ICD10CM.tabular>\n  <version>{release[:4]}</version>\n'
                        "</ICD10CM.tabular>\n", encoding="utf-8")
    else:
        shutil.copy(CM / "good_order.txt", path)
    assert LOADER.claim(path).release_id == release


def test_tabular_release_from_version_and_name(tmp_path):
    for name, release in (("tabular.xml", "2021"), ("tabular-April.xml", "2021-04"),
                          ("icd10cm_tabular_2021.xml", "2021"), ("icd10cm_tabular_2022.xml", None)):
        shutil.copy(CM / "good_tabular.xml", tmp_path / name)
        assert LOADER.claim(tmp_path / name).release_id == release, name


@pytest.mark.parametrize("release, start", [
    ("2021", date(2020, 10, 1)), ("FY2026", date(2025, 10, 1)), ("2025-04", date(2025, 4, 1)),
    ("2026-04", date(2026, 4, 1)), ("2025-05", None), ("sample", None), ("v322r0", None),
])
def test_effective_from(release, start):
    assert LOADER.effective_from(release) == start


# --- good files ----------------------------------------------------------------------------------


def test_order_file_gives_headers_billable_codes_and_both_titles(warehouse):
    result = load_fixture(warehouse, "good_order.txt")
    assert [(p.part, p.rows) for p in result.parts] == [("order", 12)]
    assert listed(warehouse, "code LIKE 'A00%' OR code LIKE 'T36%'") == [
        ("A00", False, "Cholera", "Cholera"),
        ("A000", True, "Cholera due to Vibrio cholerae 01, biovar cholerae",
         "Cholera due to Vibrio cholerae 01, biovar cholerae"),
        ("A001", True, "Cholera due to Vibrio cholerae 01, biovar eltor", "Cholera due to Vibrio cholerae 01, biovar eltor"),
        ("A009", True, "Cholera, unspecified", "Cholera, unspecified"),
        ("T360X1", False, "Poisoning by penicillins, accidental (unintentional)",
         "Poisoning by penicillins, accidental (unintentional)"),
        ("T360X1A", True, "Poisoning by penicillins, accidental (unintentional), initial encounter",
         "Poisoning by penicillins, accidental (unintentional), init"),
        ("T360X1D", True, "Poisoning by penicillins, accidental (unintentional), subsequent encounter",
         "Poisoning by penicillins, accidental (unintentional), subs"),
        ("T360X1S", True, "Poisoning by penicillins, accidental (unintentional), sequela",
         "Poisoning by penicillins, accidental, sequela"),
    ]
    assert catalog_files(warehouse, "t1")["good_order.txt"]["line_ending"] == "CRLF"


def test_rows_carry_part_file_line_and_no_dates_of_their_own():
    rows = staged({"order": [CM / "good_order.txt"]})
    assert rows[0] == ("order", "A00", False, "Cholera", "Cholera", 1, None, None)
    assert rows[-1][:2] == ("order", "T360X1S") and rows[-1][5] == 12


def test_quirks_are_loaded_and_noted(warehouse):
    result = load_fixture(warehouse, "quirks_order.txt")
    assert [(p.part, p.rows) for p in result.parts] == [("order", 6)]
    assert listed(warehouse, "code = 'A001'") == [
        ("A001", True, "Cholera due to Vibrio cholerae 01, biovar eltor", "Cholera due to Vibrio cholerae 01, biovar eltor")
    ]
    notes = "\n".join(result.notes)
    assert "quirks_order.txt: 1 row(s) with a title with trailing blanks (stored without them), first at line 3" in notes
    assert "quirks_order.txt: 1 row(s) with a blank line (skipped: it holds no record), first at line 5" in notes
    assert [r[5] for r in staged({"order": [CM / "quirks_order.txt"]})] == [1, 2, 3, 4, 6, 7]
    assert catalog_files(warehouse, "t1")["quirks_order.txt"]["line_ending"] == "LF"


def test_code_file_gives_billable_codes_and_long_titles(warehouse):
    result = load_fixture(warehouse, "good_codes.txt")
    assert [(p.part, p.rows) for p in result.parts] == [("codes", 6)]
    assert listed(warehouse, "code IN ('E0837X1', 'M5450')") == [
        ("E0837X1", True, "Diabetes mellitus due to underlying condition with diabetic macular edema, "
                          "resolved following treatment, right eye", None),
        ("M5450", True, "Low back pain, unspecified", None),
    ]


# what good_tabular.xml gives: the rule, worked by hand
S72_TEXTS = {
    "A": "initial encounter for closed fracture",
    "B": "initial encounter for open fracture type I or II",
    "C": "initial encounter for open fracture type IIIA, IIIB, or IIIC",
    "D": "subsequent encounter for closed fracture with routine healing",
    "E": "subsequent encounter for open fracture type I or II with routine healing",
    "F": "subsequent encounter for open fracture type IIIA, IIIB, or IIIC with routine healing",
    "G": "subsequent encounter for closed fracture with delayed healing",
    "H": "subsequent encounter for open fracture type I or II with delayed healing",
    "J": "subsequent encounter for open fracture type IIIA, IIIB, or IIIC with delayed healing",
    "K": "subsequent encounter for closed fracture with nonunion",
    "M": "subsequent encounter for open fracture type I or II with nonunion",
    "N": "subsequent encounter for open fracture type IIIA, IIIB, or IIIC with nonunion",
    "P": "subsequent encounter for closed fracture with malunion",
    "Q": "subsequent encounter for open fracture type I or II with malunion",
    "R": "subsequent encounter for open fracture type IIIA, IIIB, or IIIC with malunion",
    "S": "sequela",
}
S7247_TEXTS = {
    "A": "initial encounter for closed fracture", "D": "subsequent encounter for fracture with routine healing",
    "G": "subsequent encounter for fracture with delayed healing", "K": "subsequent encounter for fracture with nonunion",
    "P": "subsequent encounter for fracture with malunion", "S": "sequela",
}
ENCOUNTER = {"A": "initial encounter", "D": "subsequent encounter", "S": "sequela"}


def expected_tabular() -> set[tuple[str, bool, str]]:
    femur = "Fracture of unspecified part of neck of right femur"
    torus = "Torus fracture of lower end of right femur"
    pelvis = "Maternal care for disproportion due to outlet contraction of pelvis"
    edema7 = ("Traumatic cerebral edema with loss of consciousness of any duration with death due to brain "
              "injury prior to regaining consciousness")
    edema9 = "Traumatic cerebral edema with loss of consciousness of unspecified duration"
    penicillins = "Poisoning by penicillins, accidental (unintentional)"
    rows = {
        ("A00", False, "Cholera"), ("A000", True, "Cholera due to Vibrio cholerae 01, biovar cholerae"),
        ("A001", True, "Cholera due to Vibrio cholerae 01, biovar eltor"), ("A009", True, "Cholera, unspecified"),
        ("H81", False, "Disorders of vestibular function"), ("H810", False, "Ménière's disease"),
        ("H8101", True, "Ménière's disease, right ear"), ("H8109", True, "Ménière's disease, unspecified ear"),
        ("O33", False, "Maternal care for disproportion"), ("O333", False, pelvis),
        ("O333XX0", True, f"{pelvis}, not applicable or unspecified"), ("O333XX1", True, f"{pelvis}, fetus 1"),
        ("O333XX9", True, f"{pelvis}, other fetus"),
        ("S06", False, "Intracranial injury"), ("S061", False, "Traumatic cerebral edema"),
        ("S061X", False, "Traumatic cerebral edema"), ("S061X7", False, edema7),
        ("S061X7A", True, f"{edema7}, initial encounter"),  # D and S withheld by the S06 note
        ("S061X9", False, edema9), *((f"S061X9{c}", True, f"{edema9}, {t}") for c, t in ENCOUNTER.items()),
        ("S72", False, "Fracture of femur"), ("S720", False, "Fracture of head and neck of femur"),
        ("S7200", False, "Fracture of unspecified part of neck of femur"), ("S72001", False, femur),
        *((f"S72001{c}", True, f"{femur}, {t}") for c, t in S72_TEXTS.items()),
        ("S724", False, "Fracture of lower end of femur"), ("S7247", False, "Torus fracture of lower end of femur"),
        ("S72471", False, torus), *((f"S72471{c}", True, f"{torus}, {t}") for c, t in S7247_TEXTS.items()),
        ("T36", False, "Poisoning by, adverse effect of and underdosing of systemic antibiotics"),
        ("T360", False, "Poisoning by, adverse effect of and underdosing of penicillins"),
        ("T360X", False, "Poisoning by, adverse effect of and underdosing of penicillins"),
        ("T360X1", False, penicillins), *((f"T360X1{c}", True, f"{penicillins}, {t}") for c, t in ENCOUNTER.items()),
    }
    return rows


def test_tabular_xml_derives_headers_and_7th_character_codes(warehouse):
    result = load_fixture(warehouse, "good_tabular.xml")
    expected = expected_tabular()
    assert [(p.part, p.rows) for p in result.parts] == [("tabular", len(expected))]
    assert {(code, billable, title) for code, billable, title, _short in listed(warehouse)} == expected
    notes = "\n".join(result.notes)
    assert "good_tabular.xml: 2 row(s) with a 7th character withheld by its category's note" in notes
    assert "good_tabular.xml: 3 row(s) with a title with accented letters" in notes  # UTF-8 kept: Ménière
    assert catalog_files(warehouse, "t1")["good_tabular.xml"]["line_ending"] == "CRLF"


def test_tabular_rows_point_at_the_line_of_their_leafs_name():
    rows = {code: line for _part, code, _b, _d, _s, line, _f, _t in staged({"tabular": [CM / "good_tabular.xml"]})}
    lines = (CM / "good_tabular.xml").read_text(encoding="utf-8").splitlines()
    assert lines[rows["S72001"] - 1].strip() == "<name>S72.001</name>"
    assert rows["S72001A"] == rows["S72001S"] == rows["S72001"]
    assert lines[rows["A00"] - 1].strip() == "<name>A00</name>"


def test_tabular_fixture_matches_the_real_order_file():
    """Every code good_tabular.xml gives is in the FY2021 order file with the same flag and long
    title (the order file spells accents in ASCII); S061X7D and S061X7S are in neither."""
    need_shared(ORDER_2021)
    order = {}
    with open(ORDER_2021, encoding="ascii") as handle:
        for line in handle:
            order[line[6:13].rstrip()] = (line[14] == "1", line[77:].rstrip("\r\n"))
    for code, billable, title in expected_tabular():
        assert order[code] == (billable, _ascii(title)), code
    assert "S061X7D" not in order and "S061X7S" not in order


# --- refusals: each names file, line, column and value ------------------------------------------


BAD_ROWS = {
    "bad_flag_column.txt": [(3, "flag", " 1"), (3, "long_title", " Cholera due to Vibrio cholerae 01, biovar eltor"),
                            (3, "short_title", " Cholera due to Vibrio cholerae 01, biovar eltor" + " " * 13)],
    "bad_flag_value.txt": [(3, "flag", "2 ")],
    "bad_code_field.txt": [(3, "code_field", "A0 01   ")],
    "bad_code_shape.txt": [(3, "code", "1001")],
    "bad_truncated.txt": [(3, "raw", "00003 A001    1 Cholera due to Vibrio cholerae 01,")],
    "bad_duplicate.txt": [(3, "code_repeated", "A001, also on line 4"), (4, "code_repeated", "A001, also on line 3")],
    "bad_byte.txt": [(3, "bad_byte", "byte 0xE9 at column 91")],
    "bad_order_sequence.txt": [(4, "order_sequence", "00002 after 00003")],
    "bad_order_number.txt": [(3, "order_number", "0O003 ")],
    "bad_short_title.txt": [(3, "short_title", " Cholera due to Vibrio cholerae 01, biovar eltor" + " " * 13)],
    "bad_codes_layout.txt": [
        (2, "code_field", "A001   C"),
        (3, "long_title", " Diabetes mellitus due to underlying condition with diabetic macular edema, "
                          "resolved following treatment, right eye"),
    ],
    "bad_tabular_name.xml": [(32, "name", "T36.0X 3")],
    "bad_tabular_name_missing.xml": [(31, "name", None)],
    "bad_tabular_desc.xml": [(32, "description", "")],
    "bad_tabular_duplicate.xml": [
        (line, "code_repeated", f"{code}, given 2 times (lines 28, 32)")
        for line in (28, 32) for code in ("T360X2", "T360X2A", "T360X2D", "T360X2S")
    ],
    "bad_tabular_seventh_length.xml": [(32, "name", "T36.0X3A")],
    "bad_tabular_extension_char.xml": [(14, "char", "AB"), (15, "char", None)],
    "bad_tabular_extension_repeated.xml": [
        (13, "char_repeated", "A, also on line 14"), (14, "char_repeated", "A, also on line 13"),
        (25, "code_repeated", "T360X1A, given 2 times (lines 25, 25)"),
        (25, "code_repeated", "T360X1A, given 2 times (lines 25, 25)"),
        (29, "code_repeated", "T360X2A, given 2 times (lines 29, 29)"),
        (29, "code_repeated", "T360X2A, given 2 times (lines 29, 29)"),
    ],
    "bad_tabular_def_outside.xml": [(9, "def", "(outside any diag)")],
    "bad_tabular_def_empty.xml": [(34, "def", "T36.0X3")],
    "bad_tabular_note.xml": [(18, "note", "7th character S does not apply to codes in category T36 for underdosing.")],
}


@pytest.mark.parametrize("name", sorted(BAD_ROWS))
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, name):
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, name)
    assert warehouse.current() is None, "a refused load must publish nothing"
    found = sorted((r["line"], r["column"], r["value"]) for r in info.value.rejects)
    assert found == sorted(BAD_ROWS[name], key=lambda r: (r[0], r[1], r[2] or ""))
    assert all(r["file"] == name and r["rule"] for r in info.value.rejects)
    assert name in str(info.value) and "nothing was loaded" in str(info.value)


@pytest.mark.parametrize("name, where", [
    ("bad_tabular_malformed.xml", "line 33, column 56: not well-formed XML (mismatched tag)"),
    ("bad_tabular_encoding.xml", "line 33, column 57: not well-formed XML (not well-formed (invalid token))"),
])
def test_malformed_xml_is_refused_where_expat_stops(warehouse, name, where):
    with pytest.raises(SourceError, match=r"line \d+, column \d+") as info:
        load_fixture(warehouse, name)
    assert not isinstance(info.value, LoadRejected)
    assert name in str(info.value) and where in str(info.value)
    assert warehouse.current() is None


def test_two_files_of_one_kind_are_refused(warehouse, tmp_path):
    copy = tmp_path / "other_order.txt"
    shutil.copy(CM / "good_order.txt", copy)
    with pytest.raises(SourceError, match="a release has one file of each kind"):
        load(warehouse, "icd10cm", [CM / "good_order.txt", copy], release_id="t1", effective_from=START)
    assert warehouse.current() is None


def test_one_release_holds_order_codes_and_tabular_parts(warehouse):
    result = load_fixture(warehouse, "good_order.txt", "good_codes.txt", "good_tabular.xml")
    assert sorted(p.part for p in result.parts) == ["codes", "order", "tabular"]
    # the views answer from the order file where a release has one
    assert listed(warehouse, "code = 'T360X1A'") == [
        ("T360X1A", True, "Poisoning by penicillins, accidental (unintentional), initial encounter",
         "Poisoning by penicillins, accidental (unintentional), init")
    ]


# --- the real CDC files -------------------------------------------------------------------------


@pytest.mark.slow
def test_real_order_file_2021_loads_whole(warehouse):
    need_shared(ORDER_2021)
    result = load(warehouse, "icd10cm", [ORDER_2021])
    assert (result.release_id, result.effective_from) == ("2021", date(2020, 10, 1))
    assert [(p.part, p.rows) for p in result.parts] == [("order", 95_358)]
    assert result.notes == []
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE billable), COUNT(*) FILTER (WHERE NOT billable) "
            "FROM codes WHERE code_system = 'icd10cm'"
        ).fetchone() == (95_358, 72_621, 22_737)
    assert listed(warehouse, "code IN ('M545', 'S72001', 'S72001E')") == [
        ("M545", True, "Low back pain", "Low back pain"),
        ("S72001", False, "Fracture of unspecified part of neck of right femur",
         "Fracture of unspecified part of neck of right femur"),
        ("S72001E", True, "Fracture of unspecified part of neck of right femur, subsequent encounter for open "
                          "fracture type I or II with routine healing", "Fx unsp prt of nk of r femr, 7thE"),
    ]


@pytest.mark.slow
def test_real_code_file_2024_loads_whole(warehouse):
    need_shared(CODES_2024)
    result = load(warehouse, "icd10cm", [CODES_2024])
    assert (result.release_id, result.effective_from) == ("2024", date(2023, 10, 1))
    assert [(p.part, p.rows) for p in result.parts] == [("codes", 74_044)]
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT COUNT(*), bool_and(billable), COUNT(short_description) FROM codes WHERE code_system = 'icd10cm'"
        ).fetchone() == (74_044, True, 0)
    assert catalog_files(warehouse, "2024")["icd10cm-codes-2024.txt"]["line_ending"] == "LF"


@pytest.mark.slow
def test_real_order_excerpt_2026_is_refused_as_part_of_a_release(warehouse):
    """Lines 00001-00060 and 20055-20094 of the FY2026 order file: a whole release or nothing."""
    need_shared(EXCERPT_2026)
    with pytest.raises(LoadRejected) as refused:
        load(warehouse, "icd10cm", [EXCERPT_2026])
    assert refused.value.rejects[0]["line"] == 61
    assert refused.value.rejects[0]["column"] == "order_gap"
    assert refused.value.rejects[0]["value"] == "20055 after 00060"
    assert "lines are missing (an excerpt?)" in refused.value.rejects[0]["rule"]
    assert warehouse.current() is None


@pytest.mark.slow
@pytest.mark.parametrize("path, release, start, rows, billable, withheld, accented", [
    (TABULAR_2021, "2021", date(2020, 10, 1), 95_358, 72_621, 72, 134),
    (TABULAR_2025_04, "2025-04", date(2025, 4, 1), 97_584, 74_260, 76, 151),
    (TABULAR_2026_04, "2026-04", date(2026, 4, 1), 98_186, 74_719, 76, 151),
])
def test_real_tabular_xml_loads_whole(warehouse, path, release, start, rows, billable, withheld, accented):
    need_shared(path)
    result = load(warehouse, "icd10cm", [path])
    assert (result.release_id, result.effective_from) == (release, start)
    assert [(p.part, p.rows) for p in result.parts] == [("tabular", rows)]
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE billable) FROM codes WHERE code_system = 'icd10cm'"
        ).fetchone() == (rows, billable)
    assert (f"{path.name}: {withheld} row(s) with a 7th character withheld by its category's note (not a code; "
            "the order file does not list it either), first at line") in "\n".join(result.notes)
    assert f"{path.name}: {accented} row(s) with a title with accented letters" in "\n".join(result.notes)
    assert listed(warehouse, "code IN ('C8410', 'S061X7A', 'S061X7D')") == [
        ("C8410", True, "Sézary disease, unspecified site", None),  # UTF-8 round-trips
        ("S061X7A", True, "Traumatic cerebral edema with loss of consciousness of any duration with death due to "
                          "brain injury prior to regaining consciousness, initial encounter", None),
    ]


@pytest.mark.slow
def test_fy2026_tabular_has_the_new_chapter_qa0(warehouse):
    need_shared(TABULAR_2026_04)
    load(warehouse, "icd10cm", [TABULAR_2026_04])
    # QA0 is the first ICD-10-CM category with a letter second: the code shape allows it
    assert listed(warehouse, "code LIKE 'QA0%'")[:4] == [
        ("QA0", False, "Neurodevelopmental disorders related to specific genetic pathogenic variants", None),
        ("QA00", False, "Neurodevelopmental disorders related to pathogenic variants in specific genes", None),
        ("QA001", False, "Neurodevelopmental disorders related to pathogenic variants in certain specific genes", None),
        ("QA0010", False, "Neurodevelopmental disorders, related to pathogenic variants in ion channel genes", None),
    ]


@pytest.mark.slow
def test_tabular_derivation_reproduces_the_order_file_of_the_same_year():
    """The proof: the FY2021 tabular XML, read by the 7th-character rule, gives exactly the codes of
    the FY2021 order file, with the same header/billable flag, and the same long titles once the
    XML's accents are spelled in ASCII as the order file spells them (134 titles differ so, none
    otherwise). The placeholder intermediates (T360X1, S061X) are headers in both; S06's note
    withholds 72 combinations the order file does not list either."""
    need_shared(ORDER_2021, TABULAR_2021)
    rows = staged({"order": [ORDER_2021], "tabular": [TABULAR_2021]})
    order = {code: (billable, title) for part, code, billable, title, *_ in rows if part == "order"}
    tabular = {code: (billable, title) for part, code, billable, title, *_ in rows if part == "tabular"}
    assert len(order) == len(tabular) == 95_358
    assert {(c, b) for c, (b, _t) in order.items()} == {(c, b) for c, (b, _t) in tabular.items()}
    differ = {c for c in order if order[c][1] != tabular[c][1]}
    assert len(differ) == 134
    assert all(order[c][1] == _ascii(tabular[c][1]) and not tabular[c][1].isascii() for c in differ)
    assert {"T360X1", "S061X", "E0837"} <= {c for c, (b, _t) in tabular.items() if not b}


# --- the 7th-character rule against a Python twin ------------------------------------------------


@st.composite
def trees(draw):
    """A few categories of diags, each node maybe holding a 7th-character definition (before or
    after its children), codes at most 6 characters so that every leaf may take a 7th one; a
    category may carry an S06-style note withholding characters from 6th characters 7 and 8."""
    title = st.text(alphabet="abcé &<>'\"xyz", min_size=1, max_size=12).filter(lambda s: s.strip() == s and s)
    definition = st.one_of(st.none(), st.lists(st.tuples(st.sampled_from("ADS019"), title), min_size=1, max_size=4,
                                               unique_by=lambda e: e[0]))

    def node(code: str, depth: int):
        children = []
        if depth < 3 and len(code.replace(".", "")) < 6 and draw(st.booleans()):
            for char in draw(st.lists(st.sampled_from("0178X"), min_size=1, max_size=3, unique=True)):
                children.append(node(code + ("." if "." not in code else "") + char, depth + 1))
        return {"name": code, "desc": draw(title), "def": draw(definition), "def_first": draw(st.booleans()),
                "children": children}

    letters = draw(st.lists(st.sampled_from("ABSTW"), min_size=1, max_size=3, unique=True))
    categories = [node(f"{letter}{draw(st.integers(10, 99))}", 0) for letter in letters]
    for category in categories:
        category["limit"] = category["def"] is not None and draw(st.booleans())
    return categories


def twin(tree, inherited=None, limit=None) -> set[tuple[str, bool, str]]:
    """The Python twin of icd10cm_tabular_rows.sql, for this test only (the loader never calls it)."""
    definition = tree["def"] if tree["def"] is not None else inherited
    limit = tree["name"] if tree.get("limit") else limit
    code = tree["name"].replace(".", "")
    if tree["children"]:
        rows = {(code, False, tree["desc"])}
        for child in tree["children"]:
            rows |= twin(child, definition, limit)
        return rows
    if definition is None:
        return {(code, True, tree["desc"])}
    padded = code.ljust(6, "X")
    withheld = {"D", "S"} if limit and padded[5] in "78" else set()
    return {(code, False, tree["desc"])} | {
        (padded + char, True, f"{tree['desc']}, {text}") for char, text in definition if char not in withheld
    }


def to_xml(categories) -> str:
    def diag(tree, indent):
        pad = " " * indent
        parts = [f"{pad}<diag>", f"{pad}  <name>{tree['name']}</name>", f"{pad}  <desc>{xml_escape(tree['desc'])}</desc>"]
        if tree.get("limit"):
            parts.append(f"{pad}  <notes><note>7th characters D and S do not apply to codes in category {tree['name']} "
                         "with 6th character 7 - death, or 8 - other death.</note></notes>")
        definition = []
        if tree["def"] is not None:
            definition = [f"{pad}  <sevenChrDef>"] + [
                f'{pad}    <extension char="{c}">{xml_escape(t)}</extension>' for c, t in tree["def"]
            ] + [f"{pad}  </sevenChrDef>"]
        children = [diag(child, indent + 2) for child in tree["children"]]
        body = definition + children if tree["def_first"] else children + definition
        return "\n".join(parts + body + [f"{pad}</diag>"])

    body = "\n".join(diag(c, 6) for c in categories)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<ICD10CM.tabular>\n  <version>2021</version>\n'
            f'  <chapter>\n    <section id="x">\n{body}\n    </section>\n  </chapter>\n</ICD10CM.tabular>\n')


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(categories=trees())
def test_seventh_character_rule_matches_its_python_twin(categories):
    expected = set().union(*(twin(c) for c in categories))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tabular.xml"
        path.write_text(to_xml(categories), encoding="utf-8")
        rows = staged({"tabular": [path]})
    assert {(code, billable, title) for _p, code, billable, title, *_ in rows} == expected
    assert len(rows) == len(expected)


# --- the bundled sample -------------------------------------------------------------------------


def test_sample_loads(warehouse):
    sample = LOADER.sample()
    assert sample.release_id == "sample" and sample.effective_from == date(2025, 10, 1)
    result = load(warehouse, "icd10cm", list(sample.files), sample.release_id, sample.effective_from, sample=True)
    assert [(p.part, p.rows) for p in result.parts] == [("order", 31)]
    assert [(c, b) for c, b, _d, _s in listed(warehouse, "code LIKE 'M545%' OR code LIKE 'T360X1%'")] == [
        ("M545", False), ("M5450", True), ("M5451", True), ("M5459", True),
        ("T360X1", False), ("T360X1A", True), ("T360X1D", True), ("T360X1S", True),
    ]
    assert len(listed(warehouse, "code LIKE 'S72001_'")) == 16


def _ascii(text: str) -> str:
    """Accents dropped, as the order file spells the XML's titles (Ménière -> Meniere)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
