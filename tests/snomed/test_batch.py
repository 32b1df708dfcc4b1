"""Batch evaluation in SQL (codesets.snomed.batch) gives SnomedLookup.lookup's answers.

The bundled sample map and hierarchy, with hand-made records and is-a links added (compound
rules, two parents at one distance, a cycle, descendants of IFA concepts), are loaded once into
a throwaway warehouse; every answer of the batch is compared, row for row, with the Python
evaluator over the same views.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import QueryError
from codesets.core import sctid as _sctid
from codesets.snomed.batch import COLUMNS, evaluate_batch
from codesets.snomed.evaluate import SnomedLookup

SAMPLES = Path(__file__).resolve().parents[2] / "codesets" / "samples" / "snomed_icd10cm"
SAMPLE = SAMPLES / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_SAMPLE.txt"
RELATIONSHIPS = SAMPLES / "sct2_Relationship_Snapshot_US1000124_SAMPLE.txt"

# concepts the IFA rules name, the sex findings among them
RULE_CONCEPTS = ("248152002", "248153007", "290145004", "295390002", "12067001")
# hand-made is-a links added to the sample's: (child, parent)
EXTRA_ISA = [
    ("100009004", "100001001"), ("100009004", "100002008"),  # two mapped parents at one step
    ("100010009", "100011008"), ("100011008", "100010009"),  # a cycle, nothing mapped above
    ("100012001", "290145004"),                              # below an IFA concept (itself below 7248001)
    ("100013006", "290145004"), ("100013006", "12067001"),   # below two IFA concepts, two steps from two maps
    ("100014000", "248152002"),                              # below Female (finding)
]
HIERARCHY_CONCEPTS = tuple(sorted({c for pair in EXTRA_ISA for c in pair} - {"100001001", "100002008"}))

_AGE_AT = "IFA 445518008 | Age at onset of clinical finding (observable entity) |"
# hand-made records appended to the sample: rules of several clauses (none in the sample), where a
# FALSE clause after an UNKNOWN one must cancel what the record wanted, and a group with no default
EXTRA = [
    ("100001001", 1, 1, f"{_AGE_AT} < 29.0 days AND IFA 248152002 | Female (finding) |", "P001"),
    ("100001001", 1, 2,
     "IFA 290145004 | Intentional aspirin poisoning (disorder) | AND IFA 248153007 | Male (finding) |", "T39012?"),
    ("100001001", 1, 3, f"IFA 248152002 | Female (finding) | AND {_AGE_AT} >= 18.0 years", "N001"),
    ("100001001", 1, 4, "OTHERWISE TRUE", ""),
    ("100001001", 2, 1, "IFA 12067001 | Acquired coxa vara (disorder) |", "M21159"),
    ("100001001", 2, 2, f"{_AGE_AT} <= 1.0 years AND IFA 295390002 | Intentional 5-aminosalicylic acid overdose |",
     "T3712X?"),
    ("100002008", 1, 1, f"{_AGE_AT} > 4.0 weeks AND {_AGE_AT} < 6.0 months", "Q001"),
    ("100002008", 1, 2, "TRUE", "Q002"),
]
AGES = (None, "28d", "29d", "4w", "1m", "6m", "17y", "18y", "216m", "30y", "17.99y", "6574.5d", "6574d",
        "6574.50000000000000001d", "6574.49999999999999999d", "28.999999999999999999d")
SEXES = (None, "F", "M")
PROBLEM_LISTS = ((), ("248152002",), ("248153007",), ("290145004",), ("295390002",), ("12067001",),
                 ("290145004", "295390002"), ("248152002", "248153007", "12067001"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    folder = tmp_path_factory.mktemp("snomed_batch")
    text = SAMPLE.read_text(encoding="utf-8")
    extra = "".join(
        f"00000000-0000-5000-8000-{n:012d}\t20240301\t1\t731000124108\t6011000124106\t{c}\t{g}\t{p}\t{rule}"
        f"\tADVICE\t{target}\t447561005\t447639009\r\n" for n, (c, g, p, rule, target) in enumerate(EXTRA))
    path = folder / SAMPLE.name
    path.write_text(text + extra, encoding="utf-8", newline="")
    links = "".join(f"{_sctid.make(str(900000 + n), 'relationship')}\t20240301\t1\t731000124108\t{child}\t{parent}"
                    f"\t0\t116680003\t900000000000011006\t900000000000451002\r\n"
                    for n, (child, parent) in enumerate(EXTRA_ISA))
    relationships = folder / RELATIONSHIPS.name
    relationships.write_text(RELATIONSHIPS.read_text(encoding="utf-8") + links, encoding="utf-8", newline="")
    warehouse = Warehouse(folder / "wh")
    load(warehouse, "snomed_icd10cm", [path, relationships], sample=True)
    con = warehouse.connect()
    try:
        lookup = SnomedLookup(con)
        concepts = sorted(lookup._map)
        yield con, lookup, concepts
    finally:
        con.close()


def expected(lookup, problem_id, concept, sex, age, problems):
    """The rows SnomedLookup.lookup gives for one problem, in the batch's columns."""
    answers = lookup.lookup(concept, sex, age, problems)
    if not answers:
        return [dict(problem_id=problem_id, concept=concept, mapped_via=None, map_group=None, status="no map records",
                     target=None, category=None, advice=None, rule=None, record_id=None, map_priority=None, needs=[],
                     completions=None)]
    return [dict(problem_id=problem_id, concept=a.concept, mapped_via=a.mapped_via, map_group=a.map_group,
                 status=a.status, target=a.target, category=a.category, advice=a.advice, rule=a.rule,
                 record_id=a.record_id, map_priority=a.map_priority, needs=list(a.needs), completions=a.completions)
            for a in answers]


