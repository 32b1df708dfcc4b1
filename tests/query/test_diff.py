"""Diffs between releases (codesets.query.changes) and the change views, on hand-made files in
the exact CMS layouts and on the real GEMs: every change type asserted row by row, the views
agreeing with the diff, and the PTP diff held to a Python twin for any two quarters in any load order."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import SourceUnknown, UsageError
from codesets.query import changes as diffing
from codesets import query
from codesets.core import sqlfiles
from codesets.warehouse.load import load
from codesets.warehouse.storage import Warehouse
from tests.conftest import GEMS_2017, GEMS_2018, ROOT, need_shared

SAMPLES = ROOT / "codesets" / "samples"
STD = "Standards of medical / surgical practice"
MISUSE = "Misuse of column two code with column one code"
MUTEX = "Mutually exclusive procedures"
MANUAL = "CPT Manual or CMS manual coding instruction"
POLICY, CLINICAL, LINE = "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical", "1 Line Edit"


# --- writing files in the CMS layouts ------------------------------------------------------------


def ptp_header() -> bytes:
    """The six header lines of a PTP file (CRLF), as the bundled sample has them."""
    lines = (SAMPLES / "ncci_ptp" / "ccipra-sample-f1.txt").read_bytes().split(b"\r\n")
    return b"".join(line + b"\r\n" for line in lines[:6])


def write_ptp(folder, name: str, rows) -> object:
    """A PTP file: the header, then one tab-separated CRLF line per (c1, c2, prior, eff, del, ind, rationale)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(ptp_header() + b"".join("\t".join(row).encode("latin-1") + b"\r\n" for row in rows))
    return path


MUE_TABLES = {
    "practitioner": ("PractitionerServices", "sample_MCR_MUE_PractitionerServices.csv"),
    "outpatient_hospital": ("OutpatientHospitalServices", "sample_MCR_MUE_OutpatientHospitalServices.csv"),
    "dme": ("DMESupplierServices", "sample_MCR_MUE_DMESupplierServices.csv"),
}


def write_mue(folder, service_type: str, effective: str, rows) -> object:
    """An MUE table named MCR_MUE_<table>_Eff_<MM-DD-YYYY>.csv: the sample's notice and header, then ``rows``."""
    table, sample = MUE_TABLES[service_type]
    text = (SAMPLES / "ncci_mue" / sample).read_bytes()
    head = text[: text.index(b"MUE Rationale\r\n") + len(b"MUE Rationale\r\n")]  # notice (7 lines with the header)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"MCR_MUE_{table}_Eff_{effective}.csv"
    path.write_bytes(head + b"".join(",".join(row).encode("latin-1") + b"\r\n" for row in rows))
    return path


def rows_of(table, columns):
    return [tuple(row[c] for c in columns) for row in table.to_pylist()]


def view_rows(wh, view: str, release_id: str):
    """The view's rows of one release, without the two release columns, in the diff's order."""
    order = ", ".join(next(c for c in diffing.comparisons().values() if c.view == view).order)
    with wh.connect() as con:
        return con.sql(
            f"SELECT * EXCLUDE (release_id, previous_release_id) FROM {view} WHERE release_id = ? ORDER BY {order}",
            params=[release_id],
        ).to_arrow_table()


# --- NCCI PTP: one quarter against the next, every change type --------------------------------------

