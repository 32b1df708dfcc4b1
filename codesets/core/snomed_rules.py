"""Map rules of the SNOMED CT to ICD-10-CM map, parsed into a small typed tree.

A map record's rule says when its target applies (technical specification, section 9 and
Appendix C). Three forms occur:

    TRUE                      the record always applies
    OTHERWISE TRUE            the default at the end of a group: applies when nothing above did
    IFA ...                   one or more clauses joined by AND, each naming a SNOMED CT concept:
      IFA 248152002 | Female (finding) |
          a finding clause: true when the patient record holds that concept
      IFA 445518008 | Age at onset of clinical finding (observable entity) | < 29.0 days
          an observable clause: true when the record's value for the observable compares so

This module only reads rules; it never evaluates one. ``parse`` returns the tree or raises
``RuleSyntaxError`` naming the text and the position where reading stopped, so no rule text
can fall through to "true" unread. ``render`` writes a tree back as canonical text;
``parse(render(tree)) == tree`` holds for every tree (tests/snomed/test_rules.py).

Where this reader departs from the letter of Appendix C, on purpose:

- Keywords (TRUE, OTHERWISE TRUE, IFA, AND) are read in any case, as ABNF string literals are.
- A clause may be followed by any number of AND clauses (the grammar allows one); a longer
  conjunction means the same thing and an evaluator handles it alike.
- The concept's term between the pipes is a label: the evaluator matches the SCTID. A term
  without a semantic tag is read (the specification's own Poisoning #4 exemplar writes one
  so), and an operator after the concept, not the tag, makes a clause an observable one.
- A value is a number with an optional unit word (``29.0 days``, ``18.0 years``, ``12``). The
  grammar also admits a concept or free text as a value; no published rule uses one and no
  evaluator could compare it, so such a rule is refused rather than read as text.
- The closing pipe after a term is required: the prose of sections 11.3 and 11.6 leaves it
  out ("IFA 248152002 | Female (finding)"), the release files do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

OPERATORS = ("<", "<=", ">", ">=")


class RuleSyntaxError(ValueError):
    """A map rule that does not follow the grammar; ``position`` is 1-based, in characters."""

    def __init__(self, text: str, position: int, expected: str):
        self.text = text
        self.position = position
        self.expected = expected
        shown = text if len(text) <= 120 else text[:117] + "..."
        super().__init__(f"map rule {shown!r}: at character {position}, {expected}")


@dataclass(frozen=True)
class Concept:
    """A SNOMED CT concept as a rule names it: its id and the term written between the pipes."""

    sctid: str
    term: str

    @property
    def semantic_tag(self) -> str | None:
        """The parenthesised tag ending the term, e.g. 'finding'; None when the term has none."""
        match = re.search(r"\(([^()]+)\)\s*$", self.term)
        return match.group(1).strip() if match else None


@dataclass(frozen=True)
class Quantity:
    """A value an observable is compared with: a number and, usually, a unit ('days', 'years')."""

    number: Decimal
    unit: str | None = None


@dataclass(frozen=True)
class FindingClause:
    """IFA concept: true when the patient record holds the concept."""

    concept: Concept


@dataclass(frozen=True)
class ObservableClause:
    """IFA observable OPERATOR value: true when the record's value of the observable compares so."""

    concept: Concept
    operator: str  # one of OPERATORS
    value: Quantity


Clause = Union[FindingClause, ObservableClause]


@dataclass(frozen=True)
class Always:
    """TRUE (``otherwise`` False) or OTHERWISE TRUE (the default record of a group)."""

    otherwise: bool = False


@dataclass(frozen=True)
class AllOf:
    """One or more clauses joined by AND: true when every clause is."""

    clauses: tuple[Clause, ...]


Rule = Union[Always, AllOf]

