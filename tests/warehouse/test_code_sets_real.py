"""Validity answers on the real code-set files (../shared/data): found from the files, never hard-coded.

One warehouse holds ICD-10-CM FY2021 (order file) and the April 2026 update (tabular XML),
HCPCS 2018 and 2019, ICD-9-CM v32 and the FY2018 ICD-9-CM -> ICD-10-CM GEM.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tests.conftest import GEMS_2018, SHARED_DATA, need_shared

ORDER_2021 = SHARED_DATA / "icd10cm" / "fy2021_jan" / "icd10cm-order-Jan-2021.txt"
TABULAR_2026_04 = SHARED_DATA / "icd10cm" / "fy2026_apr" / "icd10c-tabular-April-1-2026.xml"
HCPCS = {
    "2018": SHARED_DATA / "hcpcs" / "cms_annual_2018" / "HCPC2018_CONTR_ANWEB_disc.txt",
    "2019": SHARED_DATA / "hcpcs" / "cms_annual_2019" / "HCPC2019_CONTR_ANWEB.txt",
}
ICD9 = [SHARED_DATA / "icd9cm" / "v32" / f"CMS32_DESC_{kind}.txt" for kind in ("LONG_DX", "SHORT_DX", "LONG_SG", "SHORT_SG")]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    need_shared(ORDER_2021, TABULAR_2026_04, *HCPCS.values(), *ICD9, GEMS_2018["2018_I9gem.txt"])
    warehouse = Warehouse(tmp_path_factory.mktemp("codes") / "wh")
    load(warehouse, "icd10cm", [ORDER_2021])
    load(warehouse, "icd10cm", [TABULAR_2026_04])
    for release, path in HCPCS.items():
        load(warehouse, "hcpcs", [path])
    load(warehouse, "icd9cm", ICD9)
    load(warehouse, "gems", [GEMS_2018["2018_I9gem.txt"]])
    return warehouse


def ask(warehouse, codes, system, on):
    from codesets.query.validity import validity

    with warehouse.connect() as con:
        return validity(con, codes, system, on).to_pylist()


def test_codes_billable_in_2021_and_headers_in_2026_answer_both_ways(real):
    with real.connect() as con:
        turned = con.execute(
            "SELECT a.code FROM code_history AS a JOIN code_history AS b USING (code_system, code) "
            "WHERE code_system = 'icd10cm' AND a.release_id = '2021' AND a.billable "
            "AND b.release_id = '2026-04' AND NOT b.billable ORDER BY a.code"
        ).fetchall()
        turned = [code for (code,) in turned]
        children = {
            code: [c for (c,) in con.execute(
                "SELECT code FROM code_history WHERE release_id = '2026-04' AND billable AND code LIKE ? || '_%' "
                "ORDER BY code", [code]).fetchall()]
            for code in turned
        }
    assert "M545" in turned  # low back pain: expanded to M54.50, M54.51, M54.59 in FY2022
    assert len(turned) > 10
    before = ask(real, turned, "icd10cm", date(2021, 6, 1))
    after = ask(real, turned, "icd10cm", date(2026, 6, 1))
    assert {r["status"] for r in before} == {"billable"}
    assert {r["status"] for r in after} == {"header (not billable)"}
    assert all(r["successors"] == children[r["code"]] and r["successors"] for r in after)
    m545 = next(r for r in after if r["code"] == "M545")
    assert m545["successors"] == ["M5450", "M5451", "M5459"] and m545["release_id"] == "2026-04"


def test_no_release_in_force_between_loaded_years_is_never_a_guess(real):
    """FY2021 answers through 2021-09-30 and the April 2026 update from 2026-04-01 through 2026-09-30:
    the fiscal years between are not loaded, and a date in them says so."""
    found = {day: ask(real, ["A00.0"], "icd10cm", day)[0] for day in (
        date(2020, 9, 30), date(2021, 9, 30), date(2021, 10, 1), date(2026, 3, 31), date(2026, 4, 1),
        date(2026, 9, 30), date(2026, 10, 1))}
    assert {day: (a["status"], a["release_id"]) for day, a in found.items()} == {
        date(2020, 9, 30): ("no release in force", None),
        date(2021, 9, 30): ("billable", "2021"),
        date(2021, 10, 1): ("no release in force", None),
        date(2026, 3, 31): ("no release in force", None),
        date(2026, 4, 1): ("billable", "2026-04"),
        date(2026, 9, 30): ("billable", "2026-04"),
        date(2026, 10, 1): ("no release in force", None),
    }


def test_hcpcs_codes_at_their_add_and_termination_dates(real):
    with real.connect() as con:
        added, add_date = con.execute(
            "SELECT code, added FROM code_history AS h WHERE release_id = '2019' AND code_system = 'hcpcs' "
            "AND added >= DATE '2019-01-01' AND NOT EXISTS (SELECT 1 FROM code_history AS o WHERE o.release_id = '2018' "
            "AND o.code_system = 'hcpcs' AND o.code = h.code) ORDER BY code LIMIT 1").fetchone()
        gone, term_date, xref = con.execute(
            "SELECT h.code, h.terminated, m.target_code FROM code_history AS h JOIN maps AS m "
            "ON m.source = 'hcpcs' AND m.release_id = h.release_id AND m.source_code = h.code "
            "WHERE h.release_id = '2019' AND h.code_system = 'hcpcs' AND h.terminated = DATE '2018-12-31' "
            "ORDER BY h.code LIMIT 1").fetchone()
    assert ask(real, [added], "hcpcs", add_date - timedelta(days=1))[0]["status"] == "not yet effective"
    assert ask(real, [added], "hcpcs", add_date)[0]["status"] == "billable"
    # the 2019 file ends it on 2018-12-31: the 2018 file (which answers that day) still lists it
    (last_day,) = ask(real, [gone], "hcpcs", term_date)
    assert (last_day["status"], last_day["release_id"]) == ("billable", "2018")
    (after,) = ask(real, [gone], "hcpcs", term_date + timedelta(days=1))
    assert after["status"] == "terminated" and after["release_id"] == "2019" and xref in after["successors"]


def test_an_icd9_code_after_october_2015_gives_the_gem_candidates_combinations_whole(real):
    with real.connect() as con:
        code, targets = con.execute(
            "SELECT source_code, target_codes FROM gem_combinations WHERE source_system = 'icd9cm' "
            "ORDER BY source_code, scenario, alternative LIMIT 1").fetchone()
        singles = [t for (t,) in con.execute(
            "SELECT target_code FROM gem_map WHERE source_system = 'icd9cm' AND source_code = 'V1251' "
            "AND NOT no_map ORDER BY line_no").fetchall()]
    (answer,) = ask(real, [code], "icd9cm", date(2016, 1, 1))
    assert answer["status"] == "terminated" and answer["effective_to"] == date(2015, 9, 30)
    assert "+".join(targets) in answer["successors"]
    (v1251,) = ask(real, ["V12.51"], "icd9cm", date(2016, 1, 1))
    assert v1251["successors"] == singles
    assert ask(real, ["V12.51"], "icd9cm", date(2015, 9, 30))[0]["status"] == "billable"


def test_the_point_lookup_answers_as_the_batch_on_real_codes(real):
    from codesets.query.validity import CodeLookup, validity

    rng = random.Random(3)
    with real.connect() as con:
        known = con.execute("SELECT code_system, code FROM code_history USING SAMPLE 600 ROWS (reservoir, 5)").fetchall()
        lookup = CodeLookup(con)
        for system in ("icd10cm", "hcpcs", "icd9cm"):
            # most answers come from memory; each other one asks SQL, so keep those few
            codes = [c for s, c in known if s == system][:40] + ["ZZZ99", "M54.5"]
            for day in (date(2014, 1, 1) + timedelta(days=rng.randrange(365 * 13)), date(2026, 6, 1)):
                batch = validity(con, codes, system, day).to_pylist()
                assert [lookup(c, system, day)._asdict() for c in codes] == batch
