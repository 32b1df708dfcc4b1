"""The ICD-10-PCS loader: what it claims, release ids, the order and code files on hand-made fixtures,
a bad file per PCS-specific failure mode (the layout checks are ICD-10-CM's, tested there), the real
FY2024 code file (counts pinned) and the bundled sample."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from codesets.core.errors import LoadRejected
from codesets.loaders import icd10pcs
from codesets.loaders.contract import Claim
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, SHARED_DATA, catalog_files, need_shared

PCS = FIXTURES / "icd10pcs"
CODES_2024 = SHARED_DATA / "icd10pcs" / "fy2024" / "icd10pcs-codes-2024.txt"
START = date(2023, 10, 1)
LOADER = icd10pcs.LOADER


def load_fixture(warehouse, *names, release_id="t1"):
    return load(warehouse, "icd10pcs", [PCS / n for n in names], release_id=release_id, effective_from=START)


def listed(warehouse, where="TRUE", params=()):
    """(code, billable, description, short_description) from the view codes: columns of the shape only."""
    with warehouse.connect() as con:
        return con.execute(
            "SELECT code, billable, description, short_description FROM codes "
            f"WHERE code_system = 'icd10pcs' AND ({where}) ORDER BY code", list(params)
        ).fetchall()


def test_claim_tells_order_and_code_files_from_content(tmp_path):
    assert LOADER.claim(PCS / "good_order.txt") == Claim("order", None)
    assert LOADER.claim(PCS / "good_codes.txt") == Claim("codes", None)
    assert LOADER.claim(PCS / "bad_code_shape.txt") == Claim("order", None)  # claimed, then refused by line
    named = tmp_path / "icd10pcs_order_2025.txt"
    shutil.copy(PCS / "good_order.txt", named)
    assert LOADER.claim(named) == Claim("order", "2025")
    april = tmp_path / "icd10pcs_codes_April_2025.txt"
    shutil.copy(PCS / "good_codes.txt", april)
    assert LOADER.claim(april) == Claim("codes", "2025-04")


def test_claim_leaves_icd10cm_and_other_files_alone():
    for path in [*(FIXTURES / "icd10cm").iterdir(), *(FIXTURES / "gems").iterdir(), *(FIXTURES / "ncci_mue").iterdir()]:
        assert LOADER.claim(path) is None, path


def test_every_real_file_is_claimed_by_its_loader_alone():
    """Walk ../shared/data: icd10pcs claims exactly the files under icd10pcs/ (the PCS GEMs, whose
    lines start with PCS codes too, are not code files); icd10cm claims none of them."""
    need_shared(CODES_2024)
    from codesets.loaders import icd10cm

    claimed = {}
    for path in sorted(SHARED_DATA.rglob("*")):
        if path.is_file():
            claim = LOADER.claim(path)
            assert (claim is not None) == (path.parent.parent.name == "icd10pcs"), path
            assert claim is None or icd10cm.LOADER.claim(path) is None, path
            if claim is not None:
                claimed[path.name] = (claim.part, claim.release_id)
    assert claimed == {"icd10pcs-codes-2024.txt": ("codes", "2024")}


@pytest.mark.parametrize("release, start", [
    ("2024", date(2023, 10, 1)), ("2025-04", date(2025, 4, 1)), ("sample", None),
])
def test_effective_from(release, start):
    assert LOADER.effective_from(release) == start


def test_order_file_gives_tables_as_headers_and_codes(warehouse):
    result = load_fixture(warehouse, "good_order.txt")
    assert [(p.part, p.rows) for p in result.parts] == [("order", 19)]
    assert result.notes == []
    assert listed(warehouse, "code LIKE '001%'") == [
        ("001", False, "Central Nervous System and Cranial Nerves, Bypass",
         "Central Nervous System and Cranial Nerves, Bypass"),
        ("0016070", True, "Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach",
         "Bypass Cereb Vent to Nasophar w Autol Sub, Open"),
        ("0016071", True, "Bypass Cerebral Ventricle to Mastoid Sinus with Autologous Tissue Substitute, Open Approach",
         "Bypass Cereb Vent to Mastoid Sinus w Autol Sub, Open"),
        ("0016072", True, "Bypass Cerebral Ventricle to Atrium with Autologous Tissue Substitute, Open Approach",
         "Bypass Cereb Vent to Atrium w Autol Sub, Open"),
    ]
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT COUNT(*) FILTER (WHERE billable), COUNT(*) FILTER (WHERE NOT billable) FROM codes "
            "WHERE code_system = 'icd10pcs'"
        ).fetchone() == (12, 7)


def test_rows_carry_part_file_line_and_no_dates_of_their_own():
    con = duckdb.connect()
    LOADER.stage(con, {"order": [PCS / "good_order.txt"]})
    rows = con.execute(
        f"SELECT part, code_system, code, billable, source_file, line_no, effective_from, effective_to "
        f"FROM ({LOADER.fill('code_rows')}) ORDER BY line_no"
    ).fetchall()
    assert rows[0] == ("order", "icd10pcs", "001", False, "good_order.txt", 1, None, None)
    assert rows[-1] == ("order", "icd10pcs", "XW033E5", True, "good_order.txt", 19, None, None)


def test_code_file_gives_codes_and_long_titles(warehouse):
    result = load_fixture(warehouse, "good_codes.txt")
    assert [(p.part, p.rows) for p in result.parts] == [("codes", 8)]
    assert listed(warehouse, "code = 'BW03ZZZ'") == [("BW03ZZZ", True, "Plain Radiography of Chest", None)]
    assert catalog_files(warehouse, "t1")["good_codes.txt"]["line_ending"] == "LF"


def test_codes_not_of_the_pcs_shape_are_refused(warehouse):
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, "bad_code_shape.txt")
    assert warehouse.current() is None, "a refused load must publish nothing"
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in info.value.rejects] == [
        ("bad_code_shape.txt", 3, "code", "0016O71"),  # the letter O is never in a PCS code
        ("bad_code_shape.txt", 5, "code", "02HV"),  # a header is a 3-character table
        ("bad_code_shape.txt", 6, "code", "02HV33"),  # a code has 7 characters
    ]
    assert all("not an ICD-10-PCS code" in r["rule"] for r in info.value.rejects)


@pytest.mark.slow
def test_real_code_file_2024_loads_whole(warehouse):
    need_shared(CODES_2024)
    result = load(warehouse, "icd10pcs", [CODES_2024])
    assert (result.release_id, result.effective_from) == ("2024", date(2023, 10, 1))
    assert [(p.part, p.rows) for p in result.parts] == [("codes", 78_603)]
    assert result.notes == []
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT COUNT(*), bool_and(billable), COUNT(DISTINCT code), COUNT(short_description) FROM codes "
            "WHERE code_system = 'icd10pcs'"
        ).fetchone() == (78_603, True, 78_603, 0)
    assert listed(warehouse, "code = '0DTJ4ZZ'") == [
        ("0DTJ4ZZ", True, "Resection of Appendix, Percutaneous Endoscopic Approach", None)
    ]


def test_sample_loads(warehouse):
    sample = LOADER.sample()
    assert sample.release_id == "sample" and sample.effective_from == date(2023, 10, 1)
    result = load(warehouse, "icd10pcs", list(sample.files), sample.release_id, sample.effective_from, sample=True)
    assert [(p.part, p.rows) for p in result.parts] == [("order", 19)]


def test_sample_codes_are_real_fy2024_codes():
    """The sample's codes and long titles are copied from the FY2024 code file (its headers and short
    titles are hand-made, as its README says)."""
    need_shared(CODES_2024)
    real = dict(line.rstrip("\n").split(" ", 1) for line in open(CODES_2024, encoding="ascii"))
    for line in open(LOADER.sample().files[0], encoding="ascii"):
        code, flag, title = line[6:13].rstrip(), line[14], line[77:].rstrip("\r\n")
        if flag == "1":
            assert real[code] == title, code