PTP_A = [  # ccipra-v322r0-f1.txt, lines 7..
    ("11042", "11045", "", "20090101", "*", "1", STD),  # 7 unchanged
    ("11042", "97597", "", "20090101", "*", "1", MISUSE),  # 8 deleted
    ("11055", "11056", "", "20100101", "20201231", "1", MUTEX),  # 9 unchanged; added again under a new date
    ("20610", "20604", "", "20150101", "20181231", "1", STD),  # 10 deletion taken back: changed
    ("29881", "29877", "", "20100101", "*", "0", STD),  # 11 reindicated
    ("29881", "29880", "", "20120101", "20151231", "1", MUTEX),  # 12 gone from the file: removed
    ("29881", "G0289", "", "20100101", "*", "1", MANUAL),  # 13 rationale: changed
    ("36415", "36416", "*", "19960101", "*", "1", MANUAL),  # 14 unchanged
    ("43239", "43235", "", "20150101", "*", "0", STD),  # 15 } one key on two lines: the indicator-1 line
    ("43239", "43235", "", "20150101", "*", "1", MUTEX),  # 16 } changes rationale, the 0 line becomes a 9
    ("64483", "64484", "", "20200101", "20200101", "9", STD),  # 17 } one key under 9 and 0: the 9 line
    ("64483", "64484", "", "20200101", "*", "0", STD),  # 18 } changes rationale, the 0 line is deleted
    ("96360", "96365", "", "20100101", "*", "1", MUTEX),  # 19 deleted and re-indicated at once: deleted
    ("99211", "99212", "", "20110101", "*", "1", STD),  # 20 } the same line twice; once in B: one removed
    ("99211", "99212", "", "20110101", "*", "1", STD),  # 21 }
    ("99213", "99214", "", "20110101", "*", "0", STD),  # 22 once; twice in B: one added
]
PTP_B = [  # ccipra-v323r0-f1.txt, lines 7..
    ("0001A", "0002A", "", "20261001", "*", "1", MISUSE),  # 7 added
    ("11042", "11045", "", "20090101", "*", "1", STD),  # 8
    ("11042", "97597", "", "20090101", "20260930", "1", MISUSE),  # 9
    ("11055", "11056", "", "20100101", "20201231", "1", MUTEX),  # 10
    ("11055", "11056", "", "20261001", "*", "1", MUTEX),  # 11 added
    ("20610", "20604", "", "20150101", "*", "1", STD),  # 12
    ("29881", "29877", "", "20100101", "*", "1", STD),  # 13
    ("29881", "G0289", "", "20100101", "*", "1", MUTEX),  # 14
    ("36415", "36416", "*", "19960101", "*", "1", MANUAL),  # 15
    ("43239", "43235", "", "20150101", "20150101", "9", STD),  # 16
    ("43239", "43235", "", "20150101", "*", "1", STD),  # 17
    ("64483", "64484", "", "20200101", "20200101", "9", MUTEX),  # 18
    ("64483", "64484", "", "20200101", "20261231", "0", STD),  # 19
    ("96360", "96365", "", "20100101", "20260930", "0", MUTEX),  # 20
    ("99211", "99212", "", "20110101", "*", "1", STD),  # 21
    ("99213", "99214", "", "20110101", "*", "0", STD),  # 22
    ("99213", "99214", "", "20110101", "*", "0", STD),  # 23 added
]
OPH_A = [("11042", "11045", "", "20090101", "*", "1", STD), ("29881", "29877", "", "20100101", "*", "0", STD)]
OPH_B = [("11042", "11045", "", "20090101", "20260930", "1", STD), ("29881", "29877", "", "20100101", "*", "0", STD)]

PRA_A, PRA_B, OPH_A_FILE, OPH_B_FILE = "ccipra-v322r0-f1.txt", "ccipra-v323r0-f1.txt", "ccioph-v322r0-f1.txt", "ccioph-v323r0-f1.txt"
D = date.fromisoformat

