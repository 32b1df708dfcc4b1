"""Write a synthetic SNOMED CT to ICD-10-CM map, an is-a hierarchy and patient problems, for the benchmarks.

Run from the repository root with the project's virtual environment:

    python benchmarks/gen_snomed.py OUTDIR [--concepts 120000] [--unmapped N] [--problems 1000000]
        [--seed 1] [--csv] [--lf]

Nothing it writes is a row of NLM's map (which is licensed): concept ids, terms and targets
are made up from the seed (the ids valid ones all the same: partition 00 for a concept, 02 for a
relationship, and a Verhoeff check digit, as the loader checks); only the layouts and the rule
forms are those of the real release
(see codesets/samples/snomed_icd10cm/ and codesets/warehouse/snomed_rules.py). Files, under OUTDIR:

``der2_iisssccRefset_ExtendedMapSnapshot_US1000124_20240301.txt``: the RF2 ExtendedMap Snapshot,
13 tab-separated fields, CRLF (LF with ``--lf``), sorted by concept, group, priority. Per mapped
concept (``--concepts``, default 120,000; about 1.5 records each), by a seeded hash:

- 86%: one record, rule ``TRUE`` (about 2% of them no target, category 447638001 "cannot be
  classified"; 6% an episode-of-care target ending in ``?``); one in 100 also has an older
  record, now inactive, that it replaced;
- 3%: two map groups (one in ten three), each one ``TRUE`` record;
- 2%: sex: ``IFA 248152002 | Female (finding) |``, ``IFA 248153007 | Male (finding) |``, then
  ``OTHERWISE TRUE`` with no target;
- 3%: age at onset (445518008): ``< 29.0 days`` then ``OTHERWISE TRUE``; ``< 18.0 years``,
  ``>= 18.0 years`` then ``OTHERWISE TRUE`` with no target; or all three bounds;
- 5%: exclusions: 1 to 13 ``IFA <concept> | <term> |`` records naming other concepts of the
  hierarchy (each with descendants), then ``OTHERWISE TRUE`` (about 8 records per concept);
- 1%: AND compounds: ``IFA <concept> | <term> | AND IFA 445518008 | ... | < 18.0 years``,
  sometimes the bare ``IFA <concept>`` next, then ``OTHERWISE TRUE``;
- one context-dependent concept in ten also has a map group 2: one ``TRUE`` record, or (half
  of them) one ``IFA <concept>`` record and no default, so that group can answer no record.

Targets are written dotted (``N97.9``, ``M21.159``, ``S02.91X?``); module 731000124108, refset
6011000124106, correlation 447561005; categories 447637006 / 447638001 / 447639009; record ids
UUIDs made from the seed (md5).

``sct2_Relationship_Snapshot_US1000124_20240301.txt``: the RF2 relationship Snapshot (10 fields).
Is-a rows (116680003, inferred 900000000000011006, some 900000000000451002, group 0) over the
mapped concepts and ``--unmapped`` more (default as many), a DAG under 138875005: concept
position p has parent (p - 19) // 6 (the first 19 under the root), and one in 20 a second
parent before it; which positions are mapped is a seeded draw, so unmapped concepts sit under
mapped and unmapped ancestors alike (some with no mapped ancestor). One concept in five has a
finding-site row (363698007, group 1) to a made-up body structure; one is-a row in 200 has an
inactive older twin to another parent.

``problems.parquet`` (and ``problems.csv`` with ``--csv``): ``--problems`` rows (default
1,000,000) of problem_id, concept, sex ('F'/'M'/NULL), age ('30y', '20d', '6m', '3w' or NULL)
and problems ('|'-separated SCTIDs of the rest of the problem list, or NULL). Concepts: 70%
any mapped concept, 18% a context-dependent one (sex, age, exclusion, AND rules), 11.5% an
unmapped concept of the hierarchy, 0.5% a concept in neither file. Sex is missing for 15%,
age for 20%, the problem list for 40%; the problem list of an exclusion or AND concept often
holds one of its rule's concepts (sometimes a child of it instead), and with no sex it
sometimes holds 248152002 or 248153007.

Every file comes from one DuckDB statement (no Python per row); all of it is a function of
``--seed``. The defaults take about ten seconds (a third of it the check digits).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

MAP_NAME = "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_20240301.txt"
RELATIONSHIP_NAME = "sct2_Relationship_Snapshot_US1000124_20240301.txt"
PROBLEMS_NAME = "problems.parquet"
PROBLEMS_CSV = "problems.csv"
MAP_HEADER = ("id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "mapGroup",
              "mapPriority", "mapRule", "mapAdvice", "mapTarget", "correlationId", "mapCategoryId")
RELATIONSHIP_HEADER = ("id", "effectiveTime", "active", "moduleId", "sourceId", "destinationId",
                       "relationshipGroup", "typeId", "characteristicTypeId", "modifierId")
MODULE = "731000124108"
REFSET = "6011000124106"
CORRELATION = "447561005"
PROPERLY, CANNOT, CONTEXT = "447637006", "447638001", "447639009"
ROOT_CONCEPT = "138875005"
IS_A, FINDING_SITE = "116680003", "363698007"
INFERRED, EXISTENTIAL = "900000000000011006", "900000000000451002"
FEMALE, MALE, AGE_AT_ONSET = "248152002", "248153007", "445518008"
TOP_LEVEL = 19  # positions 0..18 hang from the root; p >= 19 has parent (p - 19) // 6
FAN_OUT = 6
UNKNOWN_CONCEPTS = 10_000  # concepts in neither file, drawn for 0.5% of the problems
BODY_STRUCTURES = 5_000
RULE_KINDS = ("true", "groups", "sex", "age", "exclusion", "and")
# per mille of the mapped concepts, cumulative
KIND_BOUNDS = ((860, "true"), (890, "groups"), (910, "sex"), (940, "age"), (990, "exclusion"), (1000, "and"))

# The Verhoeff check digit of a string of decimal digits ``body``, as SNOMED CT ends every id
# (codesets/core/sctid.py, whose check_digit the tests hold it to): fold the digits read from
# the right, the i-th (from 1; the check digit itself takes place 0) permuted by p(i mod 8), into
# the dihedral product d, starting from 0; the digit is the inverse of the product. The tables
# are written out, row after row: d 10 x 10, p 8 x 10, inv 10.
VERHOEFF = """
CREATE OR REPLACE MACRO verhoeff(body) AS [0, 4, 3, 2, 1, 5, 6, 7, 8, 9][1 + list_reduce(
    list_transform(string_split(reverse(body), ''), lambda c, i:
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
         1, 5, 7, 6, 2, 8, 3, 0, 9, 4,
         5, 8, 0, 3, 7, 9, 6, 1, 4, 2,
         8, 9, 1, 6, 0, 4, 3, 5, 2, 7,
         9, 4, 5, 3, 1, 2, 6, 8, 7, 0,
         4, 2, 8, 6, 5, 7, 3, 9, 0, 1,
         2, 7, 9, 3, 8, 0, 6, 4, 1, 5,
         7, 0, 4, 6, 9, 1, 3, 2, 5, 8][(i % 8) * 10 + c::INTEGER + 1]),
    lambda acc, k:
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
         1, 2, 3, 4, 0, 6, 7, 8, 9, 5,
         2, 3, 4, 0, 1, 7, 8, 9, 5, 6,
         3, 4, 0, 1, 2, 8, 9, 5, 6, 7,
         4, 0, 1, 2, 3, 9, 5, 6, 7, 8,
         5, 9, 8, 7, 6, 0, 4, 3, 2, 1,
         6, 5, 9, 8, 7, 1, 0, 4, 3, 2,
         7, 6, 5, 9, 8, 2, 1, 0, 4, 3,
         8, 7, 6, 5, 9, 3, 2, 1, 0, 4,
         9, 8, 7, 6, 5, 4, 3, 2, 1, 0][acc * 10 + k + 1],
    0)]::VARCHAR;
