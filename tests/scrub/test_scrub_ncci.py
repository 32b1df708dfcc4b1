"""The ptp and mue scrub checks against docs/scrub-rules.md, one rule at a time, exact findings."""

from __future__ import annotations


import pyarrow as pa
import pytest

from codesets.warehouse.load import load
from codesets.scrub import scrub
from tests.loaders.test_ncci_ptp import write_ptp

MUE_NOTICE = b'"Hand-made MUE table for tests.\n\nNot CMS limits.",,,\r\n'
MUE_TITLES = {"practitioner": b"Practitioner Services MUE Values", "dme": b"DME Supplier Services MUE Values",
              "outpatient_hospital": b"Outpatient Hospital Services MUE Values"}
MUE_FILES = {"practitioner": "PractitionerServices", "dme": "DMESupplierServices",
             "outpatient_hospital": "OutpatientHospitalServices"}
MAI = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy", 3: "3 Date of Service Edit: Clinical"}


def write_mue(folder, setting, rows, effective="07-01-2026"):
    """An MUE table in CMS's layout: the quoted notice, the wrapped header, then code,value,MAI,rationale."""
    head = MUE_NOTICE + b'"HCPCS/\nCPT Code",' + MUE_TITLES[setting] + b",MUE Adjudication Indicator,MUE Rationale\r\n"
    body = b"".join(f"{code},{value},{MAI[mai]},Clinical: Data\r\n".encode() for code, value, mai in rows)
    path = folder / f"MCR_MUE_{MUE_FILES[setting]}_Eff_{effective}.csv"
    path.write_bytes(head + body)
    return path


EDITS = [
    ("11042", "11045", "", "20090101", "*", "1", "Standards of medical / surgical practice"),  # line 7
    ("29881", "29877", "", "20100101", "*", "0", "Mutually exclusive procedures"),  # line 8
    ("29881", "29880", "", "20120101", "20251231", "1", "Mutually exclusive procedures"),  # line 9
    ("64483", "64493", "", "20150101", "20150101", "9", "r9"),  # line 10
    ("64483", "64493", "", "20150101", "*", "1", "r1"),  # line 11
    ("99213", "99211", "", "20200101", "*", "1", "first"),  # line 12
    ("99213", "99211", "", "20200101", "*", "0", "second"),  # line 13
]


def build(tmp_path):
    from codesets.warehouse.storage import Warehouse

    warehouse = Warehouse(tmp_path / "wh")
    load(warehouse, "ncci_ptp", [write_ptp(tmp_path / "ccipra-v322r0-f1.txt", EDITS)])
    load(warehouse, "ncci_mue", [
        write_mue(tmp_path, "practitioner", [("36415", 2, 3), ("20610", 2, 2), ("11042", 1, 1)]),
        write_mue(tmp_path, "dme", [("E0100", 1, 1)]),
    ])
    return warehouse


@pytest.fixture(scope="module")
def ncci(tmp_path_factory):
    return build(tmp_path_factory.mktemp("ncci"))


def run(warehouse, lines, checks=("ptp", "mue")):
    columns = ["claim_id", "line_number", "date_of_service", "procedure_code", "modifier_1", "modifier_2", "units",
               "setting", "member_id", "provider_id"]
    rows = [dict(zip(columns, line)) for line in lines]
    table = pa.Table.from_pylist(rows)
    found = scrub(table, checks=checks, warehouse=warehouse).to_pylist()
    return [(f["claim_id"], f["line_number"], f["check"], f["severity"], f["code"], f["related_line_number"],
             f["reference"]) for f in found]


def line(claim, number, code, mod1=None, mod2=None, units=1, dos="2026-08-03", setting="practitioner",
         member=None, provider=None):
    return (claim, number, dos, code, mod1, mod2, units, setting, member, provider)


REF = "ncci_ptp v322r0 ccipra-v322r0-f1.txt line {}"


def test_indicator_0_is_never_bypassed_and_the_finding_sits_on_column_2(ncci):
    found = run(ncci, [line("C", 1, "29881"), line("C", 2, "29877", "59")], checks=("ptp",))
    assert found == [("C", 2, "ptp", "error", "29877", 1, REF.format(8))]


