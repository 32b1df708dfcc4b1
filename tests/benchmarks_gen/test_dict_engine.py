"""benchmarks/dict_engine.py: the Python twin of the PTP and MUE scrub, rule by rule (docs/scrub-rules.md).

Each test writes tiny PTP files and MUE tables in the exact CMS layouts (6 header lines, tabs,
CRLF; the quoted multi-line notice and the wrapped header of the MUE CSV) and asserts the
exact finding rows for a handful of claim lines.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codesets.scrub.checks.input import PROCEDURE_SHAPE
from tests.conftest import benchmark_module, SHARED_DATA, need_shared


def _load(name: str):
    return benchmark_module(name)


de = _load("dict_engine")
gen = _load("gen_ncci")

DOS = dt.date(2026, 7, 15)
PRA1, PRA2, OPH1 = "ccipra-v322r0-f1.txt", "ccipra-v322r0-f2.txt", "ccioph-v322r0-f1.txt"
MUE_PRA = "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
MUE_OPH = "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv"
MUE_TITLES = {"PractitionerServices": "Practitioner Services MUE Values",
              "OutpatientHospitalServices": "Outpatient Hospital Services MUE Values",
              "DMESupplierServices": "DME Supplier Services MUE Values"}
MUTUAL = "Mutually exclusive procedures"
MANUAL = "CPT Manual or CMS manual coding instruction"
CLAIM_COLUMNS = ("claim_id", "line_number", "date_of_service", "procedure_code", "modifier_1", "modifier_2",
                 "modifier_3", "modifier_4", "units", "setting", "member_id", "provider_id")
CLAIM_SCHEMA = pa.schema([
    ("claim_id", pa.string()), ("line_number", pa.int32()), ("date_of_service", pa.date32()),
    ("procedure_code", pa.string()), ("modifier_1", pa.string()), ("modifier_2", pa.string()),
    ("modifier_3", pa.string()), ("modifier_4", pa.string()), ("units", pa.int32()), ("setting", pa.string()),
    ("member_id", pa.string()), ("provider_id", pa.string()),
])


# --- writing the files in the CMS layouts -----------------------------------------------------

def write_ptp(folder: Path, name: str, rows) -> Path:
    """A PTP file: the 6 header lines, then (col1, col2, effective, deletion, indicator, rationale) rows.

    The first row is physical line 7.
    """
    body = b"".join(
        ("\t".join([c1, c2, "*" if eff == "19960101" else "", eff, dele, str(ind), rationale]) + "\r\n")
        .encode("latin-1")
        for c1, c2, eff, dele, ind, rationale in rows
    )
    path = folder / name
    path.write_bytes(gen.PTP_HEADER + body)
    return path


def write_mue(folder: Path, name: str, rows) -> Path:
    """An MUE table: the quoted notice (7 lines), the wrapped header (2 lines), then
    (code, value, adjudication indicator text, rationale) rows: the first is physical line 10."""
    table = re.match(r"MCR_MUE_([A-Za-z]+)_Eff_", name).group(1)
    header = gen.MUE_HEADER.replace(b"{title}", MUE_TITLES[table].encode("latin-1"))
    body = b"".join(f"{code},{value},{mai},{rationale}\r\n".encode("latin-1") for code, value, mai, rationale in rows)
    path = folder / name
    path.write_bytes(gen.MUE_NOTICE + header + body)
    return path


MAI1, MAI2, MAI3 = "1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"


def claims(*lines, schema=CLAIM_SCHEMA) -> pa.Table:
    """Claim lines from (claim_id, line_number, code) plus keyword overrides, as dicts."""
    rows = []
    for line in lines:
        claim_id, number, code, extra = (*line, {})[:4]
        row = dict.fromkeys(CLAIM_COLUMNS)
        row.update(claim_id=claim_id, line_number=number, date_of_service=DOS, procedure_code=code, units=1,
                   setting="practitioner")
        row.update(extra)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def engine(tmp_path, ptp=(), mue=()):
    return de.DictEngine.build([tmp_path / n for n in ptp], [tmp_path / n for n in mue])


def scrub(eng, table, checks=("ptp", "mue")) -> list[dict]:
    return eng.scrub(table, checks=checks).to_pylist()


def ptp_row(claim, b, b_code, a, a_code, indicator, rationale, file, line, release="v322r0") -> dict:
    suggestion = (f"do not bill {b_code} with {a_code} on the same day: no modifier bypasses this edit"
                  if indicator == 0 else
                  f"remove {b_code}, or append an NCCI-associated modifier (59, XE, XP, XS, XU, anatomic or global "
                  "surgery) if the services were distinct and documented")
    return {
        "claim_id": claim, "line_number": b, "check": "ptp", "severity": "error", "code": b_code,
        "related_line_number": a,
        "reason": f"{b_code} is a column 2 code of {a_code} on line {a} (NCCI PTP edit, modifier indicator "
                  f"{indicator}): {rationale}",
        "reference": f"ncci_ptp {release} {file} line {line}",
        "suggestion": suggestion,
    }


def mue_row(claim, line, code, reason, suggestion, file=MUE_PRA, row=10, release="2026-07-01") -> dict:
    return {"claim_id": claim, "line_number": line, "check": "mue", "severity": "error", "code": code,
            "related_line_number": None, "reason": reason, "reference": f"ncci_mue {release} {file} line {row}",
            "suggestion": suggestion}


# --- PTP -----------------------------------------------------------------------------------------

def test_lines_pair_by_claim_date_of_service_and_setting(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL)])
    write_ptp(tmp_path, OPH1, [("10000", "20000", "20240101", "*", 1, MANUAL),
                               ("11111", "22222", "20240101", "*", 0, MUTUAL)])
    eng = engine(tmp_path, ptp=[PRA1, OPH1])
    later = {"date_of_service": DOS + dt.timedelta(days=1)}
    hospital = {"setting": "outpatient_hospital"}
    table = claims(
        ("C1", 1, "11111"), ("C1", 2, "22222"),  # an edit
        ("C2", 1, "11111"), ("C2", 2, "22222", later),  # another day
        ("C3", 1, "11111"), ("C3", 2, "22222", hospital),  # another setting
        ("C4", 1, "11111"), ("C5", 1, "22222"),  # another claim
        ("C6", 1, "11111", hospital), ("C6", 2, "22222", hospital),  # the hospital file's row
        ("C7", 1, "22222"), ("C7", 2, "11111"),  # column 1 on the later line
    )
    assert scrub(eng, table, checks=("ptp",)) == [
        {"claim_id": "C1", "line_number": 2, "check": "ptp", "severity": "error", "code": "22222",
         "related_line_number": 1,
         "reason": "22222 is a column 2 code of 11111 on line 1 (NCCI PTP edit, modifier indicator 0): "
                   "Mutually exclusive procedures",
         "reference": "ncci_ptp v322r0 ccipra-v322r0-f1.txt line 7",
         "suggestion": "do not bill 22222 with 11111 on the same day: no modifier bypasses this edit"},
        ptp_row("C6", 2, "22222", 1, "11111", 0, MUTUAL, OPH1, 8),
        ptp_row("C7", 1, "22222", 2, "11111", 0, MUTUAL, PRA1, 7),
    ]


def test_indicator_0_and_1_are_edits_9_is_not(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL),
                               ("11111", "33333", "20240101", "*", 1, MANUAL),
                               ("11111", "44444", "20240101", "20240101", 9, MANUAL),
                               ("11111", "55555", "20240101", "*", 9, MANUAL)])
    table = claims(("C1", 1, "11111"), ("C1", 2, "22222"), ("C1", 3, "33333"), ("C1", 4, "44444"),
                   ("C1", 5, "55555"))
    assert scrub(engine(tmp_path, ptp=[PRA1]), table, checks=("ptp",)) == [
        ptp_row("C1", 2, "22222", 1, "11111", 0, MUTUAL, PRA1, 7),
        {"claim_id": "C1", "line_number": 3, "check": "ptp", "severity": "error", "code": "33333",
         "related_line_number": 1,
         "reason": "33333 is a column 2 code of 11111 on line 1 (NCCI PTP edit, modifier indicator 1): "
                   "CPT Manual or CMS manual coding instruction",
         "reference": "ncci_ptp v322r0 ccipra-v322r0-f1.txt line 8",
         "suggestion": "remove 33333, or append an NCCI-associated modifier (59, XE, XP, XS, XU, anatomic or "
                       "global surgery) if the services were distinct and documented"},
    ]


def test_modifier_on_the_column_2_line_bypasses_indicator_1_only(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL),
                               ("11111", "33333", "20240101", "*", 1, MANUAL)])
    table = claims(
        ("C1", 1, "11111"), ("C1", 2, "33333", {"modifier_1": "59"}),  # bypassed
        ("C2", 1, "11111", {"modifier_1": "59"}), ("C2", 2, "33333"),  # on the column-1 line: not
        ("C3", 1, "11111"), ("C3", 2, "33333", {"modifier_1": "76", "modifier_3": " xs "}),  # trimmed, upper-cased
        ("C4", 1, "11111"), ("C4", 2, "33333", {"modifier_1": "76", "modifier_4": "GA"}),  # not NCCI-associated
        ("C5", 1, "11111"), ("C5", 2, "22222", {"modifier_2": "59"}),  # indicator 0: never bypassed
    )
    assert scrub(engine(tmp_path, ptp=[PRA1]), table, checks=("ptp",)) == [
        ptp_row("C2", 2, "33333", 1, "11111", 1, MANUAL, PRA1, 8),
        ptp_row("C4", 2, "33333", 1, "11111", 1, MANUAL, PRA1, 8),
        ptp_row("C5", 2, "22222", 1, "11111", 0, MUTUAL, PRA1, 7),
    ]


@pytest.mark.parametrize("modifier", ["24", "25", "57", "58", "78", "79", "27", "59", "91", "XE", "XS", "XP", "XU"])
def test_ncci_associated_modifiers_bypass_on_the_column_2_line(modifier):
    assert de.bypassed((), (modifier,))
    assert de.bypassed(("GA",), ("76", modifier))
    assert not de.bypassed((modifier,), ())


@pytest.mark.parametrize("modifier", [
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD", "LM", "RC",
    "RI", "LT", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
])
def test_anatomic_modifiers_bypass_only_for_different_sites(modifier):
    other = "RT" if modifier != "RT" else "LT"
    assert de.bypassed((other,), (modifier,))
    assert not de.bypassed((modifier,), (modifier,))
    assert not de.bypassed((), (modifier,))
    assert not de.bypassed((modifier,), ())


@pytest.mark.parametrize("modifier", ["76", "77", "50", "26", "TC", "GA", "E5", "F0", "T0", "X1", "5"])
def test_other_modifiers_do_not_bypass(modifier):
    assert not de.bypassed(("59",), (modifier,))


def test_deletion_date_boundary(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "20250630", 1, MANUAL)])
    dates = [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2025, 6, 30), dt.date(2025, 7, 1)]
    table = claims(*[line for i, d in enumerate(dates, start=1)
                     for line in ((f"C{i}", 1, "11111", {"date_of_service": d}),
                                  (f"C{i}", 2, "22222", {"date_of_service": d}))])
    assert scrub(engine(tmp_path, ptp=[PRA1]), table, checks=("ptp",)) == [
        ptp_row("C2", 2, "22222", 1, "11111", 1, MANUAL, PRA1, 7),  # the effective date
        ptp_row("C3", 2, "22222", 1, "11111", 1, MANUAL, PRA1, 7),  # the deletion date (current reading)
    ]
    d = dt.date(2025, 6, 30)
    assert de.in_force(d, d, None) and de.in_force(d, d, d)
    assert not de.in_force(d, d + dt.timedelta(days=1), None)
    assert not de.in_force(d, d - dt.timedelta(days=9), d - dt.timedelta(days=1))


def test_one_finding_per_pair_naming_the_lowest_indicator_file_line(tmp_path):
    write_ptp(tmp_path, PRA1, [
        ("11111", "22222", "20200101", "*", 1, MANUAL),  # line 7
        ("11111", "22222", "20210101", "*", 0, MUTUAL),  # line 8: indicator 0 wins
        ("11111", "33333", "20200101", "*", 1, MANUAL),  # line 9: the lower line wins
        ("11111", "33333", "20210101", "*", 1, MUTUAL),  # line 10
        ("11111", "44444", "20220101", "*", 1, MUTUAL),  # line 11: f1 before f2
        ("11111", "55555", "20200101", "20201231", 0, MUTUAL),  # line 12: deleted, does not apply
        ("11111", "55555", "20210101", "*", 1, MANUAL),  # line 13
    ])
    write_ptp(tmp_path, PRA2, [("11111", "44444", "20200101", "*", 1, MANUAL)])  # line 7
    table = claims(("C1", 1, "11111"), ("C1", 2, "22222"), ("C1", 3, "33333"), ("C1", 4, "44444"),
                   ("C1", 5, "11111"), ("C1", 6, "55555"))
    assert scrub(engine(tmp_path, ptp=[PRA2, PRA1]), table, checks=("ptp",)) == [
        ptp_row("C1", 2, "22222", 1, "11111", 0, MUTUAL, PRA1, 8),
        ptp_row("C1", 2, "22222", 5, "11111", 0, MUTUAL, PRA1, 8),
        ptp_row("C1", 3, "33333", 1, "11111", 1, MANUAL, PRA1, 9),
        ptp_row("C1", 3, "33333", 5, "11111", 1, MANUAL, PRA1, 9),
        ptp_row("C1", 4, "44444", 1, "11111", 1, MUTUAL, PRA1, 11),
        ptp_row("C1", 4, "44444", 5, "11111", 1, MUTUAL, PRA1, 11),
        ptp_row("C1", 6, "55555", 1, "11111", 1, MANUAL, PRA1, 13),
        ptp_row("C1", 6, "55555", 5, "11111", 1, MANUAL, PRA1, 13),
    ]


def test_latest_ptp_release_of_each_setting_serves(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL)])
    write_ptp(tmp_path, "ccipra-v323r0-f1.txt", [("11111", "22222", "20240101", "20260930", 1, MANUAL)])
    eng = engine(tmp_path, ptp=["ccipra-v323r0-f1.txt", PRA1])
    table = claims(("C1", 1, "11111"), ("C1", 2, "22222"))
    assert scrub(eng, table, checks=("ptp",)) == [
        ptp_row("C1", 2, "22222", 1, "11111", 1, MANUAL, "ccipra-v323r0-f1.txt", 7, release="v323r0")]


def test_dme_lines_have_no_ptp_edits(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL)])
    dme = {"setting": "dme"}
    hospital = {"setting": "outpatient_hospital"}  # no hospital file loaded: no edits either
    table = claims(("C1", 1, "11111", dme), ("C1", 2, "22222", dme),
                   ("C2", 1, "11111", hospital), ("C2", 2, "22222", hospital))
    assert scrub(engine(tmp_path, ptp=[PRA1]), table, checks=("ptp",)) == []


# --- MUE -----------------------------------------------------------------------------------------

def test_mai_1_is_a_line_edit(tmp_path):
    write_mue(tmp_path, MUE_PRA, [("11111", 2, MAI1, "Anatomic Consideration")])
    schema = CLAIM_SCHEMA.set(CLAIM_SCHEMA.get_field_index("units"), pa.field("units", pa.float64()))
    table = claims(("C1", 1, "11111", {"units": 3.0}), ("C1", 2, "11111", {"units": 2.0}),  # 3 + 2: still no sum
                   ("C2", 1, "11111", {"units": 2.5}), ("C3", 1, "99999", {"units": 50.0}),  # no MUE: no finding
                   schema=schema)
    assert scrub(engine(tmp_path, mue=[MUE_PRA]), table) == [
        {"claim_id": "C1", "line_number": 1, "check": "mue", "severity": "error", "code": "11111",
         "related_line_number": None,
         "reason": "3 units of 11111 on this line exceed the MUE of 2 (MAI 1, line edit; Anatomic Consideration)",
         "reference": "ncci_mue 2026-07-01 MCR_MUE_PractitionerServices_Eff_07-01-2026.csv line 10",
         "suggestion": "bill at most 2 units of 11111 on one line"},
        mue_row("C2", 1, "11111",
                "2.5 units of 11111 on this line exceed the MUE of 2 (MAI 1, line edit; Anatomic Consideration)",
                "bill at most 2 units of 11111 on one line"),
    ]


def test_mai_2_and_3_sum_a_claims_day_per_code_and_setting(tmp_path):
    write_mue(tmp_path, MUE_PRA, [("11111", 1, MAI1, "Clinical: Data"),
                                  ("22222", 2, MAI2, "CMS Policy"),  # line 11
                                  ("33333", 1, MAI3, "Nature of Analyte")])  # line 12
    write_mue(tmp_path, MUE_OPH, [("33333", 5, MAI3, "Nature of Analyte")])
    later = DOS + dt.timedelta(days=1)
    table = claims(
        ("C1", 1, "22222"), ("C1", 2, "22222", {"units": 2}), ("C1", 3, "22222", {"date_of_service": later}),
        ("C2", 1, "33333"), ("C2", 2, "33333"),
        ("C3", 1, "22222", {"units": 2}),  # at the limit
        ("C4", 1, "33333"), ("C4", 2, "33333", {"setting": "outpatient_hospital"}),  # one unit per setting
        ("C5", 1, "22222"), ("C6", 1, "22222"), ("C6", 2, "22222"),  # no member, no provider: per claim
    )
    policy = ("3 units of 22222 on the line's date of service on this claim exceed the MUE of 2 "
              "(MAI 2, date of service edit; CMS Policy)")
    policy_hint = "bill at most 2 units of 22222 per day: MAI 2 is a policy limit, not paid above it on appeal"
    clinical = ("2 units of 33333 on the line's date of service on this claim exceed the MUE of 1 "
                "(MAI 3, date of service edit; Nature of Analyte)")
    clinical_hint = ("bill at most 1 units of 33333 per day, or send documentation of medical necessity on appeal "
                     "(MAI 3 is clinical)")
    assert scrub(engine(tmp_path, mue=[MUE_PRA, MUE_OPH]), table) == [
        mue_row("C1", 1, "22222", policy, policy_hint, row=11),
        mue_row("C1", 2, "22222", policy, policy_hint, row=11),
        mue_row("C2", 1, "33333", clinical, clinical_hint, row=12),
        mue_row("C2", 2, "33333", clinical, clinical_hint, row=12),
    ]


def test_mai_3_sums_a_members_lines_from_one_provider_across_claims(tmp_path):
    write_mue(tmp_path, MUE_PRA, [("33333", 1, MAI3, "Clinical: Data")])
    m1p1 = {"member_id": "M1", "provider_id": "P1"}
    table = claims(
        ("C1", 1, "33333", m1p1), ("C2", 1, "33333", m1p1),  # summed across claims
        ("C3", 1, "33333", {"member_id": "M1", "provider_id": "P2"}),  # another provider
        ("C4", 1, "33333", {"provider_id": "P1"}), ("C5", 1, "33333", {"provider_id": "P1"}),  # no member
        ("C6", 1, "33333", {"member_id": "M2", "provider_id": "P1"}),
        ("C6", 2, "33333", {"member_id": "M2", "provider_id": "P1"}),  # one claim only (current reading)
    )
    crossed = ("2 units of 33333 on the line's date of service for this member and provider exceed the MUE of 1 "
               "(MAI 3, date of service edit; Clinical: Data)")
    on_claim = crossed.replace("for this member and provider", "on this claim")
    hint = ("bill at most 1 units of 33333 per day, or send documentation of medical necessity on appeal "
            "(MAI 3 is clinical)")
    assert scrub(engine(tmp_path, mue=[MUE_PRA]), table) == [
        mue_row("C1", 1, "33333", crossed, hint), mue_row("C2", 1, "33333", crossed, hint),
        mue_row("C6", 1, "33333", on_claim, hint), mue_row("C6", 2, "33333", on_claim, hint),
    ]
    # without a member_id column, provider alone does not join claims
    only_provider = table.drop_columns(["member_id"])
    assert scrub(engine(tmp_path, mue=[MUE_PRA]), only_provider) == [
        mue_row("C6", 1, "33333", on_claim, hint), mue_row("C6", 2, "33333", on_claim, hint)]


NO_RELEASE = "no MUE release in force for {} on the line's date of service"
NO_RELEASE_HINT = ("load the MUE tables of the quarter holding the line's date of service "
                   "(codesets load ncci_mue FILE...)")


def test_mue_release_windows_and_the_no_release_finding(tmp_path):
    first, second = "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", MUE_PRA
    write_mue(tmp_path, first, [("22222", 1, MAI1, "Clinical: Data")])
    write_mue(tmp_path, second, [("22222", 3, MAI1, "Clinical: Data")])
    days = [dt.date(2025, 12, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 1)]
    table = claims(*[(f"C{i}", 1, "22222", {"units": 2, "date_of_service": d}) for i, d in enumerate(days, 1)],
                   ("C4", 1, "E0100", {"setting": "dme", "date_of_service": dt.date(2026, 7, 1)}))
    assert scrub(engine(tmp_path, mue=[second, first]), table) == [
        {"claim_id": "C1", "line_number": 1, "check": "mue", "severity": "info", "code": "22222",
         "related_line_number": None, "reason": NO_RELEASE.format("practitioner"),
         "reference": None,
         "suggestion": NO_RELEASE_HINT},
        mue_row("C2", 1, "22222",
                "2 units of 22222 on this line exceed the MUE of 1 (MAI 1, line edit; Clinical: Data)",
                "bill at most 1 units of 22222 on one line", file=first, release="2026-01-01"),
        {"claim_id": "C4", "line_number": 1, "check": "mue", "severity": "info", "code": "E0100",
         "related_line_number": None, "reason": NO_RELEASE.format("dme"),
         "reference": None,
         "suggestion": NO_RELEASE_HINT},
    ]


def test_no_finding_writes_a_date_of_service_or_a_value_without_a_codes_shape(tmp_path):
    """PHI: a birth date typed as the date of service, a name or an SSN as the procedure code."""
    write_mue(tmp_path, MUE_PRA, [("22222", 1, MAI2, "CMS Policy")])
    born = dt.date(1931, 7, 19)
    table = claims(("C1", 1, "ZELDA", {"date_of_service": born}), ("C1", 2, "987-65-4329", {"date_of_service": born}),
                   ("C1", 3, "0504T", {"date_of_service": born}),
                   ("C2", 1, "22222", {"units": 2}))
    assert de.PROCEDURE_SHAPE.pattern == PROCEDURE_SHAPE  # the SQL's shape, as codesets.core.codes states it
    rows = scrub(engine(tmp_path, mue=[MUE_PRA]), table)
    none = {"check": "mue", "severity": "info", "related_line_number": None,
            "reason": NO_RELEASE.format("practitioner"), "reference": None, "suggestion": NO_RELEASE_HINT}
    assert rows == [
        {"claim_id": "C1", "line_number": 1, "code": None, **none},
        {"claim_id": "C1", "line_number": 2, "code": None, **none},
        {"claim_id": "C1", "line_number": 3, "code": "0504T", **none},
        mue_row("C2", 1, "22222", "2 units of 22222 on the line's date of service on this claim exceed the MUE of 1 "
                "(MAI 2, date of service edit; CMS Policy)",
                "bill at most 1 units of 22222 per day: MAI 2 is a policy limit, not paid above it on appeal"),
    ]
    shown = repr(rows)
    for value in ("1931", "07-19", "2026-07-15", "ZELDA", "987-65"):
        assert value not in shown


# --- input, order, shapes ------------------------------------------------------------------------

def test_lines_breaking_input_rules_take_no_part(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL),
                               ("G0001", "22222", "20240101", "*", 0, MUTUAL)])
    table = claims(
        ("C1", 1, "11111"), ("C1", 2, "22222"), ("C1", 2, "22222"),  # a repeated line number: neither copy
        ("C2", 1, "11111"), ("C2", 2, "22222", {"setting": "home"}),
        ("C3", 1, "11111", {"units": 0}), ("C3", 2, "22222"),
        ("C4", 1, " "), ("C4", 2, "22222"), ("C4", 0, "11111"),
        ("C5", 1, " g0001 ", {"setting": " Practitioner "}), ("C5", 2, "22222", {"setting": None}),
        (" ", 1, "11111"), (" ", 2, "22222"),
    )
    assert scrub(engine(tmp_path, ptp=[PRA1]), table, checks=("ptp",)) == [
        ptp_row("C5", 2, "22222", 1, "G0001", 0, MUTUAL, PRA1, 8)]


def test_the_bounds_of_units_line_number_and_date_are_those_of_the_sql(tmp_path):
    from codesets.scrub.claims import MAX_UNITS

    assert de.MAX_UNITS == MAX_UNITS == 99_999
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL)])
    schema = pa.schema([(f.name, pa.int64() if f.name in ("line_number", "units") else f.type) for f in CLAIM_SCHEMA])
    table = claims(
        ("C1", 1, "11111", {"units": 100_000}), ("C1", 2, "22222"),  # above the most one line may bill
        ("C2", 1, "11111", {"units": 99_999}), ("C2", 2, "22222"),  # the most: checked
        ("C3", 2_147_483_648, "11111"), ("C3", 2, "22222"),  # no INTEGER
        ("C4", 2_147_483_647, "11111"), ("C4", 2, "22222"),  # the last INTEGER
        schema=schema)
    assert scrub(engine(tmp_path, ptp=[PRA1]), table, checks=("ptp",)) == [
        ptp_row("C2", 2, "22222", 1, "11111", 0, MUTUAL, PRA1, 7),
        ptp_row("C4", 2, "22222", 2_147_483_647, "11111", 0, MUTUAL, PRA1, 7)]
    text = pa.table({"claim_id": ["C1", "C1", "C2", "C2"], "line_number": ["1", "2", "2147483648", "2"],
                     "date_of_service": ["2026-07-15"] * 4, "procedure_code": ["11111", "22222"] * 2,
                     "units": ["1e5", "", "1", ""]})
    assert scrub(engine(tmp_path, ptp=[PRA1]), text, checks=("ptp",)) == []
    days = [(DOS - dt.date(1970, 1, 1)).days, 2_147_483_647, -2_147_483_647]  # DuckDB's +/-infinity in Parquet
    infinite = claims(("C1", 1, "11111"), ("C1", 2, "22222"), ("C1", 3, "22222")).set_column(
        2, "date_of_service", pa.array(days, pa.int32()).cast(pa.date32()))
    assert scrub(engine(tmp_path, ptp=[PRA1]), infinite, checks=("ptp",)) == []


def test_text_columns_as_read_from_csv(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL)])
    write_mue(tmp_path, MUE_PRA, [("22222", 1, MAI2, "CMS Policy")])
    rows = [("C1", "1", "2026-07-15", "11111", "", "1"), ("C1", "2", "2026-07-15", "22222", "", "2"),
            ("C2", "1", "2026-02-30", "11111", "", ""), ("C2", "2", "2026-07-15", "22222", "", "")]
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(
        ["claim_id", "line_number", "date_of_service", "procedure_code", "modifier_1", "units"])})
    assert scrub(engine(tmp_path, ptp=[PRA1], mue=[MUE_PRA]), table) == [
        mue_row("C1", 2, "22222", "2 units of 22222 on the line's date of service on this claim exceed the MUE of 1 "
                "(MAI 2, date of service edit; CMS Policy)",
                "bill at most 1 units of 22222 per day: MAI 2 is a policy limit, not paid above it on appeal"),
        ptp_row("C1", 2, "22222", 1, "11111", 0, MUTUAL, PRA1, 7),
    ]


def test_findings_are_sorted_and_typed(tmp_path):
    write_ptp(tmp_path, PRA1, [("11111", "22222", "20240101", "*", 0, MUTUAL),
                               ("22222", "11111", "20240101", "*", 1, MANUAL)])
    write_mue(tmp_path, MUE_PRA, [("11111", 1, MAI1, "Clinical: Data")])
    table = claims(("C2", 1, "22222"), ("C2", 2, "11111", {"units": 2}), ("C1", 3, "11111"), ("C1", 1, "22222"))
    result = engine(tmp_path, ptp=[PRA1], mue=[MUE_PRA]).scrub(table)
    assert result.column_names == list(de.FINDING_COLUMNS)
    assert [str(f.type) for f in result.schema] == ["string", "int64", "string", "string", "string", "int64",
                                                   "string", "string", "string"]
    assert [(r["claim_id"], r["line_number"], r["check"], r["related_line_number"]) for r in result.to_pylist()] == [
        ("C1", 1, "ptp", 3), ("C1", 3, "ptp", 1), ("C2", 1, "ptp", 2), ("C2", 2, "mue", None), ("C2", 2, "ptp", 1)]
    empty = engine(tmp_path, ptp=[PRA1]).scrub(table.slice(0, 0))
    assert empty.num_rows == 0 and empty.schema == result.schema


def test_units_print_whole_or_shortest():
    assert [de.number(v) for v in (3, 3.0, 2.5, 0.1 + 0.2, 10**6)] == ["3", "3", "2.5", "0.30000000000000004",
                                                                       "1000000"]


def test_physical_line_numbers_of_the_real_excerpts(tmp_path):
    real_ptp = SHARED_DATA / "ncci" / "ccipra-v322r0-f1.excerpt.txt"
    real_mue = SHARED_DATA / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
    need_shared(real_ptp, real_mue)
    shutil.copy(real_ptp, tmp_path / PRA1)
    shutil.copy(real_mue, tmp_path / MUE_PRA)
    eng = engine(tmp_path, ptp=[PRA1], mue=[MUE_PRA])
    limits = eng.mue["practitioner"][0].limits
    assert limits["0001U"] == (1, 2, "Code Descriptor / CPT Instruction", 10)  # the doc's line 10
    assert limits["0002M"][3] == 11
    assert eng.ptp["practitioner"]["0001A"]["0591T"] == [
        (1, dt.date(2022, 1, 1), dt.date(2023, 12, 31), MANUAL, PRA1, 7)]
    assert "90473" not in eng.ptp["practitioner"]["0001A"]  # indicator 9
    table = claims(("C1", 1, "0001A", {"date_of_service": dt.date(2023, 6, 1)}),
                   ("C1", 2, "36592", {"date_of_service": dt.date(2023, 6, 1)}))
    assert scrub(eng, table, checks=("ptp",)) == [ptp_row("C1", 2, "36592", 1, "0001A", 0, MANUAL, PRA1, 11)]


# --- the generated quarter -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_quarter(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dict_engine") / "v322r0"
    gen.generate(out, "v322r0", seed=1, ptp_rows=3_000, mue_rows=500, claims=2_000)
    return out


def test_generated_quarter_gives_findings_of_every_kind(small_quarter):
    eng = de.DictEngine.from_folder(small_quarter)
    assert set(eng.ptp_release.items()) == {("practitioner", "v322r0"), ("outpatient_hospital", "v322r0")}
    assert {s: [r.release_id for r in rs] for s, rs in eng.mue.items()} == {
        "practitioner": ["2026-07-01"], "outpatient_hospital": ["2026-07-01"], "dme": ["2026-07-01"]}
    claims_table = pq.read_table(small_quarter / "claims.parquet")
    findings = eng.scrub(claims_table)
    rows = findings.to_pylist()
    kinds = {
        "ptp 0": [r for r in rows if "modifier indicator 0" in r["reason"]],
        "ptp 1": [r for r in rows if "modifier indicator 1" in r["reason"]],
        "mai 1": [r for r in rows if "(MAI 1," in r["reason"]],
        "mai 2": [r for r in rows if "(MAI 2," in r["reason"]],
        "mai 3": [r for r in rows if "(MAI 3," in r["reason"]],
        "no release": [r for r in rows if r["severity"] == "info"],
    }
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}
    assert rows == sorted(rows, key=lambda r: de._order(tuple(r.values())))
    assert eng.scrub(claims_table).equals(findings)  # a second run gives the same
    # every reference names the physical line of the row that fired
    cache: dict[str, list[str]] = {}
    for r in rows:
        if r["reference"] is None:
            continue
        source, release, file, _, line = r["reference"].split(" ")
        lines = cache.setdefault(file, (small_quarter / file).read_bytes().decode("latin-1").split("\n"))
        fields = lines[int(line) - 1].rstrip("\r").split("\t" if source == "ncci_ptp" else ",")
        if source == "ncci_ptp":
            col1 = r["reason"].split(" ")[7]
            assert (fields[0], fields[1]) == (col1, r["code"]) and release == "v322r0"
            assert fields[6] == r["reason"].split("): ", 1)[1]
        else:
            assert fields[0] == r["code"] and release == "2026-07-01"
