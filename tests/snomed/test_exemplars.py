"""Every exemplar of the map's technical specification (sections 11.2 to 11.12 and Appendix B),
through both evaluators: ``SnomedLookup`` (Python) and ``evaluate_batch`` (SQL).

The specification is ../shared/specs/snomed-icd10cm-map-technical-specification.txt (NLM,
version 1.60). Each case is one concept in one patient context, named by the section that gives
it; the expected answer per map group (target, category, advice, the rule that fired, its
priority, status and needs) is the specification's, written as the bundled sample holds it
(codesets/samples/snomed_icd10cm, whose README says which records were written from which
exemplar). Targets are written dotted, as in the specification; the map holds them undotted.

The phase-of-life table of section 11.4 is tested at both sides of each boundary: in Python by
tests/snomed/test_eval.py::test_phase_of_life_boundaries (hand-made rows), here in SQL
on one hand-made record per phase (the sample carries only the 29-day and 18-year bounds).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest

from codesets.core import sctid as _sctid
from codesets.snomed.batch import evaluate_batch
from codesets.snomed.evaluate import SnomedLookup
from tests.query import code_fakes as fakes

SAMPLE = (Path(__file__).resolve().parents[2] / "codesets" / "samples" / "snomed_icd10cm"
          / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_SAMPLE.txt")

PROPER, NOT_CLASSIFIABLE, CONTEXT = "447637006", "447638001", "447639009"
FEMALE = "IFA 248152002 | Female (finding) |"
MALE = "IFA 248153007 | Male (finding) |"
AGE = "IFA 445518008 | Age at onset of clinical finding (observable entity) |"
ASPIRIN = "IFA 290145004 | Intentional aspirin poisoning (disorder) |"
MESALAZINE = "IFA 295390002 | Intentional 5-aminosalicylic acid overdose (disorder) |"
COXA_VARA = "IFA 12067001 | Acquired coxa vara (disorder) |"
EPISODE = "EPISODE OF CARE INFORMATION NEEDED"
GENDER_DEFAULT = "MAP IS CONTEXT DEPENDENT FOR GENDER"


class Group(NamedTuple):
    """The expected answer of one map group, in the columns both evaluators return."""

    map_group: int
    status: str
    target: str | None     # dotted, as the specification writes it
    category: str | None
    advice: str | None
    rule: str | None
    map_priority: int | None
    needs: tuple = ()


def g(target, category, advice, rule, priority, status, needs=(), group=1) -> Group:
    return Group(group, status, target, category, advice, rule, priority, tuple(needs))


def always(target, *advice, status="mapped", needs=(), group=1) -> Group:
    """A rule-TRUE, properly classified record whose advice is "ALWAYS <target>" and ``advice``."""
    return g(target, PROPER, " | ".join((f"ALWAYS {target}", *advice)), "TRUE", 1, status, needs, group)


def chooses(target, rule, condition, priority, *advice, needs=()) -> Group:
    """A context-dependent IFA record: advice "IF <condition> CHOOSE <target>" and ``advice``."""
    status = "incomplete" if target.endswith("?") else "mapped"
    needs = tuple(needs) + (("episode_of_care",) if target.endswith("?") else ())
    return g(target, CONTEXT, " | ".join((f"IF {condition} CHOOSE {target}", *advice)), rule, priority, status, needs)


def gender_default(priority=3) -> Group:
    return g(None, NOT_CLASSIFIABLE, GENDER_DEFAULT, "OTHERWISE TRUE", priority, "context needed", ("sex",))


def case(name, concept, groups, sex=None, age=None, problems=(), marks=()):
    return pytest.param(concept, sex, age, tuple(problems), list(groups), id=name, marks=marks)


DEPENDENT = "MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT"
BEFORE_29_DAYS = "AGE AT ONSET OF CLINICAL FINDING BEFORE 29.0 DAYS"

CASES = [
    # 11.2.2 Episode of care: a '?' in the 7th character, advice EPISODE OF CARE INFORMATION NEEDED
    case("11.2.2-203445009-osteoporosis-of-disuse", "203445009",
         [always("M80.00X?", EPISODE, status="incomplete", needs=["episode_of_care"])]),

    # 11.3 Gender asserted by the source: TRUE, properly classified, whatever the patient's sex
    case("11.3-6738008-female-infertility", "6738008", [always("N97.9")]),
    case("11.3-6738008-female-infertility-male-patient", "6738008", [always("N97.9")], sex="M"),
    case("11.3-2904007-male-infertility", "2904007", [always("N46.9")]),
    case("11.3-2904007-male-infertility-female-patient", "2904007", [always("N46.9")], sex="F"),
    # 11.3 Gender context (Exemplars: Gender #3): IFA Female, IFA Male, OTHERWISE TRUE with no target
    case("11.3-237145004-unexplained-infertility-female", "237145004",
         [chooses("N97.9", FEMALE, "FEMALE (FINDING)", 1, DEPENDENT)], sex="F"),
    case("11.3-237145004-unexplained-infertility-male", "237145004",
         [chooses("N46.9", MALE, "MALE (FINDING)", 2, DEPENDENT)], sex="M"),
    case("11.3-237145004-unexplained-infertility-sex-unknown", "237145004", [gender_default()]),
    # 11.3 (Gender #4)
    case("11.3-430556008-malignant-neoplasm-genital-female", "430556008",
         [chooses("C57.9", FEMALE, "FEMALE (FINDING)", 1, DEPENDENT)], sex="F"),
    case("11.3-430556008-malignant-neoplasm-genital-male", "430556008",
         [chooses("C63.9", MALE, "MALE (FINDING)", 2, DEPENDENT)], sex="M"),
    case("11.3-430556008-malignant-neoplasm-genital-sex-unknown", "430556008", [gender_default()]),
    # 11.3 (Gender #5) and Appendix B items A (no default target), B and 1 (N81.10 / N32.89)
    case("11.3+B.B-410070006-herniated-bladder-female", "410070006",
         [chooses("N81.10", FEMALE, "FEMALE (FINDING)", 1, DEPENDENT)], sex="F"),
    case("11.3+B.1-410070006-herniated-bladder-male", "410070006",
         [chooses("N32.89", MALE, "MALE (FINDING)", 2, DEPENDENT)], sex="M"),
    case("11.3+B.A-410070006-herniated-bladder-no-default-target", "410070006", [gender_default()]),

    # 11.4 Age context (Exemplars: Age #2): < 29.0 days P28.3, otherwise G47.30
    case("11.4-73430006-sleep-apnea-28-days", "73430006",
         [chooses("P28.3", f"{AGE} < 29.0 days", BEFORE_29_DAYS, 1, DEPENDENT)], age="28d"),
    case("11.4-73430006-sleep-apnea-29-days", "73430006",
         [g("G47.30", PROPER, "ALWAYS G47.30", "OTHERWISE TRUE", 2, "mapped")], age="29d"),
    case("11.4-73430006-sleep-apnea-40-years", "73430006",
         [g("G47.30", PROPER, "ALWAYS G47.30", "OTHERWISE TRUE", 2, "mapped")], age="40y"),
    case("11.4-73430006-sleep-apnea-age-unknown", "73430006",
         [g("G47.30", PROPER, "ALWAYS G47.30", "OTHERWISE TRUE", 2, "context needed", ["age"])]),
    # 11.4 (Age #4): P92.6 to 28 days, R62.51 for children, R62.7 from 18 years
    *[case(f"11.4-36440009-failure-to-gain-weight-{age}", "36440009", [groups], age=age) for age, groups in [
        ("0d", chooses("P92.6", f"{AGE} < 29.0 days", BEFORE_29_DAYS, 1, DEPENDENT)),
        ("28d", chooses("P92.6", f"{AGE} < 29.0 days", BEFORE_29_DAYS, 1, DEPENDENT)),
        ("29d", chooses("R62.51", f"{AGE} < 18.0 years", "AGE AT ONSET OF CLINICAL FINDING BEFORE 18.0 YEARS", 2,
                        DEPENDENT)),
        ("17.99y", chooses("R62.51", f"{AGE} < 18.0 years", "AGE AT ONSET OF CLINICAL FINDING BEFORE 18.0 YEARS", 2,
                           DEPENDENT)),
        ("18y", chooses("R62.7", f"{AGE} >= 18.0 years", "AGE AT ONSET OF CLINICAL FINDING ON OR AFTER 18.0 YEARS", 3,
                        DEPENDENT)),
        ("216m", chooses("R62.7", f"{AGE} >= 18.0 years", "AGE AT ONSET OF CLINICAL FINDING ON OR AFTER 18.0 YEARS", 3,
                         DEPENDENT)),
    ]],
    case("11.4-36440009-failure-to-gain-weight-age-unknown", "36440009",
         [g(None, NOT_CLASSIFIABLE, "MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH AVAILABLE DATA", "OTHERWISE TRUE", 4,
            "context needed", ["age"])], sex="F"),

    # 11.5 Acquired versus congenital
    case("11.5-2749000-congenital-deformity-of-hip", "2749000",
         [always("Q65.9", "DESCENDANTS NOT EXHAUSTIVELY MAPPED")]),
    case("11.5-66327008-acquired-deformity-of-hand", "66327008",
         [always("M21.949", "CONSIDER LATERALITY SPECIFICATION", "DESCENDANTS NOT EXHAUSTIVELY MAPPED")]),
    case("11.5-299233007-deformity-of-hip-joint", "299233007",
         [always("M21.959", "DESCENDANTS NOT EXHAUSTIVELY MAPPED", "MAPPED WITH NCHS GUIDANCE")]),

    # 11.6 Poisonings
    case("11.6-296934007-accidental-warfarin-overdose", "296934007",
         [always("T45.511?", "CONSIDER ADDITIONAL CODE TO IDENTIFY SPECIFIC CONDITION OR DISEASE", EPISODE,
                 status="incomplete", needs=["episode_of_care"])]),
    # (the sample gives 7248001 the IFA rules of 290148002 above its default; the spec gives only the default)
    case("11.6-7248001-poisoning-by-salicylate", "7248001",
         [g("T39.091?", PROPER, f"ALWAYS T39.091? | {EPISODE}", "OTHERWISE TRUE", 3, "incomplete",
            ["problems", "episode_of_care"])]),
    # 11.6 (Poisoning #4): IFA rules on other concepts of the problem list
    case("11.6-290148002-intentional-salicylate-with-aspirin", "290148002",
         [chooses("T39.012?", ASPIRIN, "INTENTIONAL ASPIRIN POISONING (DISORDER)", 1, EPISODE)],
         problems=["290145004"]),
    case("11.6-290148002-intentional-salicylate-with-5-ASA", "290148002",
         [chooses("T37.1X2?", MESALAZINE, "INTENTIONAL 5-AMINOSALICYLIC ACID OVERDOSE (DISORDER)", 2, EPISODE,
                  needs=["problems"])],
         problems=["295390002"]),
    case("11.6-290148002-intentional-salicylate-with-both", "290148002",
         [chooses("T39.012?", ASPIRIN, "INTENTIONAL ASPIRIN POISONING (DISORDER)", 1, EPISODE)],
         problems=["295390002", "290145004"]),
    case("11.6-290148002-intentional-salicylate-otherwise", "290148002",
         [g("T39.092?", PROPER, f"ALWAYS T39.092? | {EPISODE}", "OTHERWISE TRUE", 3, "incomplete",
            ["problems", "episode_of_care"])], sex="F", age="30y", problems=["7248001"]),
    case("11.6-295830007-overdose-of-antidepressant", "295830007",
         [always("T43.201?", EPISODE, status="incomplete", needs=["episode_of_care"])]),

    # 11.7 External causes: one group (X59.9 is not a second target); an event maps to its external cause
    case("11.7+B.2-371162008-closed-skull-fracture", "371162008",
         [always("S02.91X?", "CONSIDER ADDITIONAL CODE TO IDENTIFY SPECIFIC CONDITION OR DISEASE",
                 "DESCENDANTS NOT EXHAUSTIVELY MAPPED", EPISODE, "POSSIBLE REQUIREMENT FOR AN EXTERNAL CAUSE CODE",
                 status="incomplete", needs=["episode_of_care"])]),
    case("11.7-219239003-assault-by-hot-liquid", "219239003",
         [always("X98.2XX?", EPISODE, "THIS IS AN EXTERNAL CAUSE CODE FOR USE IN A SECONDARY POSITION",
                 status="incomplete", needs=["episode_of_care"])]),

    # 11.8 Dagger and asterisk: one ICD-10-CM code
    case("11.8-111900000-pneumonia-in-aspergillosis", "111900000", [always("B44.1")]),
    case("11.8-20735004-syphilitic-aortitis", "20735004", [always("A52.02")]),

    # 11.9 Use additional code: a second map group (I50.9); no second group for residual meaning (N95.8)
    case("11.9-46113002-hypertensive-heart-failure", "46113002",
         [always("I11.0", group=1), always("I50.9", group=2)]),
    case("11.9-301783004-abnormal-perimenopausal-bleeding", "301783004", [always("N95.8")]),

    # 11.12 Location and multiplicity at birth
    case("11.12-169813005-home-birth", "169813005", [always("Z38.1")]),
    case("11.12-169814004-gp-unit-birth", "169814004", [always("Z38.0")]),
    case("11.12-169828005-twins-both-live-born", "169828005", [always("Z37.2")]),

    # Appendix B item A: a default target; item C: refinement by a descendant, by laterality, by trimester
    case("B.A-6020002-tinea-pedis", "6020002", [always("B35.3")]),
    case("B.C-67321002-acquired-deformity-of-hip-default", "67321002",
         [g("M21.959", PROPER, "ALWAYS M21.959 | CONSIDER LATERALITY SPECIFICATION | DESCENDANTS NOT EXHAUSTIVELY "
            "MAPPED", "OTHERWISE TRUE", 2, "mapped", ["problems"])]),
    # the spec says only that the descendant maps to "a different ICD-10-CM code"; M21.159 is the sample's
    case("B.C-67321002-acquired-deformity-of-hip-with-coxa-vara", "67321002",
         [chooses("M21.159", COXA_VARA, "ACQUIRED COXA VARA (DISORDER)", 1, "CONSIDER LATERALITY SPECIFICATION")],
         problems=["12067001"]),
    case("B.C-34842007-antepartum-hemorrhage", "34842007", [always("O46.90", "CONSIDER TRIMESTER SPECIFICATION")]),

    # section 9 / 7.4: a concept not classifiable at all (the sample's 248152002): TRUE, null target
    case("9-248152002-not-classifiable", "248152002",
         [g(None, NOT_CLASSIFIABLE, "MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH AVAILABLE DATA", "TRUE", 1,
            "no target")]),
]

INACTIVE_66327008 = "22941a1c-063c-5e23-9c68-12254175729b"
ACTIVE_66327008 = "4de417ee-f602-566c-863a-715670b9a834"
ICD10 = fakes.FakeCodeLoader(source="icd10cm")
# Appendix B item 2: the completions of S02.91X? a user picks from (closed and open initial, D, G, K, S)
SKULL_COMPLETIONS = ["S0291XA", "S0291XB", "S0291XD", "S0291XG", "S0291XK", "S0291XS"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The bundled sample map, and an ICD-10-CM year holding the 7th characters of S02.91X."""
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    folder = tmp_path_factory.mktemp("snomed_exemplars")
    warehouse = Warehouse(folder / "wh")
    load(warehouse, "snomed_icd10cm", [SAMPLE], sample=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fakes.install(monkeypatch, ICD10)
        codes = fakes.write(folder, "order-2024.csv", [
            ("icd10cm", "S0291X", "Unspecified fracture of skull", False),
            *[("icd10cm", code, "Unspecified fracture of skull, 7th character", True) for code in SKULL_COMPLETIONS],
        ])
        fakes.load(warehouse, ICD10, codes, "2024", date(2023, 10, 1))
    con = warehouse.connect()
    try:
        yield con, SnomedLookup(con)
    finally:
        con.close()


def undotted(groups: list[Group]) -> list[Group]:
    return [grp._replace(target=grp.target.replace(".", "")) if grp.target else grp for grp in groups]


def python_answers(lookup, concept, sex, age, problems):
    answers = lookup.lookup(concept, sex=sex, age=age, problems=problems)
    return ([Group(a.map_group, a.status, a.target, a.category, a.advice, a.rule, a.map_priority, tuple(a.needs))
             for a in answers], [a.record_id for a in answers])


def sql_answers(con, problems_batch):
    return evaluate_batch(con, problems_batch).to_pylist()


def as_group(row) -> Group:
    return Group(row["map_group"], row["status"], row["target"], row["category"], row["advice"], row["rule"],
                 row["map_priority"], tuple(row["needs"]))


@pytest.mark.parametrize("concept, sex, age, problems, groups", CASES)
def test_exemplar_in_python_and_in_sql(sample, concept, sex, age, problems, groups):
    con, lookup = sample
    want = undotted(groups)
    got, record_ids = python_answers(lookup, concept, sex, age, problems)
    assert got == want
    rows = sql_answers(con, [dict(problem_id="p", concept=concept, sex=sex, age=age, problems=list(problems))])
    assert [as_group(r) for r in rows] == want
    assert all(r["problem_id"] == "p" and r["concept"] == concept for r in rows)
    # the same record fired in both, and it is the sample's record of that group and priority
    assert [r["record_id"] for r in rows] == record_ids
    for grp, record_id in zip(want, record_ids):
        fired = [r.record_id for r in lookup.records(concept)
                 if (r.map_group, r.map_priority) == (grp.map_group, grp.map_priority)]
        assert fired == [record_id]


def test_all_exemplars_in_one_batch_answer_as_one_by_one(sample):
    con, _ = sample
    batch = [dict(problem_id=str(n), concept=p.values[0], sex=p.values[1], age=p.values[2], problems=list(p.values[3]))
             for n, p in enumerate(CASES)]
    rows = sql_answers(con, batch)
    want = [(str(n), grp) for n, p in enumerate(CASES) for grp in undotted(p.values[4])]
    assert [(r["problem_id"], as_group(r)) for r in rows] == want


def test_inactive_record_never_answers(sample):
    """66327008: the 2023 record (M21.90) was inactivated in 2024 and replaced (11.5; sample)."""
    con, lookup = sample
    history = con.execute("SELECT record_id, active, map_target FROM snomed_icd10cm_map_history "
                          "WHERE referenced_component_id = '66327008' ORDER BY effective_time").fetchall()
    assert history == [(INACTIVE_66327008, False, "M2190"), (ACTIVE_66327008, True, "M21949")]
    for sex, age in [(None, None), ("F", "30y"), ("M", "2d")]:
        (answer,) = lookup.lookup("66327008", sex=sex, age=age)
        (row,) = sql_answers(con, [dict(problem_id="p", concept="66327008", sex=sex, age=age, problems=[])])
        assert answer.record_id == row["record_id"] == ACTIVE_66327008
        assert answer.target == row["target"] == "M21949"


def test_episode_of_care_completions_appendix_b_items_2_and_3(sample):
    """371162008: the user picks the 7th character of S02.91X? (item 2); "initial encounter for
    closed fracture" gives S02.91XA (item 3). Completions are Python's only (the batch lists none)."""
    _, lookup = sample
    (answer,) = lookup.lookup("371162008", on=date(2024, 5, 1))
    assert answer.target == "S0291X?" and answer.completions == SKULL_COMPLETIONS
    assert "S0291XA" in answer.completions
    assert lookup.lookup("371162008", on=date(2010, 1, 1))[0].completions is None


# ---------------------------------------------------------------- 11.4 phases of life, in SQL

# (phase, rule as the table of section 11.4 gives it, ages inside, ages outside); 1 year = 365.25 days
PHASES = [
    ("neonatal", "< 29.0 days", ["0d", "28d", "4w", "28.99d"], ["29d", "1m"]),
    ("perinatal", "< 29.0 days", ["28d"], ["29d"]),
    ("childhood", "< 18.0 years", ["17.99y", "215m", "6574d"], ["18y", "216m", "6574.5d"]),
    ("adult", ">= 18.0 years", ["18y", "216m", "6574.5d"], ["17.99y", "215m", "6574d"]),
    ("infancy", "< 1.0 year", ["364d", "365d", "11m", "52w"], ["1y", "12m", "366d"]),
    ("juvenile", ">= 1.0 years AND {AGE} < 18.0 years", ["1y", "12m", "366d", "17.99y", "215m"],
     ["365d", "11m", "18y", "216m"]),
    ("adolescence", ">= 12.0 years AND {AGE} < 18.0 years", ["12y", "144m", "17.99y"], ["11.99y", "143m", "18y"]),
    ("pre-senile", "< 65.0 years", ["64.99y", "779m", "23741d"], ["65y", "780m", "23741.25d"]),
    ("senile", ">= 65.0 years", ["65y", "780m", "23741.25d"], ["64.99y", "779m", "23741d"]),
]
PHASE_CONCEPT = {phase: _sctid.make(str(10010 + n)) for n, (phase, *_rest) in enumerate(PHASES)}


@pytest.fixture(scope="module")
def phases(tmp_path_factory):
    """A map of one concept per phase: its age rule (A000), then OTHERWISE TRUE (A009)."""
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    folder = tmp_path_factory.mktemp("snomed_phases")
    lines = [SAMPLE.read_text(encoding="utf-8").splitlines()[0]]
    for n, (phase, rule, _inside, _outside) in enumerate(PHASES):
        concept = PHASE_CONCEPT[phase]
        for priority, (text, target) in enumerate([(f"{AGE} {rule.format(AGE=AGE)}", "A000"),
                                                   ("OTHERWISE TRUE", "A009")], 1):
            lines.append("\t".join([f"00000000-0000-5000-8000-{n * 10 + priority:012d}", "20240301", "1",
                                    "731000124108", "6011000124106", concept, "1", str(priority), text,
                                    f"{phase.upper()} {priority}", target, "447561005", PROPER]))
    path = folder / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_PHASES.txt"
    path.write_text("".join(line + "\r\n" for line in lines), encoding="utf-8", newline="")
    warehouse = Warehouse(folder / "wh")
    load(warehouse, "snomed_icd10cm", [path], sample=True)
    con = warehouse.connect()
    try:
        yield con, SnomedLookup(con)
    finally:
        con.close()


@pytest.mark.parametrize("phase, rule, inside, outside", PHASES, ids=[p[0] for p in PHASES])
def test_phase_of_life_boundaries_in_sql(phases, phase, rule, inside, outside):
    con, lookup = phases
    concept = PHASE_CONCEPT[phase]
    ages = inside + outside
    rows = sql_answers(con, [dict(problem_id=age, concept=concept, sex=None, age=age, problems=[]) for age in ages])
    want = {**{age: ("A000", 1) for age in inside}, **{age: ("A009", 2) for age in outside}}
    assert {r["problem_id"]: (r["target"], r["map_priority"]) for r in rows} == want
    assert all(r["status"] == "mapped" and r["needs"] == [] for r in rows)
    for age in ages:  # and Python agrees on the same records
        (answer,) = lookup.lookup(concept, age=age)
        assert (answer.target, answer.map_priority) == want[age], (phase, age)