@pytest.mark.parametrize("mods_a, mods_b, finding", [
    ((None, None), (None, None), True),
    ((None, None), ("59", None), False),  # NCCI-associated modifier on the column-2 line
    (("59", None), (None, None), True),  # on the column-1 line alone: not a bypass
    ((None, None), ("XU", None), False),
    ((None, None), ("25", None), False),
    ((None, None), ("76", None), True),  # not an NCCI-associated modifier
    (("RT", None), ("LT", None), False),  # different sites
    (("LT", None), ("LT", None), True),  # the same site
    ((None, None), ("LT", None), True),  # a site on one line only
    (("F1", None), ("F2", None), False),
    (("RT", "F1"), ("RT", None), True),
])
def test_indicator_1_and_the_modifiers(ncci, mods_a, mods_b, finding):
    found = run(ncci, [line("C", 1, "11042", *mods_a), line("C", 2, "11045", *mods_b)], checks=("ptp",))
    assert found == ([("C", 2, "ptp", "error", "11045", 1, REF.format(7))] if finding else [])


@pytest.mark.parametrize("dos, finding", [
    ("2025-12-31", True),  # on the deletion date: still in force
    ("2026-01-01", False),
    ("2012-01-01", True),  # on the effective date
    ("2011-12-31", False),
])
def test_the_window_includes_both_dates(ncci, dos, finding):
    found = run(ncci, [line("C", 1, "29881", dos=dos), line("C", 2, "29880", dos=dos)], checks=("ptp",))
    assert found == ([("C", 2, "ptp", "error", "29880", 1, REF.format(9))] if finding else [])


def test_indicator_9_never_fires_nor_cancels_and_repeats_give_one_finding(ncci):
    found = run(ncci, [line("C", 1, "64483"), line("C", 2, "64493"), line("D", 1, "99213"), line("D", 2, "99211")],
                checks=("ptp",))
    # 64493: the indicator 9 row is no edit, the indicator 1 row is; 99211: the strictest row is named
    assert found == [("C", 2, "ptp", "error", "64493", 1, REF.format(11)),
                     ("D", 2, "ptp", "error", "99211", 1, REF.format(13))]


def test_pairs_only_within_one_claim_date_and_setting(ncci):
    found = run(ncci, [
        line("A", 1, "29881"), line("B", 1, "29877"),
        line("C", 1, "29881", dos="2026-08-03"), line("C", 2, "29877", dos="2026-08-04"),
        line("D", 1, "29881", setting="dme"), line("D", 2, "29877", setting="dme"),
        line("E", 1, "29881", setting="outpatient_hospital"), line("E", 2, "29877"),
    ], checks=("ptp",))
    assert found == []


def test_the_latest_quarter_states_the_windows(tmp_path):
    ncci = build(tmp_path)
    later = [e if e[:2] != ("29881", "29877") else ("29881", "29877", "", "20100101", "20260630", "0", "x")
             for e in EDITS]
    folder = tmp_path / "q2"
    folder.mkdir()
    load(ncci, "ncci_ptp", [write_ptp(folder / "ccipra-v323r0-f1.txt", later)])
    found = run(ncci, [line("C", 1, "29881"), line("C", 2, "29877")], checks=("ptp",))
    assert found == []  # deleted 2026-06-30 as v323r0 states, though v322r0 had it open
    found = run(ncci, [line("C", 1, "29881", dos="2026-06-30"), line("C", 2, "29877", dos="2026-06-30")],
                checks=("ptp",))
    assert found == [("C", 2, "ptp", "error", "29877", 1, "ncci_ptp v323r0 ccipra-v323r0-f1.txt line 8")]


MREF = "ncci_mue 2026-07-01 MCR_MUE_{}_Eff_07-01-2026.csv line {}"