# change, setting, c1, c2, effective, old indicator, new indicator, old deletion, new deletion, old line, new line
PTP_EXPECTED = [
    ("added", "practitioner", "0001A", "0002A", D("2026-10-01"), None, "1", None, None, None, (PRA_B, 7)),
    ("deleted", "practitioner", "11042", "97597", D("2009-01-01"), "1", "1", None, D("2026-09-30"), (PRA_A, 8), (PRA_B, 9)),
    ("added", "practitioner", "11055", "11056", D("2026-10-01"), None, "1", None, None, None, (PRA_B, 11)),
    ("changed", "practitioner", "20610", "20604", D("2015-01-01"), "1", "1", D("2018-12-31"), None, (PRA_A, 10), (PRA_B, 12)),
    ("reindicated", "practitioner", "29881", "29877", D("2010-01-01"), "0", "1", None, None, (PRA_A, 11), (PRA_B, 13)),
    ("removed", "practitioner", "29881", "29880", D("2012-01-01"), "1", None, D("2015-12-31"), None, (PRA_A, 12), None),
    ("changed", "practitioner", "29881", "G0289", D("2010-01-01"), "1", "1", None, None, (PRA_A, 13), (PRA_B, 14)),
    ("changed", "practitioner", "43239", "43235", D("2015-01-01"), "1", "1", None, None, (PRA_A, 16), (PRA_B, 17)),
    ("deleted", "practitioner", "43239", "43235", D("2015-01-01"), "0", "9", None, D("2015-01-01"), (PRA_A, 15), (PRA_B, 16)),
    ("changed", "practitioner", "64483", "64484", D("2020-01-01"), "9", "9", D("2020-01-01"), D("2020-01-01"), (PRA_A, 17), (PRA_B, 18)),
    ("deleted", "practitioner", "64483", "64484", D("2020-01-01"), "0", "0", None, D("2026-12-31"), (PRA_A, 18), (PRA_B, 19)),
    ("deleted", "practitioner", "96360", "96365", D("2010-01-01"), "1", "0", None, D("2026-09-30"), (PRA_A, 19), (PRA_B, 20)),
    ("removed", "practitioner", "99211", "99212", D("2011-01-01"), "1", None, None, None, (PRA_A, 21), None),
    ("added", "practitioner", "99213", "99214", D("2011-01-01"), None, "0", None, None, None, (PRA_B, 23)),
    ("deleted", "outpatient_hospital", "11042", "11045", D("2009-01-01"), "1", "1", None, D("2026-09-30"), (OPH_A_FILE, 7), (OPH_B_FILE, 7)),
]
PTP_COLUMNS = ("change", "setting", "column1_code", "column2_code", "effective_date", "old_modifier_indicator",
               "new_modifier_indicator", "old_deletion_date", "new_deletion_date", "old_source_file", "old_line_no",
               "new_source_file", "new_line_no")


def flat(expected):
    *head, old, new = expected
    return (*head, *(old or (None, None)), *(new or (None, None)))


def in_diff_order(rows):
    """PTP_EXPECTED in the diff's order: setting, codes, effective date, change, old line, new line."""
    def key(row):
        return tuple((value is None, value) for value in (row[1], row[2], row[3], row[4], row[0], *row[9:]))
    return sorted(rows, key=key)


@pytest.fixture(scope="module")
def ptp_warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ptp")
    wh = Warehouse(folder / "wh")
    load(wh, "ncci_ptp", [write_ptp(folder / "a", PRA_A, PTP_A), write_ptp(folder / "a", OPH_A_FILE, OPH_A)])
    load(wh, "ncci_ptp", [write_ptp(folder / "b", PRA_B, PTP_B), write_ptp(folder / "b", OPH_B_FILE, OPH_B)])
    return wh


def test_ptp_every_change_type(ptp_warehouse):
    result = diffing.diff(ptp_warehouse, "ncci_ptp", "v322r0", "v323r0")
    assert result.table.column_names[0] == "change"
    assert rows_of(result.table, PTP_COLUMNS) == in_diff_order([flat(e) for e in PTP_EXPECTED])
    assert result.parts == ["outpatient_hospital", "practitioner"] and result.notes == []
    assert result.summary() == [
        "ncci_ptp v322r0 -> v323r0 added: 3 edit lines (outpatient_hospital 0, practitioner 3)",
        "ncci_ptp v322r0 -> v323r0 deleted: 5 edit lines (outpatient_hospital 1, practitioner 4)",
        "ncci_ptp v322r0 -> v323r0 reindicated: 1 edit lines (outpatient_hospital 0, practitioner 1)",
        "ncci_ptp v322r0 -> v323r0 changed: 4 edit lines (outpatient_hospital 0, practitioner 4)",
        "ncci_ptp v322r0 -> v323r0 removed: 2 edit lines (outpatient_hospital 0, practitioner 2)",
    ]


def test_ptp_old_and_new_values_and_provenance(ptp_warehouse):
    table = query.diff("ncci_ptp", "v322r0", "v323r0", warehouse=ptp_warehouse.path)
    rationale = {
        (r["column1_code"], r["column2_code"], r["change"]): (r["old_rationale"], r["new_rationale"], r["old_prior_1996"],
                                                              r["new_prior_1996"])
        for r in table.to_pylist()
    }
    assert rationale[("29881", "G0289", "changed")] == (MANUAL, MUTEX, False, False)
    assert rationale[("0001A", "0002A", "added")] == (None, MISUSE, None, False)
    assert rationale[("29881", "29880", "removed")] == (MUTEX, None, False, None)


