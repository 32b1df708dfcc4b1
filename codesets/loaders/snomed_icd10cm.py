"""The SNOMED CT to ICD-10-CM map (NLM, US Edition): the RF2 ExtendedMap reference set and its TSV.

NLM publishes the map as an RF2 extended map reference set (refsetId 6011000124106), in the
three RF2 renderings, and as a human-readable TSV:

    der2_iisssccRefset_ExtendedMapSnapshot_US1000124_YYYYMMDD.txt   each record's latest state
    der2_iisssccRefset_ExtendedMapFull_US1000124_YYYYMMDD.txt       every state of every record
    der2_iisssccRefset_ExtendedMapDelta_US1000124_YYYYMMDD.txt      the states new in the release
    tls_Icd10cmHumanReadableMap_US1000124_YYYYMMDD.tsv              the snapshot, with names

All are tab-separated, UTF-8, one header line: 13 fields (id, effectiveTime, active, moduleId,
refsetId, referencedComponentId, mapGroup, mapPriority, mapRule, mapAdvice, mapTarget,
correlationId, mapCategoryId), the TSV 16 (adding referencedComponentName after the concept,
mapTargetName after the target, mapCategoryName at the end). The header line says which one a
file is; the RF2 file name's Snapshot/Full/Delta says which rendering (a file renamed without
it is a Full when an id repeats, else a Snapshot).

Parts: ``snapshot``, ``full``, ``delta`` and ``tsv``. They are renderings of one release that
NLM ships side by side, so a release may gain one later (the TSV after the Snapshot) without
changing a published part; each keeps its own rows and lines. Every state of every record is
published; the view snomed_icd10cm_map takes, per record id, the state with the latest
effectiveTime across what is loaded, and keeps it when active: RF2's own rule, the same for a
Snapshot, a Full or a Delta on top of earlier releases.

The release is named by the YYYYMMDD in the file name, else by the latest effectiveTime in the
file, and takes effect that day.

Fields are split on tabs in SQL, never by a CSV reader: a rule or advice may hold a quote
character that is text. Every rule text is read by codesets.core.snomed_rules, once per
distinct text, and a record whose rule does not parse is refused, naming the record and rule.
Every SNOMED CT id is checked as an id, not only as digits (``_sctid``): its partition must
name the kind of component the field holds, and its last digit must be its Verhoeff check digit,
so a digit flipped in transit does not load as another concept. A control character (NUL, ESC,
BEL ...) in a line is refused, and so is an RF2 file whose last line has no line ending (cut).

The concepts the map speaks of come from SNOMED CT itself, and the same US Edition package holds
them, under the same date: its RF2 relationship files give the is-a hierarchy (part
``relationship``, or ``stated_relationship`` for the stated file) and its description file the
concepts' names (part ``description``). Both are optional and load into the shared tables
``relationships`` and ``descriptions``, every state of every row, as the map does:

    sct2_Relationship_Snapshot_US1000124_YYYYMMDD.txt          10 fields (id ... modifierId)
    sct2_StatedRelationship_Snapshot_US1000124_YYYYMMDD.txt    the same, stated
    sct2_Description_Snapshot-en_US1000124_YYYYMMDD.txt        9 fields (id ... caseSignificanceId)

A Full or Delta file of the same layout loads too: the views take each component's latest state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from codesets.core import codes
from codesets.core.errors import SourceError
from codesets.core import sctid as _sctid
from codesets.loaders import _lines
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Declaration
from codesets.core.text import shown
from codesets.core import sqlfiles

REFSET_ID = "6011000124106"  # ICD-10-CM complex map reference set
RF2_HEADER = (
    "id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "mapGroup",
    "mapPriority", "mapRule", "mapAdvice", "mapTarget", "correlationId", "mapCategoryId",
)
TSV_HEADER = (
    "id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "referencedComponentName",
    "mapGroup", "mapPriority", "mapRule", "mapAdvice", "mapTarget", "mapTargetName", "correlationId",
    "mapCategoryId", "mapCategoryName",
)
RELATIONSHIP_HEADER = (
    "id", "effectiveTime", "active", "moduleId", "sourceId", "destinationId", "relationshipGroup", "typeId",
    "characteristicTypeId", "modifierId",
)
DESCRIPTION_HEADER = (
    "id", "effectiveTime", "active", "moduleId", "conceptId", "languageCode", "typeId", "term", "caseSignificanceId",
)
MAP_PARTS = ("snapshot", "full", "delta", "tsv")
PARTS = MAP_PARTS + ("relationship", "stated_relationship", "description")
_RENDERING = re.compile(r"ExtendedMap(Snapshot|Full|Delta)", re.IGNORECASE)
_NAME_DATE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))(?![0-9])")
_SCTID = _sctid.SHAPE
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_BOM = b"\xef\xbb\xbf"
_SAMPLE_EFFECTIVE_FROM = date(2024, 3, 1)  # the sample is dated as the March 2024 US Edition


class SnomedIcd10cmLoader:
    """The SNOMED CT to ICD-10-CM map: RF2 Snapshot, Full, Delta or the human-readable TSV."""

    source = "snomed_icd10cm"
    description = ("NLM SNOMED CT to ICD-10-CM map (RF2 ExtendedMap Snapshot/Full/Delta, or the human-readable TSV), "
                   "with SNOMED CT's RF2 relationship and description files for the hierarchy and names")
    tables = ("maps", "relationships", "descriptions")
    declares = Declaration(
        code_systems=(CodeSystem("snomedct"), CodeSystem("icd10cm")),
    )

    def claim(self, path: Path) -> Claim | None:
        """A map file opens with the RF2 ExtendedMap header (13 fields) or the TSV header (16); an
        RF2 relationship file with its 10-field header, a description file with its 9 fields."""
        layout = _layout(path)
        if layout is None:
            return None
        if layout == "relationship":
            part = "stated_relationship" if "statedrelationship" in path.name.lower() else "relationship"
        elif layout == "description":
            part = "description"
        elif layout == "tsv":
            part = "tsv"
        elif match := _RENDERING.search(path.name):
            part = match.group(1).lower()
        else:
            part = "full" if _ids_repeat(path) else "snapshot"
        named = _NAME_DATE.findall(path.name)
        return Claim(part=part, release_id=named[-1] if named else _latest_effective_time(path))

    def effective_from(self, release_id: str) -> date | None:
        """A release named YYYYMMDD takes effect that day."""
        if not re.fullmatch(r"[0-9]{8}", release_id):
            return None
        try:
            return date(int(release_id[:4]), int(release_id[4:6]), int(release_id[6:]))
        except ValueError:
            return None

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """The lines of each file as the relation ``staged``: read once (``_lines``), cut on tabs
        once (table ``snomed_rows``), each distinct rule read once in Python (table
        ``snomed_rule_verdicts``); ``staged`` is a view adding what only the checks need."""
        files, described = [], []
        for part, paths in parts.items():
            if len(paths) > 1:
                names = " and ".join(shown(p) for p in paths)
                raise SourceError(
                    f"{names} are both the {part} part of the release; a release holds one file of each "
                    f"({', '.join(PARTS)}): load them as separate releases"
                )
            path = paths[0]
            layout = _layout(path)
            if layout is None:  # claimed a moment ago; the file changed since
                raise SourceError(f"{shown(path)}: no longer opens with a SNOMED CT map header; load it again")
            described.append((len(described), path.name, part, layout))
            # RF2 ends every line with CRLF, the last too: a last line without it is a file cut short.
            # The human-readable TSV is not RF2 and no real copy was seen: it is not asked.
            files.append(_lines.inspect(path, encoding="utf-8", ended=layout != "tsv"))
        _lines.stage(con, "snomed_raw", files)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE snomed_files (file_no USMALLINT, source_file VARCHAR, part VARCHAR, "
            "layout VARCHAR)"
        )
        con.executemany("INSERT INTO snomed_files VALUES (?, ?, ?, ?)", described)
        con.execute("CREATE OR REPLACE TEMP VIEW snomed_lines AS " + sqlfiles.query("snomed_lines"))
        con.execute("CREATE OR REPLACE TEMP TABLE snomed_rows AS " + sqlfiles.query("snomed_rows"))
        con.execute("CREATE OR REPLACE TEMP TABLE snomed_concept_rows AS " + sqlfiles.query("snomed_concept_rows"))
        _judge_rules(con)
        con.execute("SET VARIABLE snomed_target_pattern = ?", [codes.PATTERNS["icd10cm"].pattern])
        con.execute("SET VARIABLE snomed_control_pattern = ?", [_lines.CONTROL])
        _judge_sctids(con)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW staged AS ({sqlfiles.query('snomed_stage')}) "
            f"UNION ALL BY NAME ({sqlfiles.query('snomed_concept_stage')})"
        )
        records = dict(con.execute(
            "SELECT file_no, COUNT(*) FILTER (WHERE kind = 'record') FROM snomed_rows GROUP BY file_no "
            "UNION ALL SELECT file_no, COUNT(*) FILTER (WHERE kind IN ('relationship', 'description')) "
            "FROM snomed_concept_rows GROUP BY file_no"
        ).fetchall())
        return [
            StagedFile(name=item.path.name, part=part, rows=records.get(number, 0),
                       kind=f"{layout}:{part}", line_ending=item.line_ending)
            for item, (number, _name, part, layout) in zip(files, described)
        ]

    def fill(self, table: str) -> str:
        return sqlfiles.query({"maps": "snomed_fill_maps", "relationships": "snomed_fill_relationships",
                               "descriptions": "snomed_fill_descriptions"}[table])

    def notes(self, con) -> list[str]:
        return []

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


LOADER = SnomedIcd10cmLoader()


def model():
    """The pandera model of a staged map line (see sql/queries/snomed_rows.sql and snomed_stage.sql)."""
    import pandera.pandas as pa

    from codesets.core.checks import Rule, register_sql_rules

    register_sql_rules()
    record = "kind <> 'record' OR field_count <> expected_fields OR "
    component = "kind NOT IN ('record', 'relationship', 'description') OR field_count <> expected_fields OR "
    relationship = "kind <> 'relationship' OR field_count <> expected_fields OR "
    description = "kind <> 'description' OR field_count <> expected_fields OR "
    concept = "kind NOT IN ('relationship', 'description') OR field_count <> expected_fields OR "

    class MapLine(pa.DataFrameModel):
        source_file: str
        line_no: int

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {
                "rules": (
                    Rule("raw", "kind <> 'blank'", "blank line: every line after the header is a record"),
                    Rule("field_count", "field_count IS NULL OR field_count = expected_fields",
                         "as its header: an RF2 ExtendedMap line has 13 tab-separated fields, a map TSV line 16, "
                         "a relationship line 10, a description line 9"),
                    Rule("id", record + f"regexp_full_match(id, '{_UUID}')", "the record id is a UUID"),
                    Rule("id", concept + f"regexp_full_match(id, '{_SCTID}')",
                         "a relationship or description id is a SNOMED CT id (6 to 18 digits)"),
                    Rule("effectiveTime", component + "effective_time IS NOT NULL",
                         "effectiveTime is a date written YYYYMMDD"),
                    Rule("active", component + "is_active IS NOT NULL", "active is 1 or 0"),
                    Rule("moduleId", component + f"regexp_full_match(module_id, '{_SCTID}')",
                         "moduleId is a SNOMED CT id (6 to 18 digits)"),
                    *(Rule(name, relationship + f"regexp_full_match({column}, '{_SCTID}')",
                           f"{name} is a SNOMED CT id (6 to 18 digits)")
                      for name, column in (("sourceId", "source_concept"), ("destinationId", "destination_concept"),
                                           ("characteristicTypeId", "characteristic_type_id"),
                                           ("modifierId", "modifier_id"))),
                    Rule("typeId", concept + f"regexp_full_match(type_id, '{_SCTID}')",
                         "typeId is a SNOMED CT id (6 to 18 digits)"),
                    Rule("relationshipGroup", relationship + "relationship_group IS NOT NULL",
                         "relationshipGroup is a whole number (0 for an is-a)"),
                    *(Rule(name, description + f"regexp_full_match({column}, '{_SCTID}')",
                           f"{name} is a SNOMED CT id (6 to 18 digits)")
                      for name, column in (("conceptId", "concept_id"),
                                           ("caseSignificanceId", "case_significance_id"))),
                    Rule("languageCode", description + "regexp_full_match(language_code, '[a-z]{2}(-[A-Za-z0-9]{1,8})*')",
                         "languageCode is a language tag such as en"),
                    Rule("term", description + "coalesce(term <> '', FALSE)", "term is not empty"),
                    Rule("refsetId", record + f"refset_id = '{REFSET_ID}'",
                         f"refsetId is {REFSET_ID}, the ICD-10-CM complex map reference set"),
                    Rule("referencedComponentId", record + f"regexp_full_match(referenced_component_id, '{_SCTID}')",
                         "referencedComponentId is a SNOMED CT concept id (6 to 18 digits)"),
                    Rule("mapGroup", record + "coalesce(map_group >= 1, FALSE)",
                         "mapGroup is a whole number from 1 to 255"),
                    Rule("mapPriority", record + "coalesce(map_priority >= 1, FALSE)",
                         "mapPriority is a whole number from 1 to 255"),
                    Rule("rule_problem", "rule_problem IS NULL",
                         "mapRule is TRUE, OTHERWISE TRUE or IFA clauses (Appendix C of the NLM technical "
                         "specification)"),
                    Rule("mapTarget", record + "target_ok",
                         "mapTarget is an ICD-10-CM code (dotted or not; '?' as a 7th character to choose) or empty"),
                    Rule("correlationId", record + f"regexp_full_match(correlation_id, '{_SCTID}')",
                         "correlationId is a SNOMED CT id (6 to 18 digits)"),
                    Rule("mapCategoryId", record + f"regexp_full_match(map_category_id, '{_SCTID}')",
                         "mapCategoryId is a SNOMED CT id (6 to 18 digits)"),
                    Rule("duplicate_of", "duplicate_of IS NULL",
                         "one state of a record or component (id, effectiveTime) appears once in a file"),
                    Rule("control_character", "control_character IS NULL",
                         "a control character (NUL, ESC, BEL ...) in a line: RF2 files are text, and a control "
                         "character reaches a terminal or another system through the stored value; the value "
                         "names the character and its column: fix the line (or get the file again)"),
                    *_sctid_rules(record, relationship, description),
                ),
            }

    return MapLine


# The SNOMED CT concept ids of each kind of line: (field name, staged column).
_MAP_IDS = (("moduleId", "module_id"), ("referencedComponentId", "referenced_component_id"),
            ("correlationId", "correlation_id"), ("mapCategoryId", "map_category_id"))
_RELATIONSHIP_IDS = (("moduleId", "module_id"), ("sourceId", "source_concept"),
                     ("destinationId", "destination_concept"), ("typeId", "type_id"),
                     ("characteristicTypeId", "characteristic_type_id"), ("modifierId", "modifier_id"))
_DESCRIPTION_IDS = (("moduleId", "module_id"), ("conceptId", "concept_id"), ("typeId", "type_id"),
                    ("caseSignificanceId", "case_significance_id"))
_CONCEPT_IDS = tuple(dict.fromkeys(_MAP_IDS + _RELATIONSHIP_IDS + _DESCRIPTION_IDS))  # each column once


def _sctid_rules(record: str, relationship: str, description: str) -> tuple:
    """Each SNOMED CT id ends in its Verhoeff check digit, after partition digits that say what it names.

    An id of the right shape (refused by its own rule otherwise) with a digit wrong would load
    as another concept, or none: a map row, a hierarchy edge or a name would go astray. The
    ``id`` of a relationship or description too: it keys that component's states, and with a
    digit wrong a later state would not replace the earlier one. The check digits are judged
    once per distinct id (``_judge_sctids``) and named per line by the stage queries
    (snomed_stage.sql, snomed_concept_stage.sql); the partition is read here.
    """
    from codesets.core.checks import Rule

    rules = [
        Rule("check_digit", "check_digit IS NULL",
             "the last digit of a SNOMED CT id is a Verhoeff check digit over the digits before it, and this "
             "one does not match: a digit is wrong (mistyped, flipped or cut), so the id names another component "
             "or none; the value names the field and the id: get the file again"),
    ]
    guarded = [(record, name, column, "concept") for name, column in _MAP_IDS]
    guarded += [(relationship, name, column, "concept") for name, column in _RELATIONSHIP_IDS]
    guarded += [(description, name, column, "concept") for name, column in _DESCRIPTION_IDS]
    guarded += [(relationship, "id", "id", "relationship"), (description, "id", "id", "description")]
    for guard, name, column, kind in guarded:
        digit = _sctid.KINDS[kind]
        rules.append(Rule(
            name, f"{guard}NOT regexp_full_match({column}, '{_SCTID}') OR {_sctid.sql_partition_ok(column, kind)}",
            f"{name} is a SNOMED CT {kind} id: its partition, the 2nd and 3rd digits from the right, is 0{digit} "
            f"(or 1{digit} after a 7-digit namespace); is it the id of another kind of component, or mistyped?",
        ))
    return tuple(rules)


def _judge_sctids(con) -> None:
    """Check the Verhoeff digit of each distinct SNOMED CT id of the staged lines once, vectorised; the
    few that fail go to the table ``snomed_bad_sctids``, which the stage queries read.

    Per row in SQL, the check took ten times the rest of the checks on a million relationships;
    once per distinct id, in numpy, it takes a fraction of the reading (a SQL fold per distinct id,
    as benchmarks/gen_snomed.py writes it, took 1.4 times as long).
    """
    import pyarrow as pa

    concept_columns = ", ".join(column for _name, column in _CONCEPT_IDS)
    values = con.sql(
        f"SELECT DISTINCT value FROM (SELECT unnest([{concept_columns}, "
        "CASE WHEN kind IN ('relationship', 'description') THEN id END]) AS value "
        "FROM (SELECT * FROM snomed_rows UNION ALL BY NAME SELECT * FROM snomed_concept_rows)) "
        f"WHERE regexp_full_match(value, '{_SCTID}')"
    ).to_arrow_table().column("value")
    bad = pa.table({"value": values.filter(pa.array(~_sctid.check_digits_ok(values)))})
    con.register("snomed_bad_arrow", bad)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE snomed_bad_sctids AS SELECT CAST(value AS VARCHAR) AS value "
                    "FROM snomed_bad_arrow")
    finally:
        con.unregister("snomed_bad_arrow")


def _judge_rules(con) -> None:
    """Read each distinct rule text once; the verdicts go to a table the checks join."""
    from codesets.core.snomed_rules import RuleSyntaxError, parse

    verdicts = []
    for (text,) in con.execute(
        "SELECT DISTINCT map_rule FROM snomed_rows WHERE kind = 'record' AND map_rule IS NOT NULL"
    ).fetchall():
        try:
            parse(text)
            verdicts.append((text, None))
        except RuleSyntaxError as error:
            verdicts.append((text, str(error)))
    con.execute("CREATE OR REPLACE TEMP TABLE snomed_rule_verdicts (map_rule VARCHAR, problem VARCHAR)")
    if verdicts:
        con.executemany("INSERT INTO snomed_rule_verdicts VALUES (?, ?)", verdicts)


def _header(path: Path) -> tuple[str, ...] | None:
    try:
        with open(path, "rb") as handle:
            first = handle.readline(1024)
    except OSError:
        return None
    first = first.removeprefix(_BOM).rstrip(b"\r\n")
    return tuple(first.decode("latin-1").split("\t"))


_LAYOUTS = {RF2_HEADER: "rf2", TSV_HEADER: "tsv", RELATIONSHIP_HEADER: "relationship",
            DESCRIPTION_HEADER: "description"}


def _layout(path: Path) -> str | None:
    if "textdefinition" in path.name.lower():
        return None  # a text definition file shares the description header; no name is read from it
    return _LAYOUTS.get(_header(path))


def _records(path: Path):
    """(id, effectiveTime) of each line after the header, for naming a file without a date or rendering."""
    with open(path, "rb") as handle:
        handle.readline()
        for line in handle:
            fields = line.split(b"\t", 2)
            if len(fields) >= 2:
                yield fields[0], fields[1]


def _ids_repeat(path: Path) -> bool:
    seen = set()
    for record_id, _time in _records(path):
        if record_id in seen:
            return True
        seen.add(record_id)
    return False


def _latest_effective_time(path: Path) -> str | None:
    times = [t for _id, t in _records(path) if re.fullmatch(rb"[0-9]{8}", t)]
    return max(times).decode("ascii") if times else None
