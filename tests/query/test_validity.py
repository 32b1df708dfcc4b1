"""Code validity on a date (docs/codes.md), the code views and the scrub check, on hand-made rows.

The rows are written here to prove one rule each (tests/warehouse/code_fakes.py loads them
as the real loaders would); tests/loaders/ prove the loaders on the real files.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.query import code_fakes as fakes

ICD10 = fakes.FakeCodeLoader(source="icd10cm")
HCPCS = fakes.FakeCodeLoader(source="hcpcs")
CPT = fakes.FakeCodeLoader(source="cpt")


@pytest.fixture
def coded(warehouse, tmp_path, monkeypatch):
    """Two ICD-10-CM years (M54.5 billable, then a header with children; Z99.9 dropped, Z99.91 new),
    a code file and an order file in the second year, and one HCPCS year with dated codes."""
    fakes.install(monkeypatch, ICD10, HCPCS, CPT)
    first = fakes.write(tmp_path, "codes-2021.csv", [
        ("icd10cm", "M545", "Low back pain", True),
        ("icd10cm", "A000", "Cholera due to Vibrio cholerae 01, biovar cholerae", True),
        ("icd10cm", "Z999", "Dependence on unspecified enabling machine", True),
        ("icd10cm", "Z998", "Dependence on other enabling machines", True),
    ])
    second_codes = fakes.write(tmp_path, "codes-2022.csv", [
        ("icd10cm", "M5450", "Low back pain, unspecified", True),
        ("icd10cm", "A000", "Cholera due to Vibrio cholerae 01, biovar cholerae", True),
    ])
    second_order = fakes.write(tmp_path, "order-2022.csv", [
        ("icd10cm", "A00", "Cholera", False),
        ("icd10cm", "A000", "Cholera due to Vibrio cholerae 01, biovar cholerae", True),
        ("icd10cm", "M545", "Low back pain", False),
        ("icd10cm", "M5450", "Low back pain, unspecified", True),
        ("icd10cm", "M5451", "Vertebrogenic low back pain", True),
        ("icd10cm", "Z998", "Dependence on other enabling machines", True),
        ("icd10cm", "Z9981", "Dependence on a new machine", True),
    ])
    hcpcs = fakes.write(tmp_path, "annual-2019.csv", [
        ("hcpcs", "J9035", "Injection, bevacizumab, 10 mg", True, "2005-01-01", "2019-06-30"),
        ("hcpcs", "Q5107", "Injection, bevacizumab-awwb, biosimilar, 10 mg", True, "2019-07-01"),
        ("hcpcs", "A0021", "Ambulance service, outside state per mile, transport", True, "1995-01-01"),
    ])
    fakes.load(warehouse, ICD10, first, "2021", date(2020, 10, 1))
    fakes.load(warehouse, ICD10, second_codes, "2022", date(2021, 10, 1))
    fakes.load(warehouse, ICD10, second_order, "2022", date(2021, 10, 1))
    fakes.load(warehouse, HCPCS, hcpcs, "2019", date(2019, 1, 1))
    return warehouse


def answers(warehouse, codes, system, on):
    from codesets.query.validity import validity

    with warehouse.connect() as con:
        return {r["input"]: r for r in validity(con, codes, system, on).to_pylist()}


def test_the_richest_rendering_of_a_release_answers(coded):
    with coded.connect() as con:
        rows = con.execute(
            "SELECT release_id, part, effective_from, effective_to FROM code_releases WHERE source = 'icd10cm' "
            "ORDER BY effective_from"
        ).fetchall()
    assert rows == [("2021", "codes", date(2020, 10, 1), date(2021, 9, 30)),
                    ("2022", "order", date(2021, 10, 1), date(2022, 9, 30))]  # a fiscal year ends on September 30


def test_a_release_answers_for_its_own_period_only(coded):
    """No FY2023 file is loaded: FY2022 does not answer for October 2022, nor HCPCS 2019 for 2020."""
    (icd,) = answers(coded, ["A00.0"], "icd10cm", date(2022, 10, 1)).values()
    (hcpcs,) = answers(coded, ["A0021"], "hcpcs", date(2020, 1, 1)).values()
    assert (icd["status"], icd["valid"]) == ("no release in force", None)
    assert (hcpcs["status"], hcpcs["valid"]) == ("no release in force", None)
    assert answers(coded, ["A0021"], "hcpcs", date(2019, 12, 31))["A0021"]["status"] == "billable"


def test_statuses_on_a_date(coded):
    found = answers(coded, ["M54.5", "m5451", "A00", "Z99.9", "Z99.81", "B99", "M54.5X", "1234"], "icd10cm", "2022-03-01")
    assert {k: v["status"] for k, v in found.items()} == {
        "M54.5": "header (not billable)",
        "m5451": "billable",
        "A00": "header (not billable)",
        "Z99.9": "terminated",
        "Z99.81": "billable",
        "B99": "unknown",
        "M54.5X": "unknown",
        "1234": "unknown",
    }
    assert found["M54.5"]["successors"] == ["M5450", "M5451"]
    assert found["M54.5"]["valid"] is False and found["m5451"]["valid"] is True
    assert found["m5451"]["code"] == "M5451" and found["m5451"]["release_id"] == "2022"
    assert found["m5451"]["source_file"] == "order-2022.csv" and found["m5451"]["line_no"] == 6
    # dropped: the codes new since the last release that listed it, under the same parent
    assert found["Z99.9"]["successors"] == ["Z9981"]
    assert found["1234"]["code"] is None


def test_the_same_code_a_year_earlier_and_before_any_release(coded):
    earlier = answers(coded, ["M54.5", "Z99.81"], "icd10cm", date(2021, 9, 30))
    assert earlier["M54.5"]["status"] == "billable" and earlier["M54.5"]["release_id"] == "2021"
    assert earlier["Z99.81"]["status"] == "not yet effective"
    before = answers(coded, ["M54.5"], "icd10cm", date(2020, 9, 30))["M54.5"]
    assert (before["status"], before["valid"], before["release_id"]) == ("no release in force", None, None)


def test_hcpcs_codes_at_their_add_and_termination_dates(coded):
    on = {day: answers(coded, ["J9035", "Q5107"], "hcpcs", day) for day in ("2019-06-30", "2019-07-01")}
    assert on["2019-06-30"]["J9035"]["status"] == "billable"  # the termination date is its last day
    assert on["2019-07-01"]["J9035"]["status"] == "terminated"
    assert on["2019-06-30"]["Q5107"]["status"] == "not yet effective"
    assert on["2019-07-01"]["Q5107"]["status"] == "billable"
    assert on["2019-07-01"]["J9035"]["effective_to"] == date(2019, 6, 30)


def test_cpt_without_a_list_is_checked_by_shape_and_says_so(coded):
    found = answers(coded, ["99213", "0001F", "0042T", "0001U", "9921", "ABCDE"], "cpt", "2024-01-01")
    assert {k: (v["status"], v["valid"]) for k, v in found.items()} == {
        "99213": ("valid shape (no CPT list)", None),
        "0001F": ("valid shape (no CPT list)", None),
        "0042T": ("valid shape (no CPT list)", None),
        "0001U": ("valid shape (no CPT list)", None),
        "9921": ("unknown", False),
        "ABCDE": ("unknown", False),
    }


def test_a_batch_carries_its_own_systems_and_dates(coded):
    import pyarrow as pa

    from codesets.query.validity import validity

    batch = pa.table({
        "code": ["J9035", "M54.5", "M54.5"],
        "code_system": ["hcpcs", "icd10cm", "icd10cm"],
        "on_date": [date(2019, 7, 1), date(2021, 1, 1), date(2022, 1, 1)],
    })
    with coded.connect() as con:
        table = validity(con, batch)
    assert table.column("status").to_pylist() == ["terminated", "billable", "header (not billable)"]
    from codesets.query.validity import COLUMNS

    assert tuple(table.column_names) == COLUMNS


def test_codes_view_merges_unbroken_releases_and_splits_on_a_change(coded):
    with coded.connect() as con:
        rows = con.execute(
            "SELECT code, billable, effective_from, effective_to, first_release_id, release_id, releases FROM codes "
            "WHERE code IN ('A000', 'M545', 'Z999') AND code_system = 'icd10cm' ORDER BY code, effective_from"
        ).fetchall()
    assert rows == [
        ("A000", True, date(2020, 10, 1), date(2022, 9, 30), "2021", "2022", 2),
        ("M545", True, date(2020, 10, 1), date(2021, 9, 30), "2021", "2021", 1),
        ("M545", False, date(2021, 10, 1), date(2022, 9, 30), "2022", "2022", 1),
        ("Z999", True, date(2020, 10, 1), date(2021, 9, 30), "2021", "2021", 1),
    ]


@pytest.mark.slow
def test_lookup_answers_as_the_batch_does(coded):
    from codesets.query.validity import CodeLookup, validity

    with coded.connect() as con:
        codes = [r[0] for r in con.execute("SELECT DISTINCT code FROM code_history WHERE code_system = 'icd10cm'").fetchall()]
        codes += ["B99", "Z99.9", "m54.5", " M54.5 ", "M54.5\t", "M.545", "M54..5", "A0\u00df", "", "  ", "Z998."]
        lookup = CodeLookup(con)
        for day in (date(2020, 9, 1), date(2021, 3, 1), date(2022, 3, 1)):
            batch = validity(con, codes, "icd10cm", day).to_pylist()
            assert [lookup(code, "icd10cm", day)._asdict() for code in codes] == batch


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["A0021", "A0080", "J9035", "Q5107"]),
                  st.dates(date(2015, 1, 1), date(2020, 12, 31)), st.integers(0, 2000)),
        min_size=1, max_size=4, unique_by=lambda r: r[0],
    ),
    day=st.dates(date(2014, 6, 1), date(2022, 12, 31)),
)
def test_billable_means_inside_the_release_and_the_codes_own_dates(warehouse, tmp_path_factory, monkeypatch, rows, day):
    """The Python statement of the rule, against the SQL, on random add and termination dates."""
    from codesets.warehouse.storage import Warehouse
    from codesets.query.validity import validity

    fakes.install(monkeypatch, HCPCS)
    folder = tmp_path_factory.mktemp("hcpcs")
    wh = Warehouse(folder / "wh")
    spec = [(code, added, date.fromordinal(added.toordinal() + span) if span < 1500 else None) for code, added, span in rows]
    path = fakes.write(folder, "annual-2018.csv", [("hcpcs", c, "title", True, a, t) for c, a, t in spec])
    fakes.load(wh, HCPCS, path, "2018", date(2018, 1, 1))
    with wh.connect() as con:
        found = {r["code"]: r["status"] for r in validity(con, [c for c, _a, _t in spec], "hcpcs", day).to_pylist()}
    for code, added, terminated in spec:
        if day < date(2018, 1, 1) or day > date(2018, 12, 31):  # the release of HCPCS year 2018
            expected = "no release in force"
        elif day < added:
            expected = "not yet effective"
        elif terminated is not None and day > terminated:
            expected = "terminated"
        else:
            expected = "billable"
        assert found[code] == expected, (code, added, terminated, day)


def test_scrub_checks_procedure_and_diagnosis_codes(coded):
    import pyarrow as pa

    from codesets.scrub import scrub as scrub_lines

    claims = pa.table({
        "claim_id": ["c1", "c1", "c2", "c3"],
        "line_number": [1, 2, 1, 1],
        "date_of_service": ["2019-07-01", "2019-07-01", "2022-03-01", "2022-03-01"],
        "procedure_code": ["J9035", "Q5107", "99213", "XX1"],
        "diagnosis_codes": ["M54.5", None, "M54.5| A00.0 |B99", ""],
    })
    found = scrub_lines(claims, checks=["validity"], warehouse=coded).to_pylist()
    # within a line, findings sort by reference: B99 names only the release, M54.5 its line too
    got = [(f["claim_id"], f["line_number"], f["severity"], f["code"], f["reason"]) for f in found]
    assert got == [
        ("c1", 1, "error", "J9035",
         "procedure code J9035 (hcpcs) is terminated on the line's date of service (valid to 2019-06-30)"),
        ("c1", 1, "info", "M545",
         "principal diagnosis M545 (icd10cm) cannot be checked: no icd10cm release in force on the line's date of service"),
        ("c2", 1, "error", "B99", "diagnosis 3 B99 (icd10cm) is not a code of the system on the line's date of service"),
        ("c2", 1, "error", "M545",
         "principal diagnosis M545 (icd10cm) is a header, not billable, on the line's date of service"),
        ("c3", 1, "error", None,  # not of a code's shape: free text, never quoted
         "procedure code is neither a HCPCS Level II code (a letter and four digits) nor a CPT code "
         "(four digits and a digit or F, M, T, U)"),
    ]
    header = next(f for f in found if f["claim_id"] == "c2" and f["code"] == "M545")
    assert header["suggestion"] == "bill one of its codes: M5450, M5451"
    assert header["reference"] == "icd10cm 2022 order-2022.csv line 4"


def test_code_command_prints_dotted_codes_and_refuses_bad_requests(coded, monkeypatch):
    from typer.testing import CliRunner

    from codesets.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["--warehouse", str(coded.path), "code", "M545", "A00.0", "--system", "icd10cm",
                                 "--on", "2022-03-01", "--format", "csv", "--columns", "input,code,status,successors"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["M545,M54.5,header (not billable),M54.50 M54.51",
                                              "A00.0,A00.0,billable,"]
    bad = runner.invoke(app, ["--warehouse", str(coded.path), "code", "M545", "--system", "icd11"])
    assert bad.exit_code == 2 and "unknown code system 'icd11'" in bad.output
    bad = runner.invoke(app, ["--warehouse", str(coded.path), "code", "M545", "--system", "icd10cm", "--on", "03/01/2022"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