def test_ptp_reversed_reads_from_a_to_b(ptp_warehouse):
    result = diffing.diff(ptp_warehouse, "ncci_ptp", "v323r0", "v322r0")
    counts = {change: sum(per.values()) for change, per in result.counts().items()}
    # what was added is removed; a deletion taken back is a change, or a re-indication when the
    # indicator changed with it; a deletion is what was a deletion taken back
    assert counts == {"added": 2, "deleted": 1, "reindicated": 3, "changed": 6, "removed": 3}
    assert result.notes == ["v323r0 takes effect after v322r0 (2026-10-01 > 2026-07-01): the changes read from "
                            "v323r0 to v322r0; give the older release first to see what the newer one changed"]
    assert diffing.diff(ptp_warehouse, "ncci_ptp", "v323r0", "v323r0").table.num_rows == 0


def test_ptp_view_agrees_with_the_diff(ptp_warehouse):
    assert view_rows(ptp_warehouse, "ptp_changes", "v323r0") == diffing.diff(
        ptp_warehouse, "ncci_ptp", "v322r0", "v323r0").table
    with ptp_warehouse.connect() as con:
        assert con.execute("SELECT DISTINCT release_id, previous_release_id FROM ptp_changes").fetchall() == [
            ("v323r0", "v322r0")
        ]


# --- NCCI MUE ---------------------------------------------------------------------------------------

MUE_A = [
    ("0001U", "1", POLICY, "Code Descriptor / CPT Instruction"),  # line 8: unchanged
    ("20610", "2", POLICY, "Anatomic Consideration"),  # raised
    ("36415", "2", CLINICAL, "Clinical: Data"),  # lowered, and its MAI changed
    ("64483", "1", LINE, "Anatomic Consideration"),  # mai_changed
    ("71046", "2", CLINICAL, "Clinical: Data"),  # rationale_changed
    ("85025", "1", CLINICAL, "Nature of Analyte"),  # removed
    ("90471", "1", POLICY, "Code Descriptor / CPT Instruction"),  # the indicator's wording: changed
]
MUE_B = [
    ("0001U", "1", POLICY, "Code Descriptor / CPT Instruction"),
    ("20610", "3", POLICY, "Anatomic Consideration"),
    ("36415", "1", POLICY, "Clinical: Data"),
    ("64483", "1", POLICY, "Anatomic Consideration"),
    ("71046", "2", CLINICAL, "Anatomic Consideration"),
    ("90471", "1", "2 Date of Service Edit - Policy", "Code Descriptor / CPT Instruction"),
    ("99213", "1", POLICY, "Code Descriptor / CPT Instruction"),  # added
]
MUE_COLUMNS = ("change", "service_type", "code", "old_mue_value", "new_mue_value", "old_mai", "new_mai",
               "old_rationale", "new_rationale", "old_line_no", "new_line_no")


@pytest.fixture(scope="module")
def mue_warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mue")
    wh = Warehouse(folder / "wh")
    dme = [("A4253", "3", CLINICAL, "Nature of Equipment")]
    load(wh, "ncci_mue", [write_mue(folder / "a", "practitioner", "07-01-2026", MUE_A),
                          write_mue(folder / "a", "dme", "07-01-2026", dme)])
    load(wh, "ncci_mue", [write_mue(folder / "b", "practitioner", "10-01-2026", MUE_B),
                          write_mue(folder / "b", "dme", "10-01-2026", [("A4253", "4", *dme[0][2:])])])
    return wh


