"""Titles on GEM answers once code sets are loaded (code_titles, gem_map, map answers)."""

from __future__ import annotations

import pytest

from tests.conftest import GEMS_2018, SHARED_DATA, need_shared

ICD9 = sorted((SHARED_DATA / "icd9cm" / "v32").glob("CMS32_DESC_*.txt"))


@pytest.fixture(scope="module")
def titled(tmp_path_factory):
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    need_shared(GEMS_2018["2018_I10gem.txt"], *(ICD9 or [SHARED_DATA / "icd9cm" / "v32" / "CMS32_DESC_LONG_DX.txt"]))
    warehouse = Warehouse(tmp_path_factory.mktemp("titled") / "wh")
    load(warehouse, "gems", [GEMS_2018["2018_I10gem.txt"]])
    return warehouse, load, ICD9


def test_map_answers_gain_titles_when_a_code_set_is_loaded(titled):
    from codesets.query.translate import translate

    warehouse, load, icd9 = titled
    with warehouse.connect() as con:
        before = translate(con, ["R65.21"], "icd10cm", "icd9cm").to_pylist()
    assert before[0]["target_titles"] is None and before[0]["source_title"] is None  # no code set loaded
    load(warehouse, "icd9cm", icd9)
    with warehouse.connect() as con:
        after = translate(con, ["R65.21"], "icd10cm", "icd9cm").to_pylist()
        rows = con.execute(
            "SELECT target_code, target_title FROM gem_map WHERE source_code = 'R6521' ORDER BY target_code"
        ).fetchall()
        combination = con.execute(
            "SELECT target_codes, target_titles FROM gem_combinations WHERE source_code = 'R6521'"
        ).fetchall()
    assert after[0]["target_codes"] == ["78552", "99592"]
    assert after[0]["target_titles"] == ["Septic shock", "Severe sepsis"]
    assert rows == [("78552", "Septic shock"), ("99592", "Severe sepsis")]
    assert combination == [(["78552", "99592"], ["Septic shock", "Severe sepsis"])]
