"""Point lookups agree with batch translation, entry for entry."""

from __future__ import annotations

import pytest

from codesets.core.errors import QueryError
from codesets.query.lookup import Answer, GemLookup
from codesets.query.translate import translate


def batch_answers(con, codes, from_system, to_system):
    table = translate(con, codes, from_system, to_system)
    found = {}
    for row in table.to_pylist():
        found.setdefault(row["source_code"], set()).add(
            (row["kind"], tuple(row["target_codes"] or ()), row["scenario"] or 0, row["alternative"])
        )
    return found


@pytest.mark.parametrize("from_system,to_system", [("icd9cm", "icd10cm"), ("icd10cm", "icd9cm"),
                                                    ("icd9pcs", "icd10pcs"), ("icd10pcs", "icd9pcs")])
def test_lookup_agrees_with_translate(real_2018, from_system, to_system):
    wh, _ = real_2018
    with wh.connect() as con:
        codes = [c for (c,) in con.execute(
            "SELECT DISTINCT source_code FROM gem_map WHERE source_system = ? ORDER BY 1", [from_system]
        ).fetchall()]
        sample = codes[::7] + [c for (c,) in con.execute(
            "SELECT DISTINCT source_code FROM gem_combinations WHERE source_system = ?", [from_system]
        ).fetchall()]
        assert_lookup_agrees(con, sample, from_system, to_system)


def assert_lookup_agrees(con, codes, from_system, to_system):
    expected = batch_answers(con, codes, from_system, to_system)
    lookup = GemLookup(con)
    for code in codes:
        got = {(a.kind, a.target_codes, a.scenario, a.alternative) for a in lookup(code, from_system, to_system)}
        assert got == expected[code], code


def test_typed_answers_for_documented_entries(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        lookup = GemLookup(con)
        assert lookup(" r65.21 ", "icd10cm", "icd9cm") == [
            Answer("R6521", "combination", ("78552", "99592"), True, 1, 1, 2, "2018")
        ]
        assert [a.target_codes for a in lookup("599.72", "icd9cm", "icd10cm")] == [("R311",), ("R3121",), ("R3129",)]
        assert lookup("779.6", "icd9cm", "icd10cm")[0].kind == "no map"
        assert lookup("999.99", "icd9cm", "icd10cm")[0].kind == "not in GEM"
        assert len([a for a in lookup("806.4", "icd9cm", "icd10cm") if a.scenario == 2]) == 3


def test_release_selection_and_errors(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        lookup = GemLookup(con)
        assert lookup("00321", "icd9cm", "icd10cm", release="2018")[0].release_id == "2018"
        from datetime import date

        assert lookup("00321", "icd9cm", "icd10cm", as_of=date(2018, 1, 1))[0].target_codes == ("A0221",)
        with pytest.raises(QueryError, match="covering"):
            lookup("00321", "icd9cm", "icd10cm", as_of=date(2010, 1, 1))
        with pytest.raises(QueryError, match="1999"):
            lookup("00321", "icd9cm", "icd10cm", release="1999")
        with pytest.raises(QueryError, match="no icd9cm>icd10pcs GEM"):
            lookup("00321", "icd9cm", "icd10pcs")


# --- the same on the bundled sample, so these run without ../shared ---------------------------


@pytest.mark.parametrize("from_system,to_system", [("icd9cm", "icd10cm"), ("icd10cm", "icd9cm"),
                                                    ("icd9pcs", "icd10pcs"), ("icd10pcs", "icd9pcs")])
def test_lookup_agrees_with_translate_on_the_sample(sample_warehouse, from_system, to_system):
    with sample_warehouse.connect() as con:
        codes = [c for (c,) in con.execute(
            "SELECT DISTINCT source_code FROM gem_map WHERE source_system = ? ORDER BY 1", [from_system]
        ).fetchall()]
        assert codes, "the sample holds every direction"
        assert_lookup_agrees(con, codes, from_system, to_system)


def test_typed_answers_on_the_sample(sample_warehouse):
    with sample_warehouse.connect() as con:
        lookup = GemLookup(con)
        assert lookup("R65.21", "icd10cm", "icd9cm") == [
            Answer("R6521", "combination", ("78552", "99592"), True, 1, 1, 2, "sample")
        ]
        assert lookup("999.99", "icd9cm", "icd10cm")[0].kind == "not in GEM"
        with pytest.raises(QueryError, match="covering 2010-01-01"):
            lookup("00321", "icd9cm", "icd10cm", as_of=__import__("datetime").date(2010, 1, 1))
