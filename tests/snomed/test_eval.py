"""The I-MAGIC evaluator (codesets.snomed.evaluate) on the specification's exemplars.

Hand-made rows passed to ``evaluate`` prove one rule each; the bundled sample, loaded into a
throwaway warehouse, proves ``SnomedLookup`` over the view (inactive records, completions).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.core.errors import QueryError
from codesets.snomed.evaluate import (
    Age,
    Context,
    MapRecord,
    SnomedLookup,
    evaluate,
    parse_age,
    parse_sex,
)
from tests.query import code_fakes as fakes

SAMPLE = (Path(__file__).resolve().parents[2] / "codesets" / "samples" / "snomed_icd10cm"
          / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_SAMPLE.txt")

FEMALE = "IFA 248152002 | Female (finding) |"
MALE = "IFA 248153007 | Male (finding) |"
AGE = "IFA 445518008 | Age at onset of clinical finding (observable entity) |"
PROPER, NOT_CLASSIFIABLE, CONTEXT = "447637006", "447638001", "447639009"


def rec(concept, group, priority, rule, target=None, advice=None, category=PROPER, active=True, record_id=None):
    return MapRecord(concept, group, priority, rule, advice, target, category,
                     record_id or f"r-{concept}-{group}-{priority}", active)


def ctx(sex=None, age=None, problems=()):
    return Context.of(sex, age, problems)


# 410070006 Herniated urinary bladder (11.3, Appendix B item 1)
BLADDER = [
    rec("410070006", 1, 1, FEMALE, "N8110", "IF FEMALE (FINDING) CHOOSE N81.10", CONTEXT),
    rec("410070006", 1, 2, MALE, "N3289", "IF MALE (FINDING) CHOOSE N32.89", CONTEXT),
    rec("410070006", 1, 3, "OTHERWISE TRUE", None, "MAP IS CONTEXT DEPENDENT FOR GENDER", NOT_CLASSIFIABLE),
]
# 36440009 Failure to gain weight (11.4)
WEIGHT = [
    rec("36440009", 1, 1, f"{AGE} < 29.0 days", "P926", category=CONTEXT),
    rec("36440009", 1, 2, f"{AGE} < 18.0 years", "R6251", category=CONTEXT),
    rec("36440009", 1, 3, f"{AGE} >= 18.0 years", "R627", category=CONTEXT),
    rec("36440009", 1, 4, "OTHERWISE TRUE", None, "MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH AVAILABLE DATA",
        NOT_CLASSIFIABLE),
]
# 290148002 Intentional salicylate poisoning (11.6, Poisoning #4)
SALICYLATE = [
    rec("290148002", 1, 1, "IFA 290145004 | Intentional aspirin poisoning (disorder) |", "T39012?", category=CONTEXT),
    rec("290148002", 1, 2, "IFA 295390002 | Intentional 5-aminosalicylic acid overdose |", "T371X2?",
        category=CONTEXT),
    rec("290148002", 1, 3, "OTHERWISE TRUE", "T39092?", "ALWAYS T39.092? | EPISODE OF CARE INFORMATION NEEDED"),
]


def only(answers):
    assert len(answers) == 1
    return answers[0]


# ---------------------------------------------------------------- gender (11.3)

@pytest.mark.parametrize("sex, target, priority", [("F", "N8110", 1), ("M", "N3289", 2)])
def test_gender_rule_picks_the_target_of_the_known_sex(sex, target, priority):
    answer = only(evaluate(BLADDER, ctx(sex=sex)))
    assert (answer.status, answer.target, answer.map_priority, answer.needs) == ("mapped", target, priority, ())
    assert answer.category == CONTEXT and answer.rule == BLADDER[priority - 1].map_rule
    assert answer.record_id == BLADDER[priority - 1].record_id


def test_unknown_sex_fires_the_default_and_says_sex_is_needed():
    answer = only(evaluate(BLADDER, ctx()))
    assert answer.status == "context needed" and answer.needs == ("sex",)
    assert answer.target is None and answer.rule == "OTHERWISE TRUE" and answer.category == NOT_CLASSIFIABLE
    assert answer.advice == "MAP IS CONTEXT DEPENDENT FOR GENDER"


def test_sex_finding_on_the_problem_list_answers_when_sex_is_not_given():
    assert only(evaluate(BLADDER, ctx(problems=["248153007"]))).target == "N3289"


def test_gender_asserted_by_the_source_is_true_for_anyone():
    infertility = [rec("6738008", 1, 1, "TRUE", "N979", "ALWAYS N97.9")]
    for context in (ctx(), ctx(sex="M"), ctx(sex="F")):
        answer = only(evaluate(infertility, context))
        assert (answer.status, answer.target, answer.needs, answer.advice) == ("mapped", "N979", (), "ALWAYS N97.9")


# ---------------------------------------------------------------- age (11.4)

@pytest.mark.parametrize("age, target", [
    ("0d", "P926"), ("28d", "P926"), ("28.9d", "P926"), ("29d", "R6251"), ("4w", "P926"), ("5w", "R6251"),
    ("1m", "R6251"),  # a month is 30.4375 days
    ("17y", "R6251"), ("17.99y", "R6251"), ("215m", "R6251"), ("18y", "R627"), ("216m", "R627"),
    ("6574d", "R6251"), ("6575d", "R627"), ("80y", "R627"),
])
def test_age_rules_on_both_sides_of_the_boundaries(age, target):
    answer = only(evaluate(WEIGHT, ctx(age=age)))
    assert (answer.status, answer.target, answer.needs) == ("mapped", target, ())


def test_unknown_age_never_picks_an_age_rule():
    answer = only(evaluate(WEIGHT, ctx(sex="F")))
    assert answer.status == "context needed" and answer.needs == ("age",)
    assert answer.target is None and answer.rule == "OTHERWISE TRUE"


def test_sleep_apnea_default_with_unknown_age_is_flagged():
    apnea = [rec("73430006", 1, 1, f"{AGE} < 29.0 days", "P283", category=CONTEXT),
             rec("73430006", 1, 2, "OTHERWISE TRUE", "G4730", "ALWAYS G47.30")]
    assert only(evaluate(apnea, ctx(age="10d"))).target == "P283"
    adult = only(evaluate(apnea, ctx(age="40y")))
    assert (adult.status, adult.target, adult.category, adult.needs) == ("mapped", "G4730", PROPER, ())
    unknown = only(evaluate(apnea, ctx()))
    assert (unknown.target, unknown.status, unknown.needs) == ("G4730", "context needed", ("age",))


# every phase of life of section 11.4: (rule, age just inside, age just outside)
PHASES = [
    ("< 29.0 days", ["28d", "28.99d"], ["29d", "1m", "1y"]),                      # neonatal, perinatal
    ("< 18.0 years", ["17y", "6574d", "215m"], ["18y", "216m", "6575d"]),         # childhood
    (">= 18.0 years", ["18y", "216m", "6575d"], ["17.9y", "6574d"]),              # adult
    ("< 1.0 year", ["364d", "11m", "52w"], ["1y", "12m", "366d"]),                # infancy
    (">= 1.0 years", ["1y", "12m", "366d"], ["364d", "11m"]),                      # juvenile, lower
    (">= 12.0 years", ["12y", "144m"], ["11.99y", "143m"]),                        # adolescence, lower
    ("< 65.0 years", ["64y", "779m"], ["65y", "780m"]),                            # pre-senile
    (">= 65.0 years", ["65y", "780m"], ["64.9y"]),                                 # senile
]


@pytest.mark.parametrize("bound, inside, outside", PHASES)
def test_phase_of_life_boundaries(bound, inside, outside):
    records = [rec("10001005", 1, 1, f"{AGE} {bound}", "A000"),
               rec("10001005", 1, 2, "OTHERWISE TRUE", "A009")]
    for age in inside:
        assert only(evaluate(records, ctx(age=age))).target == "A000", (bound, age)
    for age in outside:
        assert only(evaluate(records, ctx(age=age))).target == "A009", (bound, age)


def test_juvenile_and_adolescence_ranges_as_two_clauses():
    juvenile = [rec("10002003", 1, 1, f"{AGE} >= 1.0 years AND {AGE} < 18.0 years", "A000"),
                rec("10002003", 1, 2, "OTHERWISE TRUE", "A009")]
    assert [only(evaluate(juvenile, ctx(age=a))).target for a in ("11m", "1y", "17y", "18y")] == \
        ["A009", "A000", "A000", "A009"]


def test_age_and_sex_compound_rule():
    records = [rec("10003008", 1, 1, f"{AGE} < 18.0 years AND {FEMALE}", "A000"),
               rec("10003008", 1, 2, "OTHERWISE TRUE", "A009")]
    assert only(evaluate(records, ctx(age="10y", sex="F"))).target == "A000"
    assert only(evaluate(records, ctx(age="10y", sex="M"))).needs == ()
    # a known false clause settles the record whatever the other one
    assert only(evaluate(records, ctx(age="30y"))).needs == ()
    assert only(evaluate(records, ctx(sex="F"))).needs == ("age",)
    assert only(evaluate(records, ctx())).needs == ("sex", "age")


# ---------------------------------------------------------------- other problems (11.6, Appendix B)

def test_poisoning_exclusions_read_the_problem_list():
    aspirin = only(evaluate(SALICYLATE, ctx(problems=["290145004"])))
    assert (aspirin.target, aspirin.map_priority, aspirin.status, aspirin.needs) == \
        ("T39012?", 1, "incomplete", ("episode_of_care",))
    mesalamine = only(evaluate(SALICYLATE, ctx(problems=["295390002", "73430006"])))
    assert mesalamine.target == "T371X2?" and mesalamine.map_priority == 2
    default = only(evaluate(SALICYLATE, ctx(sex="F", age="30y")))
    assert (default.target, default.status, default.needs) == \
        ("T39092?", "incomplete", ("problems", "episode_of_care"))
    assert default.advice == "ALWAYS T39.092? | EPISODE OF CARE INFORMATION NEEDED"


def test_descendant_rule_and_default():
    hip = [rec("67321002", 1, 1, "IFA 12067001 | Acquired coxa vara (disorder) |", "M21159", category=CONTEXT),
           rec("67321002", 1, 2, "OTHERWISE TRUE", "M21959")]
    assert only(evaluate(hip, ctx(problems=["12067001"]))).target == "M21159"
    default = only(evaluate(hip, ctx()))
    assert (default.target, default.status, default.needs) == ("M21959", "mapped", ("problems",))


# ---------------------------------------------------------------- groups, null targets, no map

def test_several_map_groups_answer_in_group_order():
    heart = [rec("46113002", 2, 1, "TRUE", "I509", "ALWAYS I50.9"), rec("46113002", 1, 1, "TRUE", "I110")]
    answers = evaluate(heart, ctx())
    assert [(a.map_group, a.target) for a in answers] == [(1, "I110"), (2, "I509")]


def test_group_without_a_rule_that_holds_has_no_answer():
    records = [rec("10004002", 1, 1, FEMALE, "N979"), rec("10004002", 2, 1, "TRUE", "Z793")]
    first, second = evaluate(records, ctx(sex="M"))
    assert (first.status, first.target, first.record_id, first.needs) == ("no rule held", None, None, ())
    assert second.target == "Z793"
    assert evaluate(records, ctx())[0].status == "context needed"


def test_not_classifiable_concept_has_a_null_target():
    answer = only(evaluate([rec("248152002", 1, 1, "TRUE", None, "MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH "
                                "AVAILABLE DATA", NOT_CLASSIFIABLE)], ctx()))
    assert (answer.status, answer.target, answer.category) == ("no target", None, NOT_CLASSIFIABLE)
    assert answer.advice.startswith("MAP SOURCE CONCEPT CANNOT")


def test_no_records_no_answer():
    assert evaluate([], ctx(sex="F")) == []


def test_inactive_rows_never_fire():
    records = [rec("66327008", 1, 1, "TRUE", "M2190", active=False, record_id="old"),
               rec("66327008", 1, 1, "TRUE", "M21949", record_id="new")]
    assert only(evaluate(records, ctx())).target == "M21949"
    assert evaluate(records[:1], ctx()) == []


def test_rows_as_mappings_and_one_concept_only():
    row = dict(referenced_component_id="6738008", map_group=1, map_priority=1, map_rule="TRUE", map_advice=None,
               map_target="N979", map_category_id=PROPER, record_id="x")
    assert only(evaluate([row])).target == "N979"
    with pytest.raises(QueryError, match="two concepts"):
        evaluate([row, {**row, "referenced_component_id": "2904007"}])


def test_rules_no_context_can_answer_are_refused_not_taken_as_true():
    other = [rec("10005001", 1, 1, "IFA 371152001 | Assisted (qualifier value) | < 3.0", "A000")]
    with pytest.raises(QueryError, match="observable 371152001"):
        evaluate(other, ctx(age="3y"))
    no_unit = [rec("10005001", 1, 1, f"{AGE} < 3.0", "A000")]
    with pytest.raises(QueryError, match="no unit of time"):
        evaluate(no_unit, ctx(age="3y"))


# ---------------------------------------------------------------- inputs

def test_parse_age_and_sex():
    assert parse_age("30y") == Age(30, "year") and parse_age("20 days") == Age(20, "day")
    assert parse_age("6m").days == parse_age("0.5y").days
    assert parse_sex("f") == "F" and parse_sex("Male") == "M" and parse_sex(None) is None
    for bad in ("abc", "30", "-3y", "3 parsecs", ""):
        with pytest.raises(QueryError):
            parse_age(bad)
    with pytest.raises(QueryError):
        parse_sex("X")
    with pytest.raises(QueryError):
        Context.of(problems=["aspirin"])


@pytest.mark.parametrize("bad, message", [
    ("6738009", "'6738009' is not a SNOMED CT concept id: its check digit (the last) is wrong"),
    ("73430007", "check digit (the last) is wrong"),      # 73430006 with its check digit slipped
    ("74330006", "check digit (the last) is wrong"),      # two neighbours swapped
    ("200099014", "partition digits (01) say it is a description id"),
    ("1000027", "partition digits (02) say it is a relationship id"),
    ("1000124", "partition digits (12) name no kind of component"),  # long format needs 11+ digits
])
def test_an_id_failing_its_check_digit_or_partition_is_refused_naming_it(bad, message):
    from codesets.snomed.evaluate import check_concept

    with pytest.raises(QueryError, match="concept " + re.escape(repr(bad))) as raised:
        check_concept(bad)
    assert message in str(raised.value)
    with pytest.raises(QueryError, match="problem " + re.escape(repr(bad))):
        Context.of(problems=["73430006", bad])
    # the public function refuses it before any warehouse is opened (this one does not exist)
    import codesets.snomed

    with pytest.raises(QueryError, match=re.escape(repr(bad))):
        codesets.snomed.evaluate_concept(bad, warehouse="/nonexistent/warehouse")
    with pytest.raises(QueryError, match=re.escape(repr(bad))):
        codesets.snomed.evaluate_concept("73430006", problems=[bad], warehouse="/nonexistent/warehouse")


def test_good_ids_pass_and_the_array_check_agrees_with_the_one_id_check():
    import pyarrow as pa

    from codesets.core import sctid as _sctid
    from codesets.snomed.evaluate import check_concept, concept_ids_ok

    long_id = "1" + "1000124" + "10"  # long format: item 1, namespace 1000124, partition 10 (a concept)
    long_id += _sctid.check_digit(long_id)
    ids = ["73430006", " 237145004 ", "999999006", _sctid.make("1234567"), _sctid.make("123456789012345"),
           long_id, "6738009", "200099014", "1000027", "1000124", "12254175729"]
    expected = []
    for text in ids:
        try:
            expected.append(check_concept(text) == text.strip())
        except QueryError:
            expected.append(False)
    assert expected[:6] == [True] * 6 and expected[6:] == [False] * 5
    stripped = pa.array([text.strip() for text in ids])
    assert concept_ids_ok(stripped).tolist() == expected
    assert concept_ids_ok(stripped.slice(6)).tolist() == expected[6:]


# ---------------------------------------------------------------- properties

_RULES = st.sampled_from([
    "TRUE", "OTHERWISE TRUE", FEMALE, MALE, f"{AGE} < 29.0 days", f"{AGE} >= 18.0 years", f"{AGE} < 1.0 year",
    "IFA 290145004 | Intentional aspirin poisoning (disorder) |", f"{FEMALE} AND {AGE} < 12.0 years",
])
_GROUPS = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 5), _RULES, st.sampled_from([None, "A000", "T39012?"])),
                   min_size=0, max_size=10)


@settings(max_examples=150, deadline=None)
@given(_GROUPS, st.sampled_from([None, "F", "M"]), st.sampled_from([None, "3d", "30d", "11m", "17y", "18y", "70y"]),
       st.sampled_from([(), ("290145004",)]))
def test_one_answer_per_group_and_nothing_true_by_default(rows, sex, age, problems):
    records = [rec("10006000", g, p, r, t, record_id=f"id{i}") for i, (g, p, r, t) in enumerate(rows)]
    answers = evaluate(records, ctx(sex, age, problems))
    assert [a.map_group for a in answers] == sorted({r.map_group for r in records})
    for answer in answers:
        if answer.record_id is None:
            continue
        fired = next(r for r in records if r.record_id == answer.record_id)
        # a record that needs sex or age fires only when that context was given
        if "248152002" in fired.map_rule or "248153007" in fired.map_rule:
            assert sex is not None or set(problems) & {"248152002", "248153007"}
        if "445518008" in fired.map_rule:
            assert age is not None
        if "290145004" in fired.map_rule:
            assert "290145004" in problems
        # nothing above the record that fired, in its group, fires in its place
        group = sorted((r for r in records if r.map_group == answer.map_group), key=lambda r: (r.map_priority, r.record_id))
        for above in group[:group.index(fired)]:
            assert evaluate([above], ctx(sex, age, problems))[0].record_id is None
    # more context never makes a determinate answer (no sex or age needed) change
    for answer in answers:
        if "sex" not in answer.needs and "age" not in answer.needs:
            fuller = evaluate(records, ctx(sex or "F", age or "40y", problems))
            assert next(a for a in fuller if a.map_group == answer.map_group).record_id == answer.record_id


# ---------------------------------------------------------------- the warehouse

ICD10 = fakes.FakeCodeLoader(source="icd10cm")


@pytest.fixture
def mapped(warehouse, tmp_path, monkeypatch):
    """The bundled sample map and a hand-made ICD-10-CM year holding completions of two '?' targets."""
    from codesets.warehouse.load import load

    load(warehouse, "snomed_icd10cm", [SAMPLE], sample=True)
    fakes.install(monkeypatch, ICD10)
    codes = fakes.write(tmp_path, "order-2024.csv", [
        ("icd10cm", "T39091", "Poisoning by salicylates, accidental", False),
        ("icd10cm", "T39091A", "initial encounter", True),
        ("icd10cm", "T39091D", "subsequent encounter", True),
        ("icd10cm", "T39091S", "sequela", True),
        ("icd10cm", "T39092A", "intentional, initial encounter", True),
        ("icd10cm", "M8000XA", "initial encounter", True),
        ("icd10cm", "M8000XAA", "not a completion (two characters)", True),
        ("icd10cm", "M8000XG", "delayed healing", True),
    ])
    fakes.load(warehouse, ICD10, codes, "2024", date(2023, 10, 1))
    return warehouse


def test_lookup_over_the_sample(mapped):
    with mapped.connect() as con:
        lookup = SnomedLookup(con)
        assert only(lookup.lookup("237145004", sex="F")).target == "N979"
        assert only(lookup.lookup("237145004")).needs == ("sex",)
        assert [a.target for a in lookup.lookup("46113002")] == ["I110", "I509"]
        assert only(lookup.lookup("36440009", age="28d")).target == "P926"
        assert only(lookup.lookup("36440009", age="29d")).target == "R6251"
        assert only(lookup.lookup("7248001", problems=["290145004"])).target == "T39012?"
        assert only(lookup.lookup("248152002")).status == "no target"
        assert lookup.lookup("999999006") == []
        advice = only(lookup.lookup("371162008")).advice
        assert "POSSIBLE REQUIREMENT FOR AN EXTERNAL CAUSE CODE" in advice


def test_inactive_sample_record_never_fires(mapped):
    with mapped.connect() as con:
        lookup = SnomedLookup(con)
        assert [r.record_id for r in lookup.records("66327008")] == ["4de417ee-f602-566c-863a-715670b9a834"]
        answer = only(lookup.lookup("66327008"))
        assert answer.target == "M21949" and answer.record_id == "4de417ee-f602-566c-863a-715670b9a834"


def test_episode_of_care_completions_from_the_release_in_force(mapped):
    with mapped.connect() as con:
        lookup = SnomedLookup(con)
        salicylate = only(lookup.lookup("7248001", on=date(2024, 5, 1)))
        assert salicylate.target == "T39091?" and salicylate.completions == ["T39091A", "T39091D", "T39091S"]
        assert only(lookup.lookup("203445009", on=date(2024, 5, 1))).completions == ["M8000XA", "M8000XG"]
        # a release lists no completion: an empty list; no release in force: None (not known)
        assert only(lookup.lookup("296934007", on=date(2024, 5, 1))).completions == []
        assert only(lookup.lookup("7248001", on=date(2010, 1, 1))).completions is None
        assert only(lookup.lookup("46113002")[:1]).completions is None  # complete targets have none