def test_mue_line_edit_and_date_of_service_edits(ncci):
    found = run(ncci, [
        line("A", 1, "11042", units=2),  # MAI 1, limit 1: over on its own line
        line("A", 2, "11042", units=1),
        line("B", 1, "20610", units=1), line("B", 2, "20610", units=2),  # MAI 2, limit 2: 3 on the day
        line("C", 1, "20610", units=2), line("C", 2, "20610", units=1, dos="2026-08-04"),
        line("D", 1, "99999", units=50),  # no MUE for the code
    ], checks=("mue",))
    first_row = 6  # the notice (3 lines) and the wrapped header (2 lines) come first
    assert found == [
        ("A", 1, "mue", "error", "11042", None, MREF.format("PractitionerServices", first_row + 2)),
        ("B", 1, "mue", "error", "20610", None, MREF.format("PractitionerServices", first_row + 1)),
        ("B", 2, "mue", "error", "20610", None, MREF.format("PractitionerServices", first_row + 1)),
    ]


def test_mue_sums_across_claims_of_one_member_and_provider(ncci):
    found = run(ncci, [
        line("A", 1, "36415", units=1, member="m1", provider="p1"),
        line("B", 1, "36415", units=2, member="m1", provider="p1"),
        line("C", 1, "36415", units=2, member="m1", provider="p2"),
        line("D", 1, "36415", units=2),
    ], checks=("mue",))
    assert [(f[0], f[1]) for f in found] == [("A", 1), ("B", 1)]
    texts = scrub(pa.Table.from_pylist([
        dict(claim_id="A", line_number=1, date_of_service="2026-08-03", procedure_code="36415", units=3.5),
    ]), checks=("mue",), warehouse=ncci).to_pylist()
    assert texts[0]["reason"] == ("3.5 units of 36415 on the line's date of service on this claim exceed the MUE "
                                  "of 2 (MAI 3, date of service edit; Clinical: Data)")


def test_no_release_in_force_is_an_info_finding_not_silence(ncci):
    found = run(ncci, [line("A", 1, "36415", dos="2026-06-30"), line("A", 2, "E0100", setting="outpatient_hospital")],
                checks=("mue",))
    assert found == [("A", 1, "mue", "info", "36415", None, None), ("A", 2, "mue", "info", "E0100", None, None)]


def test_no_finding_writes_a_date_of_service_or_a_value_without_a_codes_shape(ncci):
    """A birth date typed as the date of service, a name as the procedure code: neither reaches a finding."""
    table = pa.Table.from_pylist([
        dict(claim_id="A", line_number=1, date_of_service="1931-07-19", procedure_code="29881", units=1),
        dict(claim_id="A", line_number=2, date_of_service="1931-07-19", procedure_code="ZELDA", units=1),
        dict(claim_id="B", line_number=1, date_of_service="2026-08-03", procedure_code="36415", units=3),
        dict(claim_id="C", line_number=1, date_of_service="2026-08-03", procedure_code="29881", units=1),
        dict(claim_id="C", line_number=2, date_of_service="2026-08-03", procedure_code="29877", units=1),
        dict(claim_id="C", line_number=3, date_of_service="2026-08-03", procedure_code="987654329", units=1),
    ])
    found = scrub(table, checks=("ptp", "mue"), warehouse=ncci).to_pylist()
    day = "the line's date of service"
    assert [(f["claim_id"], f["line_number"], f["check"], f["code"], f["reason"], f["suggestion"]) for f in found] == [
        ("A", 1, "mue", "29881", f"no MUE release in force for practitioner on {day}",
         f"load the MUE tables of the quarter holding {day} (codesets load ncci_mue FILE...)"),
        ("A", 2, "mue", None, f"no MUE release in force for practitioner on {day}",
         f"load the MUE tables of the quarter holding {day} (codesets load ncci_mue FILE...)"),
        ("B", 1, "mue", "36415", f"3 units of 36415 on {day} on this claim exceed the MUE of 2 (MAI 3, date of "
         "service edit; Clinical: Data)", "bill at most 2 units of 36415 per day, or send documentation of medical "
         "necessity on appeal (MAI 3 is clinical)"),
        ("C", 2, "ptp", "29877", "29877 is a column 2 code of 29881 on line 1 (NCCI PTP edit, modifier indicator 0): "
         "Mutually exclusive procedures",
         "do not bill 29877 with 29881 on the same day: no modifier bypasses this edit"),
    ]
    shown = repr(found)
    for value in ("1931", "07-19", "2026-08-03", "ZELDA", "987654329"):
        assert value not in shown