-- an id: the item identifier, the partition (0, then 0 concept / 2 relationship), the check digit
CREATE OR REPLACE MACRO with_check(body) AS body || verhoeff(body);
"""

# Shared by the three statements. Positions p: 0 .. 2C-1 the hierarchy (mapped or not), then
# unknown concepts, then body structures; sctid(p) is distinct for p < 90 million (7919 is
# coprime with 9e7) and always 11 digits (8, partition 00, check digit), so no made-up id meets
# a real one the rules name. Every id is valid: partition and check digit are SNOMED CT's.
MACROS = """
CREATE OR REPLACE MACRO sctid(p) AS with_check((10000000 + (p * 7919 + {offset}) % 90000000)::VARCHAR || '00');
CREATE OR REPLACE MACRO term(p) AS 'Synthetic disorder ' || p::VARCHAR || ' (disorder)';
CREATE OR REPLACE MACRO kind_of(p) AS CASE
    {kind_case}
END;
CREATE OR REPLACE MACRO hv(p) AS hash(p, {seed}, 'variant');
-- records in group 1 of a concept of each kind
CREATE OR REPLACE MACRO n1(p) AS CASE kind_of(p)
    WHEN 'true' THEN 1
    WHEN 'groups' THEN 2 + (hv(p) % 10 = 0)::INTEGER
    WHEN 'sex' THEN 3
    WHEN 'age' THEN 2 + (hv(p) % 3)::INTEGER
    WHEN 'exclusion' THEN 2 + (hv(p) % 13)::INTEGER
    ELSE 2 + (hv(p) % 2)::INTEGER