def test_mue_every_change_type(mue_warehouse):
    result = diffing.diff(mue_warehouse, "ncci_mue", "2026-07-01", "2026-10-01")
    anatomic, data, descriptor = "Anatomic Consideration", "Clinical: Data", "Code Descriptor / CPT Instruction"
    assert rows_of(result.table, MUE_COLUMNS) == [
        ("raised", "dme", "A4253", 3, 4, 3, 3, "Nature of Equipment", "Nature of Equipment", 8, 8),
        ("raised", "practitioner", "20610", 2, 3, 2, 2, anatomic, anatomic, 9, 9),
        ("lowered", "practitioner", "36415", 2, 1, 3, 2, data, data, 10, 10),
        ("mai_changed", "practitioner", "64483", 1, 1, 1, 2, anatomic, anatomic, 11, 11),
        ("rationale_changed", "practitioner", "71046", 2, 2, 3, 3, data, anatomic, 12, 12),
        ("removed", "practitioner", "85025", 1, None, 3, None, "Nature of Analyte", None, 13, None),
        ("changed", "practitioner", "90471", 1, 1, 2, 2, descriptor, descriptor, 14, 13),
        ("added", "practitioner", "99213", None, 1, None, 2, None, descriptor, None, 14),
    ]
    assert result.summary() == [
        "ncci_mue 2026-07-01 -> 2026-10-01 added: 1 codes (dme 0, practitioner 1)",
        "ncci_mue 2026-07-01 -> 2026-10-01 raised: 2 codes (dme 1, practitioner 1)",
        "ncci_mue 2026-07-01 -> 2026-10-01 lowered: 1 codes (dme 0, practitioner 1)",
        "ncci_mue 2026-07-01 -> 2026-10-01 mai_changed: 1 codes (dme 0, practitioner 1)",
        "ncci_mue 2026-07-01 -> 2026-10-01 rationale_changed: 1 codes (dme 0, practitioner 1)",
        "ncci_mue 2026-07-01 -> 2026-10-01 changed: 1 codes (dme 0, practitioner 1)",
        "ncci_mue 2026-07-01 -> 2026-10-01 removed: 1 codes (dme 0, practitioner 1)",
    ]
    texts = {r["code"]: (r["old_mai_text"], r["new_mai_text"]) for r in result.table.to_pylist()}
    assert texts["90471"] == (POLICY, "2 Date of Service Edit - Policy")


def test_mue_view_agrees_with_the_diff(mue_warehouse):
    assert view_rows(mue_warehouse, "mue_changes", "2026-10-01") == diffing.diff(
        mue_warehouse, "ncci_mue", "2026-07-01", "2026-10-01").table


