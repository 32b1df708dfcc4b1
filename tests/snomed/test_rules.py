"""The SNOMED CT map rule reader (Appendix C of the NLM technical specification) on every rule
text the specification's exemplars show, on malformed texts, and a round-trip property."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesets.core.snomed_rules import (
    OPERATORS,
    AllOf,
    Always,
    Concept,
    FindingClause,
    ObservableClause,
    Quantity,
    RuleSyntaxError,
    parse,
    render,
)

AGE = Concept("445518008", "Age at onset of clinical finding (observable entity)")
FEMALE = Concept("248152002", "Female (finding)")
MALE = Concept("248153007", "Male (finding)")


def age(operator: str, number: str, unit: str) -> ObservableClause:
    return ObservableClause(AGE, operator, Quantity(Decimal(number), unit))


# --- the forms the specification shows (section 9, 11.x, Appendix B) -------------------------


@pytest.mark.parametrize(("text", "tree"), [
    ("TRUE", Always(otherwise=False)),
    ("OTHERWISE TRUE", Always(otherwise=True)),
    # Appendix C literals are case-insensitive, with optional surrounding whitespace
    ("true", Always(False)),
    ("  otherwise   true\t", Always(True)),
    # 11.3 gender context (237145004 Unexplained infertility; 430556008; 410070006 in Appendix B)
    ("IFA 248152002 | Female (finding) |", AllOf((FindingClause(FEMALE),))),
    ("IFA 248153007 | Male (finding) |", AllOf((FindingClause(MALE),))),
    # 11.4 age at onset (73430006 Sleep apnea; 36440009 Failure to gain weight): the phases of life
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < 29.0 days",
     AllOf((age("<", "29.0", "days"),))),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < 18.0 years",
     AllOf((age("<", "18.0", "years"),))),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | >= 18.0 years",
     AllOf((age(">=", "18.0", "years"),))),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < 1.0 year",
     AllOf((age("<", "1.0", "year"),))),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | >= 65.0 years",
     AllOf((age(">=", "65.0", "years"),))),
    # 'Juvenile' (1.0 years =< age < 18.0 years) written as two clauses
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | >= 1.0 years AND "
     "IFA 445518008 | Age at onset of clinical finding (observable entity) | < 18.0 years",
     AllOf((age(">=", "1.0", "years"), age("<", "18.0", "years")))),
    # 11.6 poisoning exclusion rules on other concepts (7248001 Poisoning by salicylate)
    ("IFA 290145004 | Intentional aspirin poisoning (disorder) |",
     AllOf((FindingClause(Concept("290145004", "Intentional aspirin poisoning (disorder)")),))),
    # the exemplar's term has no semantic tag: read (the term is a label; the id is what counts)
    ("IFA 295390002 | Intentional 5-aminosalicylic acid overdose |",
     AllOf((FindingClause(Concept("295390002", "Intentional 5-aminosalicylic acid overdose")),))),
    # 11.10 compound: a descendant concept AND an age of onset
    ("IFA 12067001 | Acquired coxa vara (disorder) | AND "
     "IFA 445518008 | Age at onset of clinical finding (observable entity) | < 18.0 years",
     AllOf((FindingClause(Concept("12067001", "Acquired coxa vara (disorder)")), age("<", "18.0", "years")))),
    # every operator the brief names; a bare number (Appendix C Numeric); no spaces around the pipes
    ("IFA 445518008|Age at onset of clinical finding (observable entity)|<=2", AllOf((
        ObservableClause(AGE, "<=", Quantity(Decimal("2"), None)),))),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | > 12.5 months",
     AllOf((age(">", "12.5", "months"),))),
    # embedded parentheses in a term; line breaks as whitespace between tokens
    ("ifa 203445009 | Osteoporosis of disuse (with pathological fracture) (disorder) |\r\nand\n"
     "IFA 248152002 | Female (finding) |",
     AllOf((FindingClause(Concept("203445009", "Osteoporosis of disuse (with pathological fracture) (disorder)")),
            FindingClause(FEMALE)))),
])
def test_rules_of_the_exemplars_parse(text, tree):
    assert parse(text) == tree
    assert parse(render(tree)) == tree


def test_canonical_text_and_semantic_tag():
    tree = parse("ifa 445518008|Age at onset of clinical finding (observable entity)|   <   29.0   days")
    assert render(tree) == "IFA 445518008 | Age at onset of clinical finding (observable entity) | < 29.0 days"
    assert tree.clauses[0].concept.semantic_tag == "observable entity"
    assert FEMALE.semantic_tag == "finding"
    assert Concept("295390002", "Intentional 5-aminosalicylic acid overdose").semantic_tag is None


# --- malformed texts: refused with the text and the position ----------------------------------


@pytest.mark.parametrize(("text", "position", "expected"), [
    ("", 1, "the rule is empty"),
    ("   ", 4, "the rule is empty"),
    ("TRUE TRUE", 6, "nothing may follow TRUE"),
    ("OTHERWISE", 1, "expected IFA"),
    ("OTHERWISE FALSE", 1, "expected IFA"),
    ("FALSE", 1, "expected IFA"),
    ("IF 248152002 | Female (finding) |", 1, "expected IFA"),
    ("IFA", 4, "concept id"),
    ("IFA 12345 | Too short an id (finding) |", 5, "concept id"),
    ("IFA 1234567890123456789 | Too long an id (finding) |", 5, "concept id"),
    ("IFA 248152002 Female (finding)", 15, "'|' opening"),
    # the prose of 11.3 leaves out the closing pipe; the release files never do
    ("IFA 248152002 | Female (finding)", 33, "'|' closing"),
    ("IFA 248152002 |  |", 16, "term between the pipes"),
    ("IFA 248152002 | Fe\tmale (finding) |", 19, "control characters"),
    ("IFA 248152002 | Female (finding) | OR IFA 248153007 | Male (finding) |", 36, "expected AND"),
    ("IFA {248152002 | Female (finding) OR 248153007 | Male (finding)}", 5, "concept id"),
    ("IFA 248152002 | Female (finding) | AND", 39, "expected IFA"),
    ("IFA 248152002 | Female (finding) | AND TRUE", 40, "expected IFA"),
    ("IFA 248152002 | Female (finding) |AND IFA 248153007 | Male (finding) |", 35, "expected AND"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | = 18.0 years", 72, "operators"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | =< 18.0 years", 72, "operators"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | <", 73, "expected a number"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < years", 74, "expected a number"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < 18.0.1 years", 74, "expected a number"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < 18.0years", 78, "expected AND"),
    ("IFA 445518008 | Age at onset of clinical finding (observable entity) | < 18.0 years old", 85, "expected AND"),
])
def test_malformed_rules_are_refused_naming_text_and_position(text, position, expected):
    with pytest.raises(RuleSyntaxError) as info:
        parse(text)
    assert info.value.position == position, str(info.value)
    assert expected in str(info.value)
    assert repr(text)[:40] in str(info.value)


# --- round trip: tree -> text -> tree ----------------------------------------------------------

_term_char = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="|")
terms = st.text(_term_char, min_size=1, max_size=40).map(str.strip).filter(bool)
concepts = st.builds(Concept, st.from_regex(r"[1-9][0-9]{5,17}", fullmatch=True), terms)
units = st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True).filter(lambda u: u.upper() != "AND")
numbers = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True).map(Decimal)
quantities = st.builds(Quantity, numbers, st.none() | units)
clauses = st.builds(FindingClause, concepts) | st.builds(
    ObservableClause, concepts, st.sampled_from(OPERATORS), quantities
)
rules = st.builds(Always, st.booleans()) | st.builds(
    AllOf, st.lists(clauses, min_size=1, max_size=4).map(tuple)
)


@given(rules)
def test_round_trip(tree):
    text = render(tree)
    assert parse(text) == tree
    assert render(parse(text)) == text


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_never_anything_else(text):
    try:
        tree = parse(text)
    except RuleSyntaxError as error:
        assert 1 <= error.position <= len(text) + 1
    else:
        assert isinstance(tree, (Always, AllOf))
        assert parse(render(tree)) == tree