END;
-- the concept the k-th IFA rule of p names: a position with children (p < {internal})
CREATE OR REPLACE MACRO ifa_pos(p, k) AS ((hash(p, {seed}, 'ifa') % {internal}) + k * 7907) % {internal};
CREATE OR REPLACE MACRO child_pos(p) AS p * {fan_out} + {top_level};
-- an ICD-10-CM code, dotted: 3 characters, or 3 + '.' + 1 to 4
CREATE OR REPLACE MACRO icd(h) AS
    substr('ABCDEFGHIJKLMNOPQRSTVWXYZ', (h % 25 + 1)::INTEGER, 1) || lpad((h // 25 % 100)::VARCHAR, 2, '0')
    || CASE h // 2500 % 10
        WHEN 0 THEN ''
        WHEN 1 THEN '.' || (h // 25000 % 10)::VARCHAR
        WHEN 2 THEN '.' || (h // 25000 % 10)::VARCHAR
        WHEN 3 THEN '.' || (h // 25000 % 10)::VARCHAR
        WHEN 4 THEN '.' || lpad((h // 25000 % 100)::VARCHAR, 2, '0')
        WHEN 5 THEN '.' || lpad((h // 25000 % 100)::VARCHAR, 2, '0')
        WHEN 6 THEN '.' || lpad((h // 25000 % 100)::VARCHAR, 2, '0')
        WHEN 7 THEN '.' || lpad((h // 25000 % 1000)::VARCHAR, 3, '0')
        WHEN 8 THEN '.' || lpad((h // 25000 % 1000)::VARCHAR, 3, '0')
        ELSE '.' || lpad((h // 25000 % 100)::VARCHAR, 2, '0') || 'XA'
    END;
-- an episode-of-care target: injuries and poisonings, the 7th character left to choose
CREATE OR REPLACE MACRO icd_episode(h) AS
    CASE WHEN h % 2 = 0 THEN 'S' ELSE 'T' END || lpad((h // 2 % 100)::VARCHAR, 2, '0') || '.'
    || CASE WHEN h // 200 % 2 = 0 THEN lpad((h // 400 % 1000)::VARCHAR, 3, '0')
            ELSE lpad((h // 400 % 100)::VARCHAR, 2, '0') || 'X' END || '?';
CREATE OR REPLACE MACRO uuid_of(k) AS
    substr(md5(k), 1, 8) || '-' || substr(md5(k), 9, 4) || '-5' || substr(md5(k), 14, 3) || '-'
    || substr('89ab', (ascii(substr(md5(k), 17, 1)) % 4 + 1)::INTEGER, 1) || substr(md5(k), 18, 3) || '-'
    || substr(md5(k), 21, 12);
"""

NODES = """
CREATE OR REPLACE TABLE nodes AS
SELECT p, sctid(p) AS sctid,
    row_number() OVER (ORDER BY hash(p, $seed, 'mapped'), p) <= $concepts AS mapped
FROM range($positions) AS t(p)
"""

# One row per map record (k numbers the records of a concept), then the file's lines.
MAP = """
COPY (
    WITH
    mapped AS (
        SELECT p, sctid, kind_of(p) AS kind, hv(p) AS v, n1(p) AS n1,
            kind_of(p) NOT IN ('true', 'groups') AND hash(p, $seed, 'g2') % 10 = 0 AS g2,
            kind_of(p) = 'true' AND hash(p, $seed, 'replaced') % 100 = 0 AS replaced
        FROM nodes WHERE mapped
    ),
    slots AS (
        SELECT *, unnest(range(n1 + g2::INTEGER + replaced::INTEGER)) AS k FROM mapped
    ),
    shaped AS (
        SELECT *,
            hash(p, k, $seed, 'target') AS ht,
            CASE
                WHEN k >= n1 AND g2 AND k = n1 AND hash(p, $seed, 'g2ifa') % 2 = 0 THEN 'group2ifa'
                WHEN k >= n1 AND g2 AND k = n1 THEN 'group2'
                WHEN k >= n1 THEN 'replaced'
                WHEN kind = 'groups' THEN 'true'
                WHEN kind IN ('sex', 'age', 'exclusion', 'and') AND k = n1 - 1 THEN 'otherwise'
                ELSE kind
            END AS shape,
            CASE
                WHEN kind = 'age' THEN (CASE n1 WHEN 2 THEN ['< 29.0 days']
                                               WHEN 3 THEN ['< 18.0 years', '>= 18.0 years']
                                               ELSE ['< 29.0 days', '< 18.0 years', '>= 18.0 years'] END)[k + 1]
            END AS bound
        FROM slots
    ),
    records AS (
        SELECT *,
            CASE
                WHEN shape IN ('true', 'group2', 'replaced') AND kind = 'true' AND v // 7 % 100 < 2 AND k = 0 THEN NULL
                WHEN shape IN ('true', 'group2', 'replaced') AND kind = 'true' AND v // 7 % 100 < 8 AND k = 0
                    THEN icd_episode(ht)
                WHEN shape IN ('true', 'group2', 'replaced') THEN icd(ht)
                WHEN shape = 'sex' THEN icd(ht)
                WHEN shape = 'age' AND bound = '< 29.0 days' THEN 'P' || lpad((ht % 100)::VARCHAR, 2, '0') || '.'
                    || (ht // 100 % 10)::VARCHAR
                WHEN shape = 'age' THEN icd(ht)
                WHEN shape = 'exclusion' AND ht % 10 < 3 THEN icd_episode(ht // 10)
                WHEN shape IN ('exclusion', 'and', 'group2ifa') THEN icd(ht)
                -- OTHERWISE TRUE: no target after sex rules and after the bounds that cover every age
                WHEN kind = 'sex' OR (kind = 'age' AND n1 > 2) THEN NULL
                WHEN kind = 'exclusion' AND v // 100 % 20 = 0 THEN NULL
                ELSE icd(ht)
            END AS target,
            CASE shape
                WHEN 'sex' THEN 'IFA ' || CASE k WHEN 0 THEN '{female} | Female (finding) |'
                                                  ELSE '{male} | Male (finding) |' END
                WHEN 'age' THEN 'IFA {age} | Age at onset of clinical finding (observable entity) | ' || bound
                WHEN 'exclusion' THEN 'IFA ' || sctid(ifa_pos(p, k)) || ' | ' || term(ifa_pos(p, k)) || ' |'
                WHEN 'group2ifa' THEN 'IFA ' || sctid(ifa_pos(p, 20)) || ' | ' || term(ifa_pos(p, 20)) || ' |'
                WHEN 'and' THEN 'IFA ' || sctid(ifa_pos(p, 0)) || ' | ' || term(ifa_pos(p, 0)) || ' |'
                    || CASE WHEN k = 0 THEN ' AND IFA {age} | Age at onset of clinical finding (observable entity) '
                                            || '| < 18.0 years' ELSE '' END
                WHEN 'otherwise' THEN 'OTHERWISE TRUE'
                ELSE 'TRUE'
            END AS rule,
            CASE
                WHEN shape IN ('group2', 'group2ifa') THEN 2
                WHEN kind = 'groups' THEN k + 1
                ELSE 1
            END AS map_group,
            CASE WHEN shape IN ('group2', 'group2ifa', 'replaced') OR kind = 'groups' THEN 1 ELSE k + 1 END
                AS map_priority
        FROM shaped
    ),
    advised AS (
        SELECT *,
            CASE
                WHEN shape IN ('sex', 'age', 'exclusion', 'and', 'group2ifa') THEN 447639009
                WHEN target IS NULL THEN 447638001
                ELSE 447637006
            END AS category,
            CASE
                WHEN target IS NULL AND kind = 'sex' THEN 'MAP IS CONTEXT DEPENDENT FOR GENDER'
                WHEN target IS NULL THEN 'MAP SOURCE CONCEPT CANNOT BE CLASSIFIED WITH AVAILABLE DATA'
                WHEN shape = 'sex' THEN 'IF ' || CASE k WHEN 0 THEN 'FEMALE' ELSE 'MALE' END || ' (FINDING) CHOOSE '
                    || target || ' | MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT'
                WHEN shape = 'age' THEN 'IF AGE AT ONSET OF CLINICAL FINDING '
                    || CASE WHEN bound LIKE '<%' THEN 'BEFORE ' ELSE 'ON OR AFTER ' END
                    || upper(split_part(bound, ' ', 2) || ' ' || split_part(bound, ' ', 3)) || ' CHOOSE ' || target
                    || ' | MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT'
                WHEN shape IN ('exclusion', 'group2ifa')
                    THEN 'IF ' || upper(term(ifa_pos(p, CASE shape WHEN 'exclusion' THEN k ELSE 20 END)))
                    || ' CHOOSE ' || target || ' | MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT'
                WHEN shape = 'and' THEN 'IF ' || upper(term(ifa_pos(p, 0)))
                    || CASE WHEN k = 0 THEN ' AND IF AGE AT ONSET OF CLINICAL FINDING BEFORE 18.0 YEARS' ELSE '' END
                    || ' CHOOSE ' || target || ' | MAP OF SOURCE CONCEPT IS CONTEXT DEPENDENT'
                ELSE 'ALWAYS ' || target
            END
            || CASE WHEN target LIKE '%?' THEN ' | EPISODE OF CARE INFORMATION NEEDED'
                    WHEN target IS NOT NULL AND ht // 1000 % 10 = 0
                        THEN ' | CONSIDER ADDITIONAL CODE TO IDENTIFY SPECIFIC CONDITION OR DISEASE'
                    ELSE '' END AS advice,
            CASE
                WHEN shape = 'replaced' THEN '20240301'
                WHEN kind = 'true' AND replaced THEN '20240301'
                ELSE ['20120301', '20150901', '20180301', '20200901', '20220301', '20230901', '20240301']
                    [(hash(p, $seed, 'time') % 7 + 1)::INTEGER]
            END AS effective_time
        FROM records
    ),
    lines AS (
        SELECT 1 AS part, sctid, map_group, map_priority, shape = 'replaced' AS old,
            concat_ws(chr(9), uuid_of($seed::VARCHAR || '-' || p::VARCHAR || '-' || k::VARCHAR), effective_time,
                      CASE WHEN shape = 'replaced' THEN '0' ELSE '1' END, '{module}', '{refset}', sctid,
                      map_group::VARCHAR, map_priority::VARCHAR, rule, advice, coalesce(target, ''),
                      '{correlation}', category::VARCHAR) || $eol AS line
        FROM advised
        UNION ALL
        SELECT 0, NULL, NULL, NULL, NULL, $header || $eol
    )
    SELECT line FROM lines ORDER BY part, sctid, map_group, map_priority, old
) TO '{out}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')
"""

RELATIONSHIPS = """
COPY (
    WITH
    isa AS (
        SELECT p, 0 AS r, CASE WHEN p < {top_level} THEN NULL ELSE (p - {top_level}) // {fan_out} END AS parent
        FROM range($positions) AS t(p)
        UNION ALL  -- one in 20 has a second parent, before its first (so no cycle)
        SELECT p, 1, hash(p, $seed, 'parent2') % ((p - {top_level}) // {fan_out})
        FROM range({top_level} + {fan_out}, $positions) AS t(p)
        WHERE hash(p, $seed, 'two') % 20 = 0
    ),
    rows AS (
        SELECT p, r, true AS active, sctid(p) AS source,
            CASE WHEN parent IS NULL THEN '{root}' ELSE sctid(parent) END AS destination,
            0 AS grp, '{is_a}' AS type_id
        FROM isa
        UNION ALL  -- an older is-a row to another parent, inactive since
        SELECT p, 2, false, sctid(p), sctid(hash(p, $seed, 'old') % {internal}), 0, '{is_a}'
        FROM range({top_level}, $positions) AS t(p)
        WHERE hash(p, $seed, 'inactive') % 200 = 0
        UNION ALL  -- finding sites
        SELECT p, 3, true, sctid(p), sctid($body_base + hash(p, $seed, 'site') % {body}), 1, '{finding_site}'
        FROM range($positions) AS t(p)
        WHERE hash(p, $seed, 'site?') % 5 = 0
    ),
    lines AS (
        SELECT 1 AS part, source, r,
            concat_ws(chr(9),
                      with_check((100000000 + (p * 4 + r) * 7 % 900000000)::VARCHAR || '02'),
                      CASE WHEN NOT active THEN '20240301'
                           ELSE ['20020131', '20090731', '20150731', '20200301', '20240301']
                               [(hash(p, r, $seed, 'time') % 5 + 1)::INTEGER] END,
                      CASE WHEN active THEN '1' ELSE '0' END, '{module}', source, destination, grp::VARCHAR,
                      type_id, '{inferred}', '{existential}') || $eol AS line
        FROM rows
        UNION ALL
        SELECT 0, NULL, NULL, $header || $eol
    )
    SELECT line FROM lines ORDER BY part, source, r, line
) TO '{out}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')
"""

POOLS = """
CREATE OR REPLACE TABLE pools AS
SELECT pool, p, row_number() OVER (PARTITION BY pool ORDER BY p) - 1 AS n FROM (
    SELECT 'mapped' AS pool, p FROM nodes WHERE mapped
    UNION ALL SELECT 'context', p FROM nodes WHERE mapped AND kind_of(p) NOT IN ('true', 'groups')
    UNION ALL SELECT 'unmapped', p FROM nodes WHERE NOT mapped
)
"""

PROBLEMS = """
COPY (
    WITH
    drawn AS (
        SELECT i,
            CASE WHEN hash(i, $seed, 'pool') % 1000 < 700 THEN 'mapped'
                 WHEN hash(i, $seed, 'pool') % 1000 < 880 THEN 'context'
                 WHEN hash(i, $seed, 'pool') % 1000 < 995 THEN 'unmapped'
                 ELSE 'unknown' END AS pool,
            hash(i, $seed, 'which') AS hw,
            hash(i, $seed, 'sex') % 100 AS hs,
            hash(i, $seed, 'age') AS ha,
            hash(i, $seed, 'list') AS hl
        FROM range($problems) AS t(i)
    ),
    picked AS (
        SELECT d.*, coalesce(pl.p, $unknown_base + d.hw % {unknown}) AS p
        FROM drawn AS d
        LEFT JOIN pools AS pl ON pl.pool = d.pool AND pl.n = d.hw % CASE d.pool WHEN 'mapped' THEN {n_mapped}
            WHEN 'context' THEN {n_context} ELSE {n_unmapped} END
    ),
    contexts AS (
        SELECT i, p,
            CASE WHEN hs < 45 THEN 'F' WHEN hs < 85 THEN 'M' END AS sex,
            CASE WHEN ha % 100 < 20 THEN NULL
                 WHEN ha % 100 < 24 THEN (ha // 100 % 60)::VARCHAR || 'd'
                 WHEN ha % 100 < 28 THEN (1 + ha // 100 % 35)::VARCHAR || 'm'
                 WHEN ha % 100 < 30 THEN (1 + ha // 100 % 10)::VARCHAR || 'w'
                 ELSE (ha // 100 % 100)::VARCHAR || 'y' END AS age,
            -- the concept a rule of p names: on the list (or a child of it), so that the rule can fire
            CASE WHEN pool IN ('mapped', 'context') AND kind_of(p) IN ('exclusion', 'and') AND hl % 10 < 5
                 THEN sctid(CASE WHEN hl // 10 % 10 = 0 THEN child_pos(ifa_pos(p, 0))
                                 WHEN kind_of(p) = 'exclusion' THEN ifa_pos(p, hl // 100 % (n1(p) - 1))
                                 ELSE ifa_pos(p, 0) END) END AS named,
            CASE WHEN hs >= 85 AND hl // 1000 % 20 = 0 THEN CASE WHEN hl // 20000 % 2 = 0 THEN '{female}'
                                                                ELSE '{male}' END END AS sex_finding,
            CASE WHEN hl // 40000 % 100 < 40 THEN 0 ELSE 1 + (hl // 4000000 % 5)::INTEGER END AS others
        FROM picked
    )
    SELECT
        'P' || lpad(i::VARCHAR, 9, '0') AS problem_id,
        sctid(p) AS concept,
        sex,
        age,
        nullif(array_to_string(list_concat(
            list_filter([named, sex_finding], lambda x: x IS NOT NULL),
            list_transform(range(others), lambda j: sctid(hash(i, j, $seed, 'other') % $positions))), '|'), '')
            AS problems
    FROM contexts
    ORDER BY i
) TO '{out}' ({format})
"""


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _connect(seed: int, concepts: int, unmapped: int):
    import duckdb

    positions = concepts + unmapped
    internal = max(1, (positions - TOP_LEVEL) // FAN_OUT)  # positions with at least one child
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    kind_case = "\n    ".join(f"WHEN hash(p, {seed}, 'kind') % 1000 < {bound} THEN '{kind}'"
                               for bound, kind in KIND_BOUNDS[:-1]) + f"\n    ELSE '{KIND_BOUNDS[-1][1]}'"
    offset = seed * 1_000_003 % 90_000_000
    con.execute(VERHOEFF)
    con.execute(MACROS.format(seed=seed, offset=offset, kind_case=kind_case, internal=internal,
                              fan_out=FAN_OUT, top_level=TOP_LEVEL))
    con.execute(NODES, {"seed": seed, "concepts": concepts, "positions": positions})
    return con, positions, internal


def write_map(con, out: Path, seed: int, eol: str) -> int:
    """The ExtendedMap Snapshot; returns its number of records."""
    sql = MAP.format(female=FEMALE, male=MALE, age=AGE_AT_ONSET, module=MODULE, refset=REFSET,
                     correlation=CORRELATION, out=_sql_path(out))
    copied = con.execute(sql, {"seed": seed, "eol": eol, "header": "\t".join(MAP_HEADER)}).fetchone()[0]
    return copied - 1


def write_relationships(con, out: Path, seed: int, eol: str, positions: int, internal: int) -> int:
    """The relationship Snapshot; returns its number of rows."""
    sql = RELATIONSHIPS.format(top_level=TOP_LEVEL, fan_out=FAN_OUT, root=ROOT_CONCEPT, is_a=IS_A, internal=internal,
                               body=BODY_STRUCTURES, finding_site=FINDING_SITE, module=MODULE, inferred=INFERRED,
                               existential=EXISTENTIAL, out=_sql_path(out))
    params = {"seed": seed, "eol": eol, "header": "\t".join(RELATIONSHIP_HEADER), "positions": positions,
              "body_base": positions + UNKNOWN_CONCEPTS}
    return con.execute(sql, params).fetchone()[0] - 1


def write_problems(con, outs: list[Path], seed: int, problems: int, positions: int) -> None:
    """The problems file(s): Parquet, and CSV when ``outs`` names a .csv too."""
    con.execute(POOLS)
    sizes = dict(con.execute("SELECT pool, count(*) FROM pools GROUP BY pool").fetchall())
    for out in outs:
        fmt = "FORMAT parquet" if out.suffix == ".parquet" else "FORMAT csv, HEADER true"
        sql = PROBLEMS.format(unknown=UNKNOWN_CONCEPTS, n_mapped=max(1, sizes.get("mapped", 0)),
                              n_context=max(1, sizes.get("context", 0)), n_unmapped=max(1, sizes.get("unmapped", 0)),
                              female=FEMALE, male=MALE, out=_sql_path(out), format=fmt)
        con.execute(sql, {"seed": seed, "problems": problems, "positions": positions, "unknown_base": positions})


def generate(outdir: str | Path, concepts: int = 120_000, unmapped: int | None = None, problems: int = 1_000_000,
             seed: int = 1, csv: bool = False, crlf: bool = True) -> dict[str, tuple[Path, int, float]]:
    """Write the map, the relationships and the problems under ``outdir``.

    Returns {'map' | 'relationship' | 'problems' [| 'problems_csv']: (path, rows, seconds)}.
    """
    if concepts < 1:
        raise ValueError("concepts must be at least 1")
    unmapped = concepts if unmapped is None else unmapped
    out = Path(outdir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    eol = "\r" if crlf else ""  # the CSV writer ends each line with LF
    written: dict[str, tuple[Path, int, float]] = {}
    started = time.perf_counter()
    con, positions, internal = _connect(seed, concepts, unmapped)
    try:
        path = out / MAP_NAME
        rows = write_map(con, path, seed, eol)
        written["map"] = (path, rows, time.perf_counter() - started)
        t0 = time.perf_counter()
        path = out / RELATIONSHIP_NAME
        rows = write_relationships(con, path, seed, eol, positions, internal)
        written["relationship"] = (path, rows, time.perf_counter() - t0)
        if problems > 0:
            t0 = time.perf_counter()
            paths = [out / PROBLEMS_NAME] + ([out / PROBLEMS_CSV] if csv else [])
            write_problems(con, paths, seed, problems, positions)
            written["problems"] = (paths[0], problems, time.perf_counter() - t0)
            if csv:
                written["problems_csv"] = (paths[1], problems, 0.0)
    finally:
        con.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder to write into (created; files of the same names are replaced)")
    parser.add_argument("--concepts", type=int, default=120_000, help="mapped concepts (default 120,000)")
    parser.add_argument("--unmapped", type=int, default=None,
                        help="concepts of the hierarchy without map records (default: as many as --concepts)")
    parser.add_argument("--problems", type=int, default=1_000_000, help="rows of problems.parquet (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="picks ids, rules, targets and contexts (default 1)")
    parser.add_argument("--csv", action="store_true", help="write problems.csv too")
    parser.add_argument("--lf", action="store_true", help="end RF2 lines with LF (default CRLF, as NLM's files)")
    options = parser.parse_args()
    if options.concepts < 1 or options.problems < 0 or (options.unmapped or 0) < 0:
        parser.error("--concepts must be at least 1; --unmapped and --problems not negative")
    started = time.perf_counter()
    written = generate(options.outdir, options.concepts, options.unmapped, options.problems, options.seed,
                       options.csv, not options.lf)
    for path, rows, seconds in written.values():
        timing = f", {seconds:.1f} s" if seconds else ""
        print(f"{path}: {rows:,} rows, {path.stat().st_size:,} bytes{timing}")
    print(f"seed {options.seed}: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