def test_a_part_one_release_lacks_is_not_compared(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    load(wh, "ncci_mue", [write_mue(tmp_path / "a", "practitioner", "07-01-2026", MUE_A),
                          write_mue(tmp_path / "a", "dme", "07-01-2026", [("A4253", "3", CLINICAL, "x")])])
    load(wh, "ncci_mue", [write_mue(tmp_path / "b", "practitioner", "10-01-2026", MUE_A[:-1])])
    result = diffing.diff(wh, "ncci_mue", "2026-07-01", "2026-10-01")
    assert rows_of(result.table, ("change", "service_type", "code")) == [("removed", "practitioner", "90471")]
    assert result.parts == ["practitioner"] and result.notes == ["dme: only in 2026-07-01; not compared"]
    assert result.summary()[0] == "ncci_mue 2026-07-01 -> 2026-10-01 added: 0 codes"
    load(wh, "ncci_mue", [write_mue(tmp_path / "c", "dme", "01-01-2027", [("A4253", "4", CLINICAL, "x")])])
    with pytest.raises(UsageError, match=r"^releases 2026-10-01 \(practitioner\) and 2027-01-01 \(dme\) of ncci_mue "
                                         r"have no part in common; nothing to compare$"):
        diffing.diff(wh, "ncci_mue", "2026-10-01", "2027-01-01")


# --- GEMs: the real FY2017 and FY2018 files -----------------------------------------------------------


@pytest.fixture(scope="module")
def gem_warehouse(tmp_path_factory):
    need_shared(*GEMS_2017, *GEMS_2018.values())
    wh = Warehouse(tmp_path_factory.mktemp("gems") / "wh")
    load(wh, "gems", GEMS_2017)
    load(wh, "gems", list(GEMS_2018.values()))
    return wh


def test_gems_2018_against_2017(gem_warehouse):
    result = diffing.diff(gem_warehouse, "gems", "2017", "2018")
    assert result.counts() == {
        "added": {"icd10cm-icd9cm": 486, "icd9cm-icd10cm": 310},
        "removed": {"icd10cm-icd9cm": 191, "icd9cm-icd10cm": 140},
    }
    assert result.notes == ["icd10pcs-icd9pcs, icd9pcs-icd10pcs: only in 2018; not compared"]
    rows = rows_of(result.table, ("change", "source_system", "source_code", "target_code", "flags", "source_file", "line_no"))
    # FY2018 split A04.7 (C. difficile enterocolitis) into A04.71 and A04.72
    assert rows[:3] == [
        ("removed", "icd10cm", "A047", "00845", "00000", "2017_I10gem.txt", 41),
        ("added", "icd10cm", "A0471", "00845", "10000", "2018_I10gem.txt", 41),
        ("added", "icd10cm", "A0472", "00845", "10000", "2018_I10gem.txt", 42),
    ]
    reverse = diffing.diff(gem_warehouse, "gems", "2018", "2017").counts()
    assert reverse == {"added": {"icd10cm-icd9cm": 191, "icd9cm-icd10cm": 140},
                       "removed": {"icd10cm-icd9cm": 486, "icd9cm-icd10cm": 310}}


def test_gem_view_agrees_with_the_diff(gem_warehouse):
    assert view_rows(gem_warehouse, "gem_changes", "2018") == diffing.diff(gem_warehouse, "gems", "2017", "2018").table


@pytest.mark.parametrize(("view", "fixture"), [
    ("ptp_changes", "ptp_warehouse"), ("mue_changes", "mue_warehouse"), ("gem_changes", "gem_warehouse"),
])
def test_change_views_keep_their_grain(request, view, fixture):
    from tests.warehouse.test_views import grain_violations

    wh = request.getfixturevalue(fixture)
    with wh.connect() as con:
        assert con.execute(f"SELECT COUNT(*) FROM {view}").fetchone()[0] > 0
        assert grain_violations(con, next(v for v in sqlfiles.views() if v.name == view)) == []


# --- what cannot be compared ---------------------------------------------------------------------------


def test_unknown_source_and_release_name_the_known_ones(ptp_warehouse, tmp_path):
    with pytest.raises(SourceUnknown, match=r"no diff for source 'cpt'; diff compares gems, ncci_mue, ncci_ptp"):
        diffing.diff(Warehouse(tmp_path / "nowhere"), "cpt", "a", "b")  # said before the warehouse is looked at
    with pytest.raises(UsageError, match=r"no release 'v999r0' of ncci_ptp; its releases: v322r0, v323r0$"):
        diffing.diff(ptp_warehouse, "ncci_ptp", "v322r0", "v999r0")
    with pytest.raises(UsageError, match=r"no release '2017' of gems; its releases: none yet"):
        diffing.diff(ptp_warehouse, "gems", "2017", "2018")


# --- the PTP diff against a Python twin, any two quarters, any load order ------------------------------
# The twin (tests only; the product never calls it) states the rules of ptp_changes.sql per line:
# match equal lines one to one (the earlier lines of a content first), then pair what is left of a
# key under the same indicator, then whatever the indicator, each in the view's order.

CONTENT = ("column1_code", "column2_code", "effective_date", "modifier_indicator", "deletion_date", "rationale",
           "prior_1996")


def twin_diff(old_rows, new_rows):
    def by(rows, key, order):
        groups = defaultdict(list)
        for row in rows:
            groups[key(row)].append(row)
        return {k: sorted(v, key=order) for k, v in groups.items()}

    def pair(old, new, key, order):
        olds, news = by(old, key, order), by(new, key, order)
        pairs, old_left, new_left = [], [], []
        for k in set(olds) | set(news):
            o, n = olds.get(k, []), news.get(k, [])
            pairs += list(zip(o, n))
            old_left += o[len(n):]
            new_left += n[len(o):]
        return pairs, old_left, new_left

    def place(row):
        return (row["source_file"], row["line_no"])

    def rest(row):  # deletion date NULLS FIRST, rationale, prior-1996 flag, then the line
        return (row["deletion_date"] is not None, row["deletion_date"] or date.min, row["rationale"] is None,
                row["rationale"] or "", row["prior_1996"], *place(row))

    def key(row):
        return (row["column1_code"], row["column2_code"], row["effective_date"])

    _, old, new = pair(old_rows, new_rows, lambda r: tuple(r[c] for c in CONTENT), place)
    first, old, new = pair(old, new, lambda r: (*key(r), r["modifier_indicator"]), rest)
    second, old, new = pair(old, new, key, lambda r: (r["modifier_indicator"], *rest(r)))
    found = []
    for o, n in first + second:
        if o["deletion_date"] is None and n["deletion_date"] is not None:
            change = "deleted"
        elif o["modifier_indicator"] != n["modifier_indicator"]:
            change = "reindicated"
        else:
            change = "changed"
        found.append((change, *place(o), *place(n)))
    found += [("removed", *place(o), None, None) for o in old]
    found += [("added", None, None, *place(n)) for n in new]
    return sorted(found, key=lambda t: tuple((v is None, v) for v in t))


def published(wh, release_id):
    with wh.connect() as con:
        cursor = con.execute(
            f"SELECT setting, {', '.join(CONTENT)}, source_file, line_no FROM ptp_edit_history WHERE release_id = ?",
            [release_id],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def random_quarters(seed: int, quarters: int = 3):
    """Small practitioner quarters with the real files' habits: keys repeated under several indicators
    and dates, equal lines twice, deletions, re-indications, lines dropped and moved between quarters."""
    rng = random.Random(seed)
    codes = ["11042", "11045", "29881", "29877", "64483", "G0289", "99213"]
    dates = ["20100101", "20150101", "20200101"]
    rationales = [STD, MUTEX, MISUSE, MANUAL]

    def line():
        eff = rng.choice(dates)
        deletion = rng.choice(["*", "*", "*", "20211231", eff])
        indicator = "9" if deletion == eff else rng.choice("01")
        return (rng.choice(codes), rng.choice(codes), "", eff, deletion, indicator, rng.choice(rationales))

    rows = [line() for _ in range(rng.randint(5, 25))]
    out = []
    for _ in range(quarters):
        out.append(sorted(rows) if rng.random() < 0.7 else list(rows))
        following = []
        for row in rows:
            roll = rng.random()
            if roll < 0.1:
                continue  # gone
            if roll < 0.2:
                row = (*row[:4], "20261231", *row[5:])  # deleted
            elif roll < 0.3:
                row = (*row[:5], "1" if row[5] == "0" else "0", row[6])  # re-indicated
            elif roll < 0.35:
                row = (*row[:6], rng.choice(rationales))
            following.append(row)
            if roll > 0.95:
                following.append(row)  # the same line twice
        following += [line() for _ in range(rng.randint(0, 6))]
        rows = following
    return out


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), order=st.permutations([0, 1, 2]))
def test_ptp_diff_matches_the_twin_for_any_two_quarters(tmp_path_factory, seed, order):
    folder = tmp_path_factory.mktemp("twin")
    wh = Warehouse(folder / "wh")
    releases = ["v322r0", "v323r0", "v330r0"]
    quarters = random_quarters(seed)
    for index in order:  # the load order changes what each quarter stores, never the answers
        name = f"ccipra-{releases[index]}-f1.txt"
        load(wh, "ncci_ptp", [write_ptp(folder / releases[index], name, quarters[index])])
    rows = {release: published(wh, release) for release in releases}
    for old in releases:
        for new in releases:
            table = diffing.diff(wh, "ncci_ptp", old, new).table
            got = sorted(rows_of(table, ("change", "old_source_file", "old_line_no", "new_source_file", "new_line_no")),
                         key=lambda t: tuple((v is None, v) for v in t))
            assert got == twin_diff(rows[old], rows[new]), (old, new)
    for new, old in (("v323r0", "v322r0"), ("v330r0", "v323r0")):
        assert view_rows(wh, "ptp_changes", new) == diffing.diff(wh, "ncci_ptp", old, new).table
    with wh.connect() as con:
        from tests.warehouse.test_views import grain_violations

        assert grain_violations(con, next(v for v in sqlfiles.views() if v.name == "ptp_changes")) == []
