"""The SNOMED CT hierarchy and names: RF2 relationship and description files, and the map through them.

A hand-made mini hierarchy (the bundled sample's, built from the specification's concepts) proves
the loader, the views, the nearest mapped ancestor and IFA rules satisfied by descendants, in
Python (SnomedLookup) and in SQL (evaluate_batch); bad files prove the checks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from codesets.core.errors import LoadRejected, SourceError
from codesets.core import sctid as _sctid
from codesets.warehouse.load import load
from codesets.snomed.batch import evaluate_batch
from codesets.snomed.evaluate import SnomedLookup
from codesets.snomed.hierarchy import Hierarchy
from tests.query import code_fakes as fakes

SAMPLES = Path(__file__).resolve().parents[2] / "codesets" / "samples" / "snomed_icd10cm"
MAP = SAMPLES / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_SAMPLE.txt"
RELATIONSHIPS = SAMPLES / "sct2_Relationship_Snapshot_US1000124_SAMPLE.txt"
DESCRIPTIONS = SAMPLES / "sct2_Description_Snapshot-en_US1000124_SAMPLE.txt"
REL_HEAD = RELATIONSHIPS.read_text(encoding="utf-8").splitlines()[0]
DESC_HEAD = DESCRIPTIONS.read_text(encoding="utf-8").splitlines()[0]
ISA, INFERRED, EXISTENTIAL, US = "116680003", "900000000000011006", "900000000000451002", "731000124108"


def isa(rel_id, child, parent, active="1", time="20240301"):
    return "\t".join([rel_id, time, active, US, child, parent, "0", ISA, INFERRED, EXISTENTIAL])


def write(folder, name, lines):
    path = folder / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    return path


@pytest.fixture
def sample(warehouse):
    load(warehouse, "snomed_icd10cm", [MAP, RELATIONSHIPS, DESCRIPTIONS], sample=True)
    return warehouse


# ---------------------------------------------------------------- loading and views


def test_sample_parts_views_and_names(sample):
    with sample.connect() as con:
        parts = dict(con.execute(
            "SELECT part, row_count FROM release_parts WHERE source = 'snomed_icd10cm' ORDER BY part").fetchall())
        assert parts["relationship"] == 17 and parts["description"] == 27
        # every relationship is kept, of every type; the view holds the active ones in force
        types = con.execute("SELECT type_id FROM snomed_relationships WHERE source_concept = '782866008' "
                            "ORDER BY type_id").fetchall()
        assert types == [("116676008",), (ISA,), ("363698007",)]
        # the retired is-a (latest state inactive) is no parent link
        assert con.execute("SELECT parent_id FROM snomed_hierarchy WHERE concept_id = '12067001'").fetchall() == [
            ("67321002",)]
        assert con.execute("SELECT count(*) FROM relationships WHERE NOT active").fetchone() == (1,)
        names = dict(con.execute("SELECT concept_id, term FROM snomed_concept_names").fetchall())
        assert names["12067001"] == "Acquired coxa vara (disorder)"
        assert names["48661000"] == "Peritonitis (disorder)"  # the fully specified name, not the synonym
        # UTF-8 read as UTF-8: the synonym's en dash is one character
        (term,) = con.execute("SELECT term FROM descriptions WHERE description_id = '200099014'").fetchone()
        assert term == "Peritonitis \u2013 inflammation of the peritoneum"
        for view, key in (("snomed_relationships", "relationship_id"), ("snomed_hierarchy", "concept_id, parent_id"),
                          ("snomed_concept_names", "concept_id")):
            assert con.execute(f"SELECT count(*) FROM (SELECT {key} FROM {view} GROUP BY ALL HAVING count(*) > 1)"
                               ).fetchone() == (0,)


def test_latest_state_wins_across_releases(warehouse, tmp_path):
    first = write(tmp_path, "sct2_Relationship_Snapshot_US1000124_20230901.txt",
                  [REL_HEAD, isa("1000027", "12067001", "67321002", time="20230901"),
                   isa("2000029", "12067001", "2749000", time="20230901")])
    second = write(tmp_path, "sct2_Relationship_Snapshot_US1000124_20240301.txt",
                   [REL_HEAD, isa("2000029", "12067001", "2749000", active="0")])
    load(warehouse, "snomed_icd10cm", [first])
    with warehouse.connect() as con:
        assert len(con.execute("SELECT * FROM snomed_hierarchy").fetchall()) == 2
    load(warehouse, "snomed_icd10cm", [second])
    with warehouse.connect() as con:
        assert con.execute("SELECT concept_id, parent_id FROM snomed_hierarchy").fetchall() == [
            ("12067001", "67321002")]


def test_a_real_hierarchy_retires_the_samples_but_not_the_sample_map(sample, tmp_path):
    real = write(tmp_path, "sct2_Relationship_Snapshot_US1000124_20240901.txt",
                 [REL_HEAD, isa("3000022", "100099006", "67321002")])
    load(sample, "snomed_icd10cm", [real])
    with sample.connect() as con:
        assert con.execute("SELECT concept_id, parent_id FROM snomed_hierarchy").fetchall() == [
            ("100099006", "67321002")]
        assert con.execute("SELECT count(*) FROM snomed_icd10cm_map").fetchone()[0] > 20
        lookup = SnomedLookup(con)
        assert [(a.target, a.mapped_via) for a in lookup.lookup("100099006")] == [("M21959", "67321002")]
        assert lookup.lookup("12067001") == []  # the sample's link is gone with the sample hierarchy


REL = REL_HEAD.split("\t")
GOOD = isa("1000027", "12067001", "67321002").split("\t")
DESC_GOOD = ["2000017", "20240301", "1", US, "12067001", "en", "900000000000003001", "Acquired coxa vara (disorder)",
             "900000000000448009"]


def _with(fields, index, value):
    changed = list(fields)
    changed[index] = value
    return "\t".join(changed)


BAD = {
    "relationship_fields": ("rel", [_with(GOOD, 9, "x\tmore")], 2, "field_count", "11"),
    "relationship_id": ("rel", [_with(GOOD, 0, "r-1")], 2, "id", "r-1"),
    "relationship_date": ("rel", [_with(GOOD, 1, "20240231")], 2, "effectiveTime", "20240231"),
    "relationship_active": ("rel", [_with(GOOD, 2, "yes")], 2, "active", "yes"),
    "relationship_source": ("rel", [_with(GOOD, 4, "")], 2, "sourceId", ""),
    "relationship_destination": ("rel", [_with(GOOD, 5, "0123456")], 2, "destinationId", "0123456"),
    "relationship_group": ("rel", [_with(GOOD, 6, "-1")], 2, "relationshipGroup", "-1"),
    "relationship_type": ("rel", [_with(GOOD, 7, "is a")], 2, "typeId", "is a"),
    "relationship_duplicate": ("rel", ["\t".join(GOOD), "\t".join(GOOD)], 3, "duplicate_of",
                               "component 1000027 at effectiveTime 20240301, also on line 2"),
    "description_concept": ("desc", [_with(DESC_GOOD, 4, "coxa vara")], 2, "conceptId", "coxa vara"),
    "description_language": ("desc", [_with(DESC_GOOD, 5, "EN!")], 2, "languageCode", "EN!"),
    "description_term": ("desc", [_with(DESC_GOOD, 7, "")], 2, "term", ""),
    "description_fields": ("desc", ["\t".join(DESC_GOOD[:8])], 2, "field_count", "8"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, tmp_path, name):
    kind, lines, line, column, value = BAD[name]
    if kind == "rel":
        path = write(tmp_path, f"sct2_Relationship_Snapshot_US1000124_20240301_{name}.txt", [REL_HEAD, *lines])
    else:
        path = write(tmp_path, f"sct2_Description_Snapshot-en_US1000124_20240301_{name}.txt", [DESC_HEAD, *lines])
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "snomed_icd10cm", [path])
    assert warehouse.current() is None, "a refused load must publish nothing"
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in info.value.rejects] == [
        (path.name, line, column, value)]


def test_bytes_that_are_not_utf8_are_refused_naming_line_and_column(warehouse, tmp_path):
    path = tmp_path / "sct2_Description_Snapshot-en_US1000124_20240301.txt"
    good = "\t".join(DESC_GOOD).encode()
    bad = "\t".join(DESC_GOOD[:7]).encode() + b"\tM\xe9ni\xe8re\t900000000000448009"  # Latin-1, not UTF-8
    path.write_bytes(DESC_HEAD.encode() + b"\r\n" + good + b"\r\n" + bad + b"\r\n")
    with pytest.raises(SourceError, match=r"byte 0xE9 at line 3, column \d+ is not UTF-8"):
        load(warehouse, "snomed_icd10cm", [path])
    assert warehouse.current() is None


def test_text_definitions_are_not_taken_for_names(tmp_path):
    from codesets.loaders.snomed_icd10cm import LOADER

    path = write(tmp_path, "sct2_TextDefinition_Snapshot-en_US1000124_20240301.txt", [DESC_HEAD, "\t".join(DESC_GOOD)])
    assert LOADER.claim(path) is None
    stated = write(tmp_path, "sct2_StatedRelationship_Snapshot_US1000124_20240301.txt", [REL_HEAD, "\t".join(GOOD)])
    assert LOADER.claim(stated).part == "stated_relationship"


# ---------------------------------------------------------------- the hierarchy in memory


def test_ancestors_nearest_and_cycles():
    tree = Hierarchy({"c": ["b1", "b2"], "b1": ["a"], "b2": ["a2"], "a2": ["a"], "x": ["y"], "y": ["x"],
                      "d": ["99999003", "100000000"]})
    assert tree.ancestors("c") == {"b1", "b2", "a", "a2"}
    assert tree.ancestors("x") == {"y"}  # a cycle ends the walk
    assert tree.present({"c"}) == {"c", "b1", "b2", "a", "a2"}
    assert tree.nearest("c", {"a", "a2"}) == ["a", "a2"]  # both two steps up
    assert tree.nearest("c", {"a"}) == ["a"]
    assert tree.nearest("x", {"q"}) == []
    assert tree.nearest("d", {"100000000", "99999003"}) == ["99999003", "100000000"]  # SCTID (numeric) order
    assert not Hierarchy({}) and tree


# ---------------------------------------------------------------- the map through the hierarchy

ICD10 = fakes.FakeCodeLoader(source="icd10cm")


@pytest.fixture
def with_codes(sample, tmp_path, monkeypatch):
    fakes.install(monkeypatch, ICD10)
    codes = fakes.write(tmp_path, "order-2024.csv", [
        ("icd10cm", "T39012", "Poisoning by aspirin, intentional self-harm", False),
        ("icd10cm", "T39012A", "initial encounter", True),
        ("icd10cm", "T39012S", "sequela", True),
    ])
    fakes.load(sample, ICD10, codes, "2024", date(2023, 10, 1))
    return sample


def test_a_concept_without_records_maps_through_its_nearest_mapped_ancestor(sample):
    with sample.connect() as con:
        lookup = SnomedLookup(con)
        # Appendix B: 12067001 |Acquired coxa vara| refines 67321002, whose IFA 12067001 record answers
        (coxa,) = lookup.lookup("12067001")
        assert (coxa.concept, coxa.mapped_via, coxa.target, coxa.status) == ("12067001", "67321002", "M21159", "mapped")
        assert coxa.rule == "IFA 12067001 | Acquired coxa vara (disorder) |"
        # 290145004 |Intentional aspirin poisoning| under 7248001 |Poisoning by salicylate|
        (aspirin,) = lookup.lookup("290145004")
        assert (aspirin.mapped_via, aspirin.target, aspirin.needs) == ("7248001", "T39012?", ("episode_of_care",))
        # a mapped concept answers from its own records, never through an ancestor
        assert {a.mapped_via for a in lookup.lookup("67321002")} == {None}
        # nothing mapped above: no answer, no guess
        assert lookup.lookup("404684003") == [] and lookup.lookup("999999006") == []


def test_ifa_rules_are_satisfied_by_descendants_on_the_problem_list(sample, tmp_path):
    extra = write(tmp_path, "sct2_Relationship_Snapshot_US1000124_20240901.txt",
                  [REL_HEAD, *(isa(_sctid.make(f"{n}000", "relationship"), child, parent) for n, (child, parent) in
                               enumerate([("100012001", "290145004"), ("299233007", "404684003"),
                                          ("67321002", "299233007"), ("12067001", "67321002"),
                                          ("100013006", "12067001"), ("7248001", "404684003"),
                                          ("290145004", "7248001")], 1))])
    load(sample, "snomed_icd10cm", [extra])
    with sample.connect() as con:
        lookup = SnomedLookup(con)
        # a descendant of 290145004 on the list makes "IFA 290145004" true for 7248001
        (salicylate,) = lookup.lookup("7248001", problems=["100012001"])
        assert (salicylate.target, salicylate.mapped_via) == ("T39012?", None)
        (plain,) = lookup.lookup("7248001", problems=["404684003"])  # an ancestor does not
        assert plain.target == "T39091?" and plain.needs == ("problems", "episode_of_care")
        # a grandchild of 67321002 below 12067001: through 67321002, its IFA 12067001 record fires
        (grandchild,) = lookup.lookup("100013006")
        assert (grandchild.mapped_via, grandchild.target) == ("67321002", "M21159")
        rows = evaluate_batch(con, pa.table({"problem_id": ["a", "b", "c"], "concept": ["7248001", "7248001", "100013006"],
                                             "problems": ["100012001", "404684003", None]})).to_pylist()
        assert [(r["target"], r["mapped_via"]) for r in rows] == [("T39012?", None), ("T39091?", None),
                                                                  ("M21159", "67321002")]


def test_without_a_hierarchy_only_the_concept_itself_counts(warehouse):
    load(warehouse, "snomed_icd10cm", [MAP], sample=True)
    with warehouse.connect() as con:
        lookup = SnomedLookup(con)
        assert lookup.lookup("12067001") == []
        (hip,) = lookup.lookup("67321002", problems=["12067001"])
        assert hip.target == "M21159"
        rows = evaluate_batch(con, pa.table({"problem_id": ["a"], "concept": ["12067001"]})).to_pylist()
        assert rows[0]["status"] == "no map records"


def test_completions_in_the_batch_follow_each_problems_date(with_codes):
    with with_codes.connect() as con:
        lookup = SnomedLookup(con)
        table = pa.table({"problem_id": ["a", "b", "c"], "concept": ["290145004", "290145004", "7248001"],
                          "on_date": ["2024-05-01", "2010-01-01", None]})
        rows = evaluate_batch(con, table).to_pylist()
        assert [r["completions"] for r in rows] == [["T39012A", "T39012S"], None, None]
        assert lookup.lookup("290145004", on=date(2024, 5, 1))[0].completions == ["T39012A", "T39012S"]
        # a release in force that lists no completion: an empty list, in both
        (salicylate,) = lookup.lookup("7248001", on=date(2024, 5, 1))
        rows = evaluate_batch(con, pa.table({"problem_id": ["x"], "concept": ["7248001"],
                                             "on_date": [date(2024, 5, 1)]})).to_pylist()
        assert salicylate.completions == [] and rows[0]["completions"] == []


def test_the_nearest_ancestor_walk_stops_at_the_same_depth_in_python_and_sql(sample, tmp_path):
    from codesets.snomed.hierarchy import MAX_STEPS

    # two chains up to 67321002 (mapped): one MAX_STEPS links long, one a link longer
    link = [_sctid.make(str(5000000 + n)) for n in range(MAX_STEPS)]  # made-up concepts, link[0] the lowest
    low, lower = link[0], _sctid.make("6000000")
    chain = list(zip(link, link[1:])) + [(link[-1], "67321002"), (lower, low)]
    path = write(tmp_path, "sct2_Relationship_Snapshot_US1000124_20240901.txt",
                 [REL_HEAD, *(isa(_sctid.make(f"{n}000", "relationship"), c, p) for n, (c, p) in enumerate(chain, 1))])
    load(sample, "snomed_icd10cm", [path])
    with sample.connect() as con:
        lookup = SnomedLookup(con)
        assert [a.mapped_via for a in lookup.lookup(low)] == ["67321002"]
        assert lookup.lookup(lower) == []
        rows = evaluate_batch(con, pa.table({"problem_id": ["a", "b"], "concept": [low, lower]}))
        assert [(r["mapped_via"], r["status"]) for r in rows.to_pylist()] == [("67321002", "mapped"),
                                                                              (None, "no map records")]


def test_a_real_map_alone_retires_the_sample_hierarchy(sample, tmp_path):
    lines = MAP.read_text(encoding="utf-8").splitlines()
    real = write(tmp_path, "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_20250301.txt",
                 [lines[0], next(line for line in lines[1:] if "\t67321002\t" in line)])
    load(sample, "snomed_icd10cm", [real])
    with sample.connect() as con:
        assert con.execute("SELECT count(*) FROM snomed_hierarchy").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM snomed_concept_names").fetchone() == (0,)
        assert SnomedLookup(con).lookup("12067001") == []


def test_an_empty_on_date_is_today_and_leading_zeros_are_refused(with_codes):
    from codesets.core.errors import QueryError

    with with_codes.connect() as con:
        rows = evaluate_batch(con, pa.table({"problem_id": ["a", "b"], "concept": ["7248001", "7248001"],
                                             "on_date": pa.array([None, None], pa.date32())})).to_pylist()
        today = SnomedLookup(con).lookup("7248001")[0].completions
        assert [r["completions"] for r in rows] == [today, today]
        with pytest.raises(QueryError, match="row 1, column concept"):
            evaluate_batch(con, pa.table({"problem_id": ["a"], "concept": ["012067001"]}))
        with pytest.raises(QueryError, match="no leading zero"):
            SnomedLookup(con).lookup("012067001")
