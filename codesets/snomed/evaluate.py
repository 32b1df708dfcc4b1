"""The I-MAGIC evaluator: a SNOMED CT concept and a patient context -> ICD-10-CM targets, per map group.

NLM's technical specification (Appendix B, sections 9 and 11.x) describes how an application
uses the rule-based map: for each map group of the concept, in order, walk its records by
map_priority and take the first whose rule holds in the patient's context. ``evaluate`` does
that over rows of the ``snomed_icd10cm_map`` view (pure, no DuckDB); ``SnomedLookup`` reads the
view once per connection and answers one concept from memory, adding the valid completions of
an episode-of-care target ('?') from the ICD-10-CM release in force.

Evaluation semantics (chosen here, and held by tests/snomed/test_eval.py)
-------------------------------------------------------------------------------------

Each clause of an IFA rule evaluates to one of four outcomes:

- TRUE.
- FALSE: known to be false (sex given and different; age given and outside the bound).
- UNKNOWN (sex or age): the context the clause asks about is missing. An unknown clause can
  never be confirmed, so it never makes its record fire: nothing is true by default.
- ABSENT: a finding clause naming a concept that is not on the problem list. The
  specification says such a rule "evaluates as false", and so it does here; but adding that
  concept to the problem list would change the answer, so it is remembered.

A record's IFA rule (clauses joined by AND) fires only when every clause is TRUE. A clause
that is FALSE makes the record irrelevant. Otherwise (no FALSE, some UNKNOWN or ABSENT) the
record does not fire, and the kinds of context that could make it fire are added to ``needs``:
'sex' or 'age' for UNKNOWN clauses, 'problems' for ABSENT ones (all of them, even when only
several together would make it fire).

``TRUE`` always fires. ``OTHERWISE TRUE`` fires when reached, that is when no record above it
fired, whatever the reason: the specification makes it the default "when none of the rules are
satisfied or when there is no additional patient context information available" (section 9).
So with sex unknown, 237145004 answers its OTHERWISE TRUE record (no target, "cannot be
classified") with ``needs == ('sex',)`` and status 'context needed'; with age unknown,
73430006 answers the default G47.30, again with status 'context needed': the answer is the
map's fallback, and giving the age could change it. A group whose records all fail (no TRUE
or OTHERWISE TRUE reached) answers no record and no target (status 'no rule held').

Findings. The sex clauses 248152002 |Female| and 248153007 |Male| are answered by ``sex`` when
it is given ('F' or 'M'); when it is not, by the problem list holding that concept (TRUE), and
else they are UNKNOWN (sex). Any other finding is TRUE exactly when the concept it names is
present: on the problem list (``problems``), or the concept being mapped itself (the patient
has it). With the SNOMED CT hierarchy loaded (view snomed_hierarchy), a descendant of the named
concept that is present makes the clause TRUE as well: the published map is the short form,
whose rules "can be interpreted as applicable to a source concept and its descendants"
(section 12.2). Without it, only the named concept itself does.

Hierarchy. A concept with no map records of its own, when the hierarchy is loaded, maps through
its nearest mapped ancestors: those with map records at the least number of is-a steps up
(several when parents at the same distance are mapped, each answered in SCTID order). Their
records are evaluated with the concept itself present, so an IFA rule naming the concept (or one
of its ancestors below the mapped one) fires: 12067001 |Acquired coxa vara| has no records and
answers through 67321002 |Acquired deformity of hip|, whose "IFA 12067001" record gives M21.159.
Each such answer carries ``mapped_via``, the ancestor whose records answered (None for the
concept's own records). A cycle in a (broken) hierarchy ends the walk, it does not hang it.

Age. An observable clause on 445518008 |Age at onset of clinical finding| (or 424144002
|Current chronological age|) compares the context's age with the rule's value, both turned
into days exactly (fractions, no rounding): 1 day; 1 week = 7 days; 1 year = 365.25 days;
1 month = 1/12 year = 30.4375 days. Ages and bounds written in the same unit so compare as
written (18 years >= 18.0 years; 216 months = 18 years; 28 days < 29.0 days, 29 days is not).
A rule on another observable, or with a unit other than these, cannot be evaluated and raises
``QueryError`` naming the record: it is never taken as true.

Episode of care. A target ending in '?' is returned as it is, with 'episode_of_care' in
``needs`` and status 'incomplete'. ``SnomedLookup`` lists its completions: the billable
ICD-10-CM codes of the release in force (on ``on``, default today) that replace the '?' with
one character; None when no ICD-10-CM release is in force (nothing to check against), [] when
that release lists none.

Inactive records never fire (the view holds only active ones; ``evaluate`` skips a row whose
``active`` is false). A concept with no records (and no mapped ancestor) answers an empty list:
no guess.

``needs`` lists, in this order, those of 'sex', 'age', 'problems', 'episode_of_care' that
apply. ``status`` is 'context needed' when needs holds 'sex' or 'age' (the answer is the
group's fallback), else 'no rule held' when no record fired, 'no target' when the record that
fired has none (e.g. "cannot be classified"), 'incomplete' for a '?' target, and 'mapped'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping, NamedTuple

from codesets.core.errors import QueryError
from codesets.core import snomed_rules as rules
from codesets.snomed.hierarchy import Hierarchy

FEMALE = "248152002"
MALE = "248153007"
SEX_OF = {FEMALE: "F", MALE: "M"}
AGE_OBSERVABLES = frozenset({"445518008", "424144002"})  # age at onset; current chronological age

NEEDS_ORDER = ("sex", "age", "problems", "episode_of_care")

# days per unit, exact
_DAYS = {
    "day": Fraction(1),
    "week": Fraction(7),
    "month": Fraction(1461, 48),  # 365.25 / 12
    "year": Fraction(1461, 4),    # 365.25
}
_UNIT_WORDS = {
    "d": "day", "day": "day", "days": "day",
    "w": "week", "wk": "week", "week": "week", "weeks": "week",
    "m": "month", "mo": "month", "month": "month", "months": "month",
    "y": "year", "yr": "year", "year": "year", "years": "year",
}
_SCTID = re.compile(r"[1-9][0-9]{5,17}")
_AGE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*")


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Age:
    """An age at onset: a number of a unit (day, week, month, year)."""

    value: Fraction
    unit: str

    def __post_init__(self):
        if self.unit not in _DAYS:
            raise QueryError(f"age unit {self.unit!r} is not one of days, weeks, months, years")
        if self.value < 0:
            raise QueryError("an age cannot be negative")

    @property
    def days(self) -> Fraction:
        return self.value * _DAYS[self.unit]

    def __str__(self) -> str:
        number = self.value.numerator if self.value.denominator == 1 else float(self.value)
        return f"{number} {self.unit}{'' if self.value == 1 else 's'}"


def parse_age(text) -> Age | None:
    """'30y', '20d', '6m', '2w', '18 years', '1.5y' -> Age; None stays None; anything else: QueryError."""
    if text is None or isinstance(text, Age):
        return text
    match = _AGE.fullmatch(str(text))
    unit = _UNIT_WORDS.get(match.group(2).lower()) if match else None
    if unit is None:
        raise QueryError(f"age {str(text)[:40]!r} is not an age; write a number and a unit: 20d, 6m, 2w or 30y")
    return Age(Fraction(match.group(1)), unit)


def parse_sex(text) -> str | None:
    """'F' or 'M' (any case, or female/male); None stays None."""
    if text is None:
        return None
    value = {"f": "F", "female": "F", "m": "M", "male": "M"}.get(str(text).strip().lower())
    if value is None:
        raise QueryError(f"sex {str(text)[:40]!r} is not F or M (leave it out when unknown)")
    return value


def check_concept(text, role: str = "concept") -> str:
    """A SNOMED CT concept id, spaces stripped: 6 to 18 digits, no leading zero, the partition
    of a concept and a right Verhoeff check digit (codesets.core.sctid). Else QueryError
    naming it (``role``: what the id is, for the message), exit 2 from the CLI: a mistyped id
    such as 6738009 is refused rather than answered 'no map records'."""
    from codesets.core import sctid as _sctid

    value = str(text).strip()
    if not _SCTID.fullmatch(value):
        raise QueryError(f"{role} {value[:40]!r} is not a SNOMED CT concept id (6 to 18 digits, no leading zero)")
    kind = next((k for k in _sctid.KINDS if _sctid.partition_ok(value, k)), None)
    if kind != "concept":
        what = f"say it is a {kind} id" if kind else "name no kind of component"
        raise QueryError(f"{role} {value!r} is not a SNOMED CT concept id: its partition digits "
                         f"({value[-3:-1]}) {what}")
    if not _sctid.check_digit_ok(value):
        raise QueryError(f"{role} {value!r} is not a SNOMED CT concept id: its check digit (the last) is wrong, "
                         "so a digit is mistyped")
    return value


def concept_ids_ok(values):
    """``check_concept``'s partition and check-digit rule over an Arrow string array at once
    (numpy booleans), for the batch: ``values`` already of the SCTID shape, no NULL."""
    import numpy as np
    import pyarrow.compute as pc

    from codesets.core import sctid as _sctid

    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    partition = pc.utf8_slice_codeunits(values, -3, -1)
    concept = pc.or_(pc.equal(partition, "00"),
                     pc.and_(pc.equal(partition, "10"), pc.greater_equal(pc.utf8_length(values), 11)))
    return np.asarray(concept.to_numpy(zero_copy_only=False), dtype=bool) & _sctid.check_digits_ok(values)


@dataclass(frozen=True)
class Context:
    """What the record says of the patient. None (or an empty problem list) means not known."""

    sex: str | None = None
    age: Age | None = None
    problems: frozenset = field(default_factory=frozenset)

    @classmethod
    def of(cls, sex=None, age=None, problems: Iterable[str] = ()) -> "Context":
        return cls(parse_sex(sex), parse_age(age), frozenset(check_concept(p, "problem") for p in problems))


class MapRecord(NamedTuple):
    """One row of the snomed_icd10cm_map view, the columns the evaluator reads."""

    referenced_component_id: str
    map_group: int
    map_priority: int
    map_rule: str
    map_advice: str | None
    map_target: str | None
    map_category_id: str | None
    record_id: str
    active: bool = True


_FIELDS = MapRecord._fields


def as_record(row) -> MapRecord:
    if isinstance(row, MapRecord):
        return row
    if isinstance(row, Mapping):
        return MapRecord(**{k: row[k] for k in _FIELDS if k in row})
    return MapRecord(*row)


# ---------------------------------------------------------------- outputs


class GroupAnswer(NamedTuple):
    concept: str
    map_group: int
    status: str                # mapped, incomplete, no target, no rule held, context needed
    target: str | None         # canonical ICD-10-CM code; may end in '?'
    category: str | None
    advice: str | None
    rule: str | None           # the rule of the record that fired
    record_id: str | None
    map_priority: int | None
    needs: tuple[str, ...]     # of NEEDS_ORDER
    completions: list[str] | None = None  # for a '?' target, filled by SnomedLookup
    mapped_via: str | None = None  # the ancestor whose records answered; None for the concept's own

    @property
    def incomplete(self) -> bool:
        return self.target is not None and self.target.endswith("?")


# ---------------------------------------------------------------- evaluation

_TRUE, _FALSE, _UNKNOWN, _ABSENT = "true", "false", "unknown", "absent"
_PARSED: dict[str, rules.Rule] = {}


def _rule(record: MapRecord) -> rules.Rule:
    tree = _PARSED.get(record.map_rule)
    if tree is None:
        try:
            tree = rules.parse(record.map_rule or "")
        except rules.RuleSyntaxError as exc:
            raise QueryError(f"map record {record.record_id} of concept {record.referenced_component_id}: {exc}") from None
        if len(_PARSED) < 100_000:
            _PARSED[record.map_rule] = tree
    return tree


def _clause(clause: rules.Clause, context: Context, record: MapRecord, present) -> tuple[str, str | None]:
    """(outcome, the context that would settle it); ``present``: the concepts a finding clause finds."""
    sctid = clause.concept.sctid
    if isinstance(clause, rules.FindingClause):
        if sctid in SEX_OF:
            if context.sex is not None:
                return (_TRUE if context.sex == SEX_OF[sctid] else _FALSE), None
            return (_TRUE, None) if sctid in present else (_UNKNOWN, "sex")
        return (_TRUE, None) if sctid in present else (_ABSENT, "problems")
    bound = age_bound_days(clause, record.record_id, record.referenced_component_id)
    if context.age is None:
        return _UNKNOWN, "age"
    age = context.age.days
    holds = {"<": age < bound, "<=": age <= bound, ">": age > bound, ">=": age >= bound}[clause.operator]
    return (_TRUE if holds else _FALSE), None


def age_bound_days(clause, record_id: str, concept: str) -> Fraction:
    """An observable clause's bound in days (exact); QueryError, naming the record, when no
    patient context answers its observable or its value has no unit of time."""
    sctid = clause.concept.sctid
    if sctid not in AGE_OBSERVABLES:
        raise QueryError(f"map record {record_id} of concept {concept}: "
                         f"no patient context answers the observable {sctid} |{clause.concept.term}|")
    unit = _UNIT_WORDS.get((clause.value.unit or "").lower())
    if unit is None:
        raise QueryError(f"map record {record_id} of concept {concept}: "
                         f"the age bound {clause.value.number} {clause.value.unit or ''} has no unit of time")
    return Fraction(clause.value.number) * _DAYS[unit]


def _record(record: MapRecord, context: Context, present) -> tuple[bool, set[str]]:
    """(fires, the context kinds that could make it fire when it does not)."""
    tree = _rule(record)
    if isinstance(tree, rules.Always):
        return True, set()
    wanted: set[str] = set()
    for clause in tree.clauses:
        outcome, kind = _clause(clause, context, record, present)
        if outcome == _FALSE:
            return False, set()
        if outcome != _TRUE:
            wanted.add(kind)
    return not wanted, wanted


def evaluate(records: Iterable, context: Context | None = None, present=None) -> list[GroupAnswer]:
    """One answer per map group, in group order, for the records of one concept (rows of the view).

    ``present``: the concepts an IFA finding clause finds; by default the problem list and the
    concept itself (``SnomedLookup`` adds their ancestors when the hierarchy is loaded).
    """
    context = context or Context()
    groups: dict[int, list[MapRecord]] = {}
    concept = None
    for row in records:
        record = as_record(row)
        if concept is None:
            concept = record.referenced_component_id
        elif record.referenced_component_id != concept:
            raise QueryError(f"records of two concepts ({concept}, {record.referenced_component_id}) "
                             "given to evaluate; pass one concept's records")
        if record.active is False:
            continue  # an inactive record never fires
        groups.setdefault(record.map_group, []).append(record)
    if present is None:
        present = context.problems | {concept}
    return [_group(concept, g, sorted(rs, key=lambda r: (r.map_priority, r.record_id)), context, present)
            for g, rs in sorted(groups.items())]


def _group(concept: str, group: int, records: list[MapRecord], context: Context, present) -> GroupAnswer:
    wanted: set[str] = set()
    fired = None
    for record in records:
        fires, kinds = _record(record, context, present)
        if fires:
            fired = record
            break
        wanted |= kinds
    target = fired.map_target if fired else None
    if target and target.endswith("?"):
        wanted.add("episode_of_care")
    needs = tuple(k for k in NEEDS_ORDER if k in wanted)
    if "sex" in wanted or "age" in wanted:
        status = "context needed"
    elif fired is None:
        status = "no rule held"
    elif target is None:
        status = "no target"
    elif target.endswith("?"):
        status = "incomplete"
    else:
        status = "mapped"
    if fired is None:
        return GroupAnswer(concept, group, status, None, None, None, None, None, None, needs)
    return GroupAnswer(concept, group, status, target, fired.map_category_id, fired.map_advice, fired.map_rule,
                       fired.record_id, fired.map_priority, needs)


# ---------------------------------------------------------------- the warehouse

_MAP_SQL = """
SELECT referenced_component_id, map_group, map_priority, map_rule, map_advice, map_target, map_category_id,
    record_id, active
