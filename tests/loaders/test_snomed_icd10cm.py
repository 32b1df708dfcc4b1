"""The SNOMED CT to ICD-10-CM map loader on the bundled sample and hand-made fixtures (Full with
several states, Delta, TSV), one bad file per failure mode, and the views' current state.

Every file here is hand-made in the release format from the specification's exemplars: the map
itself is licensed (UMLS) and no row of it is in the repository."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from codesets.core.errors import LoadRejected
from codesets.core import sctid as _sctid
from codesets.loaders import snomed_icd10cm
from codesets.loaders.contract import Claim
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, catalog_files

DATA = FIXTURES / "snomed_icd10cm"
FULL = DATA / "der2_iisssccRefset_ExtendedMapFull_US1000124_20240301.txt"
DELTA = DATA / "der2_iisssccRefset_ExtendedMapDelta_US1000124_20240901.txt"
TSV = DATA / "tls_Icd10cmHumanReadableMap_US1000124_20240301.tsv"
SAMPLE = snomed_icd10cm.LOADER.sample()
SNAPSHOT = SAMPLE.files[0]


@pytest.fixture(scope="module", autouse=True)
def _model_declared_once():
    snomed_icd10cm.model()  # register pandera's sql_rules check before a load builds it on a thread


def uid(c: str) -> str:
    return f"{c * 8}-0000-4000-8000-{c * 12}"


def current(warehouse, where="TRUE"):
    with warehouse.connect() as con:
        return con.execute(
            "SELECT record_id, effective_time, referenced_component_id, map_group, map_priority, map_target, "
            f"release_id, part FROM snomed_icd10cm_map WHERE {where} ORDER BY referenced_component_id, map_group, "
            "map_priority"
        ).fetchall()


def key_is_unique(warehouse, view, key):
    with warehouse.connect() as con:
        return con.execute(f"SELECT {key}, COUNT(*) FROM {view} GROUP BY ALL HAVING COUNT(*) > 1").fetchall() == []


# --- recognising a file, naming its release ---------------------------------------------------


def test_claim_reads_the_header_and_names_part_and_release(tmp_path):
    claim = snomed_icd10cm.LOADER.claim
    assert claim(FULL) == Claim("full", "20240301")
    assert claim(DELTA) == Claim("delta", "20240901")
    assert claim(TSV) == Claim("tsv", "20240301")
    # no date in the name: the latest effectiveTime; no rendering in the name: an id repeats -> full
    assert claim(SNAPSHOT) == Claim("snapshot", "20240301")
    renamed = tmp_path / "map.txt"
    shutil.copy(FULL, renamed)
    assert claim(renamed) == Claim("full", "20240301")
    shutil.copy(DELTA, renamed)
    assert claim(renamed) == Claim("snapshot", "20240901")
    # a header with a BOM is still the header
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + FULL.read_bytes())
    assert claim(bom) == Claim("full", "20240301")


def test_claim_leaves_other_files_alone(tmp_path):
    claim = snomed_icd10cm.LOADER.claim
    assert claim(FIXTURES / "gems" / "good_i9gem_lf.txt") is None
    assert claim(FIXTURES / "ncci_mue" / "good_practitioner.csv") is None
    other = tmp_path / "der2_cRefset_LanguageSnapshot_US1000124_20240301.txt"
    other.write_text("id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tacceptabilityId\n")
    assert claim(other) is None


def test_effective_from_is_the_release_date():
    effective_from = snomed_icd10cm.LOADER.effective_from
    assert effective_from("20240301") == date(2024, 3, 1)
    assert effective_from("20240230") is None
    assert effective_from("sample") is None


# --- loads --------------------------------------------------------------------------------------


def test_sample_snapshot_loads(warehouse):
    result = load(warehouse, "snomed_icd10cm", list(SAMPLE.files), release_id="sample",
                  effective_from=SAMPLE.effective_from, sample=True)
    assert [(p.part, p.rows) for p in result.parts] == [("description", 27), ("relationship", 17), ("snapshot", 45)]
    # every id of the sample is a valid SCTID (its relationship and description ids are made up, with the
    # partition and Verhoeff check digit of real ones): nothing to note
    assert result.notes == []
    rows = current(warehouse)
    assert len(rows) == 44  # 45 records, one inactive
    assert key_is_unique(warehouse, "snomed_icd10cm_map", "record_id")
    assert key_is_unique(warehouse, "snomed_icd10cm_map_history", "release_id, part, source_file, line_no")
    with warehouse.connect() as con:
        gender = con.execute(
            "SELECT map_priority, map_rule, map_target, map_category_id, map_advice FROM snomed_icd10cm_map "
            "WHERE referenced_component_id = '237145004' ORDER BY map_priority").fetchall()
        groups = con.execute(
            "SELECT map_group, map_target FROM snomed_icd10cm_map WHERE referenced_component_id = '46113002' "
            "ORDER BY map_group").fetchall()
        episode = con.execute(
            "SELECT map_target, target_incomplete FROM snomed_icd10cm_map WHERE referenced_component_id = '203445009'"
        ).fetchall()
        retired = con.execute(
            "SELECT map_target, active, is_current FROM snomed_icd10cm_map_history "
            "WHERE referenced_component_id = '66327008' ORDER BY effective_time").fetchall()
        shape = con.execute(
            "SELECT DISTINCT source_system, target_system, correlation_id, module_id FROM maps "
            "WHERE source = 'snomed_icd10cm'").fetchall()
    assert gender == [
        (1, "IFA 248152002 | Female (finding) |", "N979", "447639009",
         "IF FEMALE (FINDING) CHOOSE N97.9 | MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT"),
        (2, "IFA 248153007 | Male (finding) |", "N469", "447639009",
         "IF MALE (FINDING) CHOOSE N46.9 | MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT"),
        (3, "OTHERWISE TRUE", None, "447638001", "MAP IS CONTEXT DEPENDENT FOR GENDER"),
    ]
    assert groups == [(1, "I110"), (2, "I509")]
    assert episode == [("M8000X?", True)]
    # the older record is inactive: in the history, not in force; its replacement is
    assert retired == [("M2190", False, True), ("M21949", True, True)]
    assert shape == [("snomedct", "icd10cm", "447561005", "731000124108")]


def test_full_keeps_every_state_and_the_current_one_is_the_latest_active(warehouse):
    result = load(warehouse, "snomed_icd10cm", [FULL])
    assert (result.release_id, result.effective_from) == ("20240301", date(2024, 3, 1))
    assert [(p.part, p.rows) for p in result.parts] == [("full", 7)]
    with warehouse.connect() as con:
        history = con.execute(
            "SELECT record_id, effective_time, active, is_current FROM snomed_icd10cm_map_history "
            "ORDER BY record_id, effective_time").fetchall()
    a, b, c, e = uid("a"), uid("b"), uid("c"), uid("e")
    assert history == [
        (a, date(2023, 3, 1), True, False), (a, date(2023, 9, 1), True, False), (a, date(2024, 3, 1), False, True),
        (b, date(2023, 3, 1), True, False), (b, date(2024, 3, 1), True, True),
        (c, date(2023, 3, 1), True, True),
        (e, date(2023, 3, 1), True, True),
    ]
    # A's latest state is inactive: A is out of the map; B's latest state wins
    assert current(warehouse) == [
        (b, date(2024, 3, 1), "2904007", 1, 1, "N468", "20240301", "full"),
        (e, date(2023, 3, 1), "73430006", 1, 1, "P283", "20240301", "full"),
        (c, date(2023, 3, 1), "73430006", 1, 2, "G4730", "20240301", "full"),
    ]
    assert catalog_files(warehouse, "20240301")[FULL.name]["kind"] == "rf2:full"


def test_delta_on_top_of_full_changes_the_current_state(warehouse):
    load(warehouse, "snomed_icd10cm", [FULL])
    result = load(warehouse, "snomed_icd10cm", [DELTA])
    assert (result.release_id, [(p.part, p.rows) for p in result.parts]) == ("20240901", [("delta", 3)])
    b, e, f, d = uid("b"), uid("e"), uid("f"), uid("d")
    assert current(warehouse) == [
        (b, date(2024, 3, 1), "2904007", 1, 1, "N468", "20240301", "full"),
        (f, date(2024, 9, 1), "46113002", 1, 1, "I110", "20240901", "delta"),
        (d, date(2024, 9, 1), "46113002", 2, 1, "I509", "20240901", "delta"),
        (e, date(2023, 3, 1), "73430006", 1, 1, "P283", "20240301", "full"),
    ]
    assert key_is_unique(warehouse, "snomed_icd10cm_map", "record_id")


def test_the_same_state_in_two_renderings_counts_once(warehouse, tmp_path):
    """A release's Snapshot and Full both list B's 2024 state: the map holds it once."""
    snapshot = tmp_path / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_20240301.txt"
    lines = FULL.read_text(encoding="utf-8").splitlines(keepends=True)
    snapshot.write_text(lines[0] + lines[5], encoding="utf-8", newline="")
    load(warehouse, "snomed_icd10cm", [FULL, snapshot])
    rows = current(warehouse)
    assert [(r[0], r[7]) for r in rows] == [(uid("b"), "snapshot"), (uid("e"), "full"), (uid("c"), "full")]
    assert key_is_unique(warehouse, "snomed_icd10cm_map", "record_id")


def test_tsv_loads_quotes_as_text_and_utf8_terms(warehouse):
    result = load(warehouse, "snomed_icd10cm", [TSV])
    assert [(p.part, p.rows) for p in result.parts] == [("tsv", 3)]
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT map_priority, map_rule, map_advice, map_target, map_category_id FROM snomed_icd10cm_map "
            "ORDER BY map_priority").fetchall()
    assert rows == [
        (1, "IFA 445518008 | Age at onset of clinical finding (observable entity) | >= 18.0 years",
         'IF AGE AT ONSET ON OR AFTER 18.0 YEARS CHOOSE H81.09 | "CONSIDER LATERALITY SPECIFICATION"', "H8109",
         "447639009"),
        (2, "IFA 230690007 | Ménière's \"cerebrovascular\" accident (disorder) |", '"Quoted" advice, with a comma',
         "I639", "447639009"),
        (3, "OTHERWISE TRUE", "MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH AVAILABLE DATA", None, "447638001"),
    ]


# --- bad files: refused with file, line, column, value; nothing published ------------------------

GOOD = SNAPSHOT.read_text(encoding="utf-8").splitlines()
HEAD, FIRST, SECOND = GOOD[0], GOOD[1].split("\t"), GOOD[2].split("\t")


def _with(fields, index, value):
    changed = list(fields)
    changed[index] = value
    return "\t".join(changed)


BAD = {
    "column_count": ([HEAD, "\t".join(FIRST[:12])], 2, "field_count", "12"),
    "too_many_fields": ([HEAD, "\t".join(FIRST + ["extra"])], 2, "field_count", "14"),
    "refset_id": ([HEAD, _with(FIRST, 4, "447562003")], 2, "refsetId", "447562003"),
    "group_not_numeric": ([HEAD, "\t".join(SECOND), _with(FIRST, 6, "one")], 3, "mapGroup", "one"),
    "group_zero": ([HEAD, _with(FIRST, 6, "0")], 2, "mapGroup", "0"),
    "priority_not_numeric": ([HEAD, _with(FIRST, 7, "1a")], 2, "mapPriority", "1a"),
    "priority_too_large": ([HEAD, _with(FIRST, 7, "256")], 2, "mapPriority", "256"),
    "bad_date": ([HEAD, _with(FIRST, 1, "20240231")], 2, "effectiveTime", "20240231"),
    "date_not_digits": ([HEAD, _with(FIRST, 1, "2024-03-01")], 2, "effectiveTime", "2024-03-01"),
    "active_flag": ([HEAD, _with(FIRST, 2, "2")], 2, "active", "2"),
    "record_id": ([HEAD, _with(FIRST, 0, "row-1")], 2, "id", "row-1"),
    "concept_id": ([HEAD, _with(FIRST, 5, "6738008X")], 2, "referencedComponentId", "6738008X"),
    "target": ([HEAD, _with(FIRST, 10, "97.9")], 2, "mapTarget", "97.9"),
    "target_question_mark": ([HEAD, _with(FIRST, 10, "N97.9?")], 2, "mapTarget", "N97.9?"),
    "category": ([HEAD, _with(FIRST, 12, "")], 2, "mapCategoryId", ""),
    "duplicate_state": ([HEAD, "\t".join(FIRST), "\t".join(SECOND), "\t".join(FIRST)], 4, "duplicate_of",
                        f"record {FIRST[0]} at effectiveTime 20240301, also on line 2"),
    "rule_not_parsed": ([HEAD, _with(FIRST, 8, "IFA 248152002 | Female (finding)")], 2, "rule_problem",
                        f"record {FIRST[0]}: map rule 'IFA 248152002 | Female (finding)': at character 33, "
                        "expected '|' closing the concept's term"),
    "rule_empty": ([HEAD, _with(FIRST, 8, "")], 2, "rule_problem",
                   f"record {FIRST[0]}: map rule '': at character 1, the rule is empty: expected TRUE, "
                   "OTHERWISE TRUE or IFA"),
    "blank_line": ([HEAD, "\t".join(FIRST), "", "\t".join(SECOND)], 3, "raw", None),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, tmp_path, name):
    lines, line, column, value = BAD[name]
    path = tmp_path / f"der2_iisssccRefset_ExtendedMapSnapshot_US1000124_20240301_{name}.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "snomed_icd10cm", [path])
    assert warehouse.current() is None, "a refused load must publish nothing"
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in info.value.rejects] == [
        (path.name, line, column, value)
    ]


@pytest.mark.parametrize("kind", ["Relationship", "Description"])
def test_a_component_id_with_a_wrong_check_digit_is_refused(warehouse, tmp_path, kind):
    """A relationship or description id keys its component's states: one digit wrong and a later
    state would not replace the earlier one. Refused like a concept id, naming the field ``id``."""
    sample = next(p for p in SAMPLE.files if kind in p.name)
    lines = sample.read_text(encoding="utf-8").splitlines()
    fields = lines[3].split("\t")
    good = fields[0]
    assert _sctid.is_valid(good, kind.lower())
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)  # the check digit one off: the partition still right
    path = tmp_path / sample.name.replace("SAMPLE", "20240301")
    path.write_text("\r\n".join([*lines[:3], _with(fields, 0, bad), *lines[4:]]) + "\r\n", encoding="utf-8",
                    newline="")
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "snomed_icd10cm", [path])
    assert warehouse.current() is None
    assert [(r["line"], r["column"], r["value"]) for r in info.value.rejects] == [(4, "check_digit", f"id {bad}")]


def test_a_control_character_is_named_with_its_column_in_characters(warehouse, tmp_path):
    """The stage query names the first control character and its column, counted in characters: the
    en dash before it (three bytes in UTF-8) is one column."""
    sample = next(p for p in SAMPLE.files if "Description" in p.name)
    lines = sample.read_text(encoding="utf-8").splitlines()
    number, line = next((n, line) for n, line in enumerate(lines) if "\u2013" in line)
    bad = line.replace("\u2013 inflammation", "\u2013 in\x1bflammation")
    path = tmp_path / sample.name.replace("SAMPLE", "20240301")
    path.write_text("\r\n".join([*lines[:number], bad, *lines[number + 1:]]) + "\r\n", encoding="utf-8",
                    newline="")
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "snomed_icd10cm", [path])
    assert [(r["line"], r["column"], r["value"]) for r in info.value.rejects] == [
        (number + 1, "control_character", f"control character 0x1B at column {bad.index(chr(27)) + 1}")]


def test_two_files_of_one_rendering_are_refused(warehouse, tmp_path):
    other = tmp_path / "der2_iisssccRefset_ExtendedMapFull_US1000124_20240301.txt"
    shutil.copy(FULL, other)
    copy = tmp_path / "der2_iisssccRefset_ExtendedMapFull_US1000124_20240301_copy.txt"
    shutil.copy(FULL, copy)
    with pytest.raises(Exception, match="both the full part of the release"):
        load(warehouse, "snomed_icd10cm", [other, copy])
    assert warehouse.current() is None