def check(con, lookup, cases, as_text=True):
    table = pa.Table.from_pylist([
        dict(problem_id=f"p{i}", concept=c, sex=s, age=a, problems="|".join(p) if as_text else list(p))
        for i, (c, s, a, p) in enumerate(cases)])
    got = evaluate_batch(con, table).to_pylist()
    want = [row for i, (c, s, a, p) in enumerate(cases) for row in expected(lookup, f"p{i}", c, s, a, p)]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w
    return got


def test_grid_matches_python_row_for_row(sample):
    con, lookup, concepts = sample
    lists = PROBLEM_LISTS + (("100012001",), ("100013006",), ("100014000",))
    cases = [(c, s, a, p) for c in concepts + list(HIERARCHY_CONCEPTS) + ["12067001"]
             for s, a, p in itertools.product(SEXES, AGES, lists)]
    got = check(con, lookup, cases)
    statuses = {r["status"] for r in got}
    assert {"mapped", "context needed", "incomplete", "no target", "no rule held", "no map records"} <= statuses
    assert {"100001001", "100002008"} <= set(concepts)
    assert {("100009004", "100001001"), ("100009004", "100002008"), ("12067001", "67321002"),
            ("100013006", "7248001"), ("100013006", "67321002")} <= {(r["concept"], r["mapped_via"]) for r in got}
    assert len(got) >= len(cases)


def test_list_column_and_dataframe_inputs(sample):
    con, lookup, _ = sample
    cases = [("237145004", None, None, ("248152002",)), ("7248001", None, None, ("290145004", "295390002")),
             ("36440009", "M", "28d", ())]
    check(con, lookup, cases, as_text=False)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"problem_id": [1, 2], "concept": ["36440009", "237145004"], "age": ["29d", None],
                          "sex": [None, "M"]})
    rows = evaluate_batch(con, frame).to_pylist()
    assert [(r["problem_id"], r["target"], r["needs"]) for r in rows] == [("1", "R6251", []), ("2", "N469", [])]


def test_known_answers(sample):
    con, _, _ = sample
    table = pa.table({"problem_id": ["a", "b", "c", "d"], "concept": ["237145004", "73430006", "7248001", "46113002"],
                      "sex": [None, None, None, "F"], "age": [None, None, None, None],
                      "problems": [None, None, "290145004", None]})
    rows = evaluate_batch(con, table).to_pylist()
    assert [(r["problem_id"], r["status"], r["target"], r["needs"]) for r in rows] == [
        ("a", "context needed", None, ["sex"]),
        ("b", "context needed", "G4730", ["age"]),
        ("c", "incomplete", "T39012?", ["episode_of_care"]),
        ("d", "mapped", "I110", []),
        ("d", "mapped", "I509", []),
    ]
    assert tuple(evaluate_batch(con, table).column_names) == COLUMNS


def test_concept_the_map_lacks_gives_one_no_map_records_row(sample):
    con, lookup, _ = sample
    table = pa.table({"problem_id": ["x", "y"], "concept": ["999999006", "46113002"]})
    rows = evaluate_batch(con, table).to_pylist()
    assert rows[0] == dict(problem_id="x", concept="999999006", mapped_via=None, map_group=None,
                           status="no map records", target=None, category=None, advice=None, rule=None,
                           record_id=None, map_priority=None, needs=[], completions=None)
    assert [r["map_group"] for r in rows[1:]] == [1, 2]
    check(con, lookup, [("999999006", "F", "30y", ("290145004",))])


def test_empty_batch_and_bad_input(sample):
    con, _, _ = sample
    empty = pa.table({"problem_id": pa.array([], pa.string()), "concept": pa.array([], pa.string())})
    assert evaluate_batch(con, empty).num_rows == 0
    with pytest.raises(QueryError):
        evaluate_batch(con, pa.table({"problem_id": ["a"], "concept": ["36440009"], "age": ["thirty"]}))
    with pytest.raises(QueryError):
        evaluate_batch(con, pa.table({"problem_id": ["a"], "concept": ["36440009"], "sex": ["X"]}))
    with pytest.raises(QueryError):
        evaluate_batch(con, pa.table({"concept": ["36440009"]}))


_AGE = st.one_of(
    st.none(),
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 8000), st.sampled_from(["d", "w", "m", "y"])),
    st.sampled_from(["28d", "29d", "18y", "216m", "6574.5d", "17.999y", "18.0001y", "4.142857w"]),
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_sql_equals_python(sample, data):
    con, lookup, concepts = sample
    universe = sorted(set(concepts) | set(RULE_CONCEPTS) | set(HIERARCHY_CONCEPTS) | {"999999006"})
    case = st.tuples(st.sampled_from(universe), st.sampled_from(SEXES), _AGE,
                     st.lists(st.sampled_from(universe), max_size=4).map(tuple))
    cases = data.draw(st.lists(case, min_size=1, max_size=25))
    check(con, lookup, cases, as_text=data.draw(st.booleans()))