FROM snomed_icd10cm_map
ORDER BY referenced_component_id, map_group, map_priority, record_id
"""
_RELEASES_SQL = "SELECT DISTINCT release_id, effective_from, effective_to FROM code_releases WHERE source = 'icd10cm'"
_COMPLETIONS_SQL = """
SELECT DISTINCT code FROM code_history
WHERE source = 'icd10cm' AND release_id = ? AND code_system = 'icd10cm' AND billable AND code LIKE ? || '_'
ORDER BY code
"""


class SnomedLookup:
    """``SnomedLookup(con).lookup('237145004', sex='F')`` -> [GroupAnswer]; the map read once.

    Bound to one read-only connection (one generation), so what it reads once stays true.
    """

    def __init__(self, con, owns_connection: bool = False):
        self.con = con
        self._owns = owns_connection
        self._map: dict[str, tuple[MapRecord, ...]] = {}
        current, rows = None, []
        for row in con.execute(_MAP_SQL).fetchall():
            record = MapRecord(*row)
            if record.referenced_component_id != current:
                if current is not None:
                    self._map[current] = tuple(rows)
                current, rows = record.referenced_component_id, []
            rows.append(record)
        if current is not None:
            self._map[current] = tuple(rows)
        self._windows = con.execute(_RELEASES_SQL).fetchall()
        self._completions: dict[tuple[str, str], list[str]] = {}
        self._hierarchy: Hierarchy | None = None  # read on first use

    @property
    def hierarchy(self) -> Hierarchy:
        if self._hierarchy is None:
            self._hierarchy = Hierarchy.read(self.con)
        return self._hierarchy

    def __len__(self) -> int:
        return len(self._map)

    def close(self) -> None:
        if self._owns:
            self.con.close()

    def __enter__(self) -> "SnomedLookup":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def records(self, concept: str) -> tuple[MapRecord, ...]:
        return self._map.get(check_concept(concept), ())

    def lookup(self, concept: str, sex=None, age=None, problems: Iterable[str] = (), on=None) -> list[GroupAnswer]:
        """Per map group, the answer in this context; [] when neither the concept nor (with the
        hierarchy loaded) an ancestor has map records. Answers through an ancestor carry mapped_via."""
        context = Context.of(sex, age, problems)
        concept = check_concept(concept)
        hierarchy = self.hierarchy
        present = hierarchy.present(context.problems | {concept}) if hierarchy else None
        records = self._map.get(concept)
        if records:
            answers = evaluate(records, context, present)
        else:
            answers = [a._replace(concept=concept, mapped_via=via)
                       for via in (hierarchy.nearest(concept, self._map) if hierarchy else ())
                       for a in evaluate(self._map[via], context, present)]
        if not any(a.incomplete for a in answers):
            return answers
        release = self.release_in_force(on)
        return [a._replace(completions=self.completions(a.target, release)) if a.incomplete else a for a in answers]

    def release_in_force(self, on=None) -> str | None:
        from codesets.query.validity import as_date

        day = as_date(on)
        return next((r for r, start, end in self._windows if start <= day and (end is None or day <= end)), None)

    def completions(self, target: str, release: str | None) -> list[str] | None:
        """The billable codes of ``release`` that replace the final '?' of ``target`` with one character."""
        if release is None:
            return None
        key = (target, release)
        found = self._completions.get(key)
        if found is None:
            prefix = target.rstrip("?")
            found = self._completions[key] = [c for (c,) in self.con.execute(_COMPLETIONS_SQL, [release, prefix]).fetchall()]
        return list(found)


COLUMNS = ("concept", "map_group", "status", "target", "mapped_via", "category", "advice", "rule", "record_id",
           "map_priority", "needs", "completions")


def answers_table(concept: str, answers: list[GroupAnswer]):
    """Arrow table, one row per group; a concept with no records: one row, status 'no map records'."""
    import pyarrow as pa

    rows = [a._asdict() for a in answers] or [
        dict(concept=concept, mapped_via=None, map_group=None, status="no map records", target=None, category=None,
             advice=None, rule=None, record_id=None, map_priority=None, needs=(), completions=None)]
    schema = pa.schema([("concept", pa.string()), ("map_group", pa.int32()), ("status", pa.string()),
                        ("target", pa.string()), ("mapped_via", pa.string()), ("category", pa.string()),
                        ("advice", pa.string()),
                        ("rule", pa.string()), ("record_id", pa.string()), ("map_priority", pa.int32()),
                        ("needs", pa.list_(pa.string())), ("completions", pa.list_(pa.string()))])
    return pa.Table.from_pylist([{**r, "needs": list(r["needs"])} for r in rows], schema=schema)