_WS = " \t\r\n"
_SCTID = re.compile(r"[0-9]{6,18}(?![0-9])")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?![0-9.])")
_UNIT = re.compile(r"[A-Za-z]+(?![A-Za-z0-9])")
_TRUE = re.compile(r"TRUE", re.IGNORECASE)
_OTHERWISE_TRUE = re.compile(r"OTHERWISE[ \t\r\n]+TRUE", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse(text: str) -> Rule:
    """The tree of one rule text; ``RuleSyntaxError`` when the text is not a rule."""
    return _Reader(text).rule()


def render(rule: Rule) -> str:
    """Canonical text of a rule: upper-case keywords, one space between tokens."""
    if isinstance(rule, Always):
        return "OTHERWISE TRUE" if rule.otherwise else "TRUE"
    return " AND ".join(_render_clause(c) for c in rule.clauses)


def _render_clause(clause: Clause) -> str:
    concept = f"IFA {clause.concept.sctid} | {clause.concept.term} |"
    if isinstance(clause, FindingClause):
        return concept
    value = str(clause.value.number) + (f" {clause.value.unit}" if clause.value.unit else "")
    return f"{concept} {clause.operator} {value}"


class _Reader:
    """A recursive-descent reader over one rule text; ``at`` is the 0-based position."""

    def __init__(self, text: str):
        self.text = text
        self.at = 0

    def fail(self, expected: str, at: int | None = None):
        raise RuleSyntaxError(self.text, (self.at if at is None else at) + 1, expected)

    def skip_ws(self) -> bool:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] in _WS:
            self.at += 1
        return self.at > start

    def keyword(self, word: str) -> bool:
        """Consume ``word`` (any case) when it stands here as a whole word."""
        end = self.at + len(word)
        if self.text[self.at:end].upper() == word and not self.text[end:end + 1].isalnum():
            self.at = end
            return True
        return False

    def rule(self) -> Rule:
        self.skip_ws()
        if self.at == len(self.text):
            self.fail("the rule is empty: expected TRUE, OTHERWISE TRUE or IFA")
        for pattern, rule in ((_OTHERWISE_TRUE, Always(otherwise=True)), (_TRUE, Always(otherwise=False))):
            if match := pattern.match(self.text, self.at):
                self.at = match.end()
                self.skip_ws()
                if self.at < len(self.text):
                    self.fail(f"nothing may follow {render(rule)}")
                return rule
        clauses = [self.clause()]
        while True:
            spaced = self.skip_ws()
            if self.at == len(self.text):
                return AllOf(tuple(clauses))
            if not spaced or not self.keyword("AND"):
                self.fail("expected AND and another IFA clause, or the end of the rule")
            self.skip_ws()
            clauses.append(self.clause())

    def clause(self) -> Clause:
        if not self.keyword("IFA"):
            self.fail("expected IFA (or a whole rule of TRUE or OTHERWISE TRUE)")
        self.skip_ws()
        concept = self.concept()
        mark = self.at
        self.skip_ws()
        operator = self.operator()
        if operator is None:
            self.at = mark
            return FindingClause(concept)
        self.skip_ws()
        return ObservableClause(concept, operator, self.quantity())

    def concept(self) -> Concept:
        match = _SCTID.match(self.text, self.at)
        if match is None:
            self.fail("expected a SNOMED CT concept id (6 to 18 digits)")
        self.at = match.end()
        self.skip_ws()
        if self.text[self.at:self.at + 1] != "|":
            self.fail("expected '|' opening the concept's term")
        opened = self.at
        close = self.text.find("|", opened + 1)
        if close < 0:
            self.fail("expected '|' closing the concept's term", at=len(self.text))
        raw = self.text[opened + 1:close]
        if control := _CONTROL.search(raw.strip(_WS)):
            self.fail("a term holds no control characters (tab, line break)", at=opened + 1 + raw.index(control.group()))
        term = raw.strip(_WS)
        if not term:
            self.fail("expected the concept's term between the pipes", at=opened + 1)
        self.at = close + 1
        return Concept(match.group(0), term)

    def operator(self) -> str | None:
        for symbol in ("<=", ">=", "<", ">"):
            if self.text.startswith(symbol, self.at):
                self.at += len(symbol)
                return symbol
        if self.text[self.at:self.at + 1] in ("=", "!"):
            self.fail("expected one of the operators <, <=, >, >=")
        return None

    def quantity(self) -> Quantity:
        match = _NUMBER.match(self.text, self.at)
        if match is None:
            self.fail("expected a number after the operator, e.g. 29.0 days")
        self.at = match.end()
        number = Decimal(match.group(0))
        mark = self.at
        if self.skip_ws() and (unit := _UNIT.match(self.text, self.at)) and unit.group(0).upper() != "AND":
            self.at = unit.end()
            return Quantity(number, unit.group(0))
        self.at = mark
        return Quantity(number, None)
