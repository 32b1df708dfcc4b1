-- snomed_batch: evaluate the SNOMED CT to ICD-10-CM map (I-MAGIC) for a batch of problems in one statement.
-- Grain: one row per (problem, route, map group), unordered (position and route_order give the
--   order: input order, own records first, then each ancestor by SCTID), where the route is the concept's own records
--   (mapped_via NULL) or, for a concept without records, each of its nearest mapped ancestors
--   (snomed_hierarchy); a problem with neither gets one row, status 'no map records', map_group NULL.
-- Sources: snomed_icd10cm_map (active records in force), snomed_hierarchy (is-a links in force; may
--   be empty), code_releases and code_history (the ICD-10-CM release in force on each problem's
--   on_date, whose billable codes complete a '?' target).
-- Inputs (registered Arrow tables, built by codesets.warehouse.snomed_batch):
--   snomed_batch_problems(position, problem_id, concept, sex, age_days, problems, on_date): one row
--     per problem; sex 'F'/'M'/NULL; age_days DOUBLE (NULL when unknown); problems a list of
--     SCTIDs (an empty item is skipped); on_date the DATE whose ICD-10-CM release completes '?'
--     targets.
--   snomed_batch_clauses(rule, clause_no, kind, concept, operator, value_days): the parsed map rules,
--     one row per clause; kind 'true' (TRUE), 'otherwise' (OTHERWISE TRUE), 'sex' (248152002 /
--     248153007), 'age' (age observable; operator and value_days), 'finding' (any other concept).
-- Semantics: those of codesets.warehouse.snomed_eval (its docstring): each clause is TRUE, FALSE,
--   UNKNOWN (sex or age not given) or ABSENT (finding not present: not the concept, not on the
--   problem list, nor a descendant of one); a record fires when every clause is TRUE; in each
--   group the first firing record by (map_priority, record_id) answers; needs is the union of what
--   the non-firing records above it (without a FALSE clause) lacked, plus 'episode_of_care' for a
--   target ending in '?'. The hierarchy is walked by two recursive CTEs with set semantics (UNION),
--   so a cycle in a broken hierarchy ends; the nearest-ancestor walk also stops at 64 steps.
-- How (for speed): most groups open with a record that always fires (TRUE, OTHERWISE TRUE), so
--   per (concept, group) the rank of the first such record is known from the map alone; only the
--   conditional records above it are evaluated against each problem's context, and the answer
--   is the first conditional record that fires, else that default. What an IFA finding clause
--   finds is worked out from below: the descendants of the clause concepts (few) met among the
--   problems' concepts and lists.
WITH RECURSIVE
mapped AS MATERIALIZED (
    SELECT DISTINCT referenced_component_id AS concept FROM snomed_icd10cm_map WHERE active
),
-- the is-a links, read once (a view named inside a recursive CTE is read again at every step)
links AS MATERIALIZED (
    SELECT concept_id, parent_id FROM snomed_hierarchy
),
-- the concepts of the batch without records of their own climb to their nearest mapped ancestors
climb(start, ancestor, depth) AS (
    SELECT u.concept, h.parent_id, 1
    FROM (SELECT DISTINCT concept FROM snomed_batch_problems) AS u
    JOIN links h ON h.concept_id = u.concept
    WHERE u.concept NOT IN (SELECT concept FROM mapped)
    UNION
    SELECT c.start, h.parent_id, c.depth + 1
    FROM climb c
    JOIN links h ON h.concept_id = c.ancestor
    WHERE c.depth < 64 AND c.ancestor NOT IN (SELECT concept FROM mapped)
),
nearest AS (
    SELECT start, ancestor
    FROM (
        SELECT start, ancestor, depth, min(depth) OVER (PARTITION BY start) AS least
        FROM climb
        WHERE ancestor IN (SELECT concept FROM mapped)
    )
    WHERE depth = least
),
routes AS (
    SELECT position, concept AS map_concept, '' AS route FROM snomed_batch_problems
    UNION ALL
    SELECT p.position, n.ancestor, n.ancestor
    FROM snomed_batch_problems p
    JOIN nearest n ON n.start = p.concept
),
-- the records of the concepts asked about, ranked in their group; always: the rule is TRUE or OTHERWISE TRUE
rule_kinds AS (
    SELECT rule, bool_or(kind IN ('true', 'otherwise')) AS always FROM snomed_batch_clauses GROUP BY rule
),
ranked AS (
    SELECT m.referenced_component_id AS map_concept, m.map_group, m.map_priority, m.record_id, m.map_rule,
        m.map_target, m.map_category_id, m.map_advice, k.always,
        row_number() OVER (PARTITION BY m.referenced_component_id, m.map_group
                           ORDER BY m.map_priority, m.record_id) AS rank
    FROM snomed_icd10cm_map m
    JOIN rule_kinds k ON k.rule = m.map_rule
    WHERE m.active AND m.referenced_component_id IN (SELECT map_concept FROM routes)
),
map_groups AS (
    SELECT map_concept, map_group, min(rank) FILTER (WHERE always) AS default_rank
    FROM ranked
    GROUP BY ALL
),
-- the conditional records above each group's default, per problem
conditional AS (
    SELECT r.position, r.route, g.map_concept, g.map_group, m.rank, m.map_rule
    FROM routes r
    JOIN map_groups g ON g.map_concept = r.map_concept
    JOIN ranked m ON m.map_concept = g.map_concept AND m.map_group = g.map_group
    WHERE NOT m.always AND (g.default_rank IS NULL OR m.rank < g.default_rank)
),
-- what an IFA finding clause finds: the clause concepts and their descendants, met among the
-- problem's concept and problem list
clause_concepts AS (
    SELECT DISTINCT concept FROM snomed_batch_clauses WHERE kind IN ('finding', 'sex')
),
below(clause_concept, concept) AS (
    SELECT concept, concept FROM clause_concepts
    UNION
    SELECT b.clause_concept, h.concept_id
    FROM below b
    JOIN links h ON h.parent_id = b.concept
),
asking AS (
    SELECT DISTINCT c.position
    FROM conditional c
    JOIN snomed_batch_clauses k ON k.rule = c.map_rule
    WHERE k.kind IN ('finding', 'sex')
),
items AS (
    SELECT p.position, p.concept
    FROM snomed_batch_problems p JOIN asking a ON a.position = p.position
    UNION
    SELECT position, item
    FROM (SELECT p.position, unnest(p.problems) AS item
          FROM snomed_batch_problems p JOIN asking a ON a.position = p.position)
    WHERE item <> ''
),
present AS (
    SELECT DISTINCT i.position, b.clause_concept AS concept
    FROM items i
    JOIN below b ON b.concept = i.concept
),
outcomes AS (
    SELECT c.position, c.route, c.map_group, c.rank,
        CASE k.kind
            WHEN 'sex' THEN CASE
                WHEN p.sex IS NOT NULL THEN
                    CASE WHEN p.sex = CASE k.concept WHEN '248152002' THEN 'F' ELSE 'M' END THEN 'true' ELSE 'false' END
                WHEN f.position IS NOT NULL THEN 'true'
                ELSE 'sex' END
            WHEN 'age' THEN CASE
                WHEN p.age_days IS NULL THEN 'age'
                WHEN CASE k.operator
                    WHEN '<' THEN p.age_days < k.value_days
                    WHEN '<=' THEN p.age_days <= k.value_days
                    WHEN '>' THEN p.age_days > k.value_days
                    WHEN '>=' THEN p.age_days >= k.value_days END THEN 'true'
                ELSE 'false' END
            WHEN 'finding' THEN CASE WHEN f.position IS NOT NULL THEN 'true' ELSE 'problems' END
        END AS outcome
    FROM conditional c
    JOIN snomed_batch_problems p ON p.position = c.position
    JOIN snomed_batch_clauses k ON k.rule = c.map_rule
    LEFT JOIN present f ON f.position = c.position AND f.concept = k.concept
),
verdicts AS (
    -- per conditional record: fires when every clause is TRUE; a FALSE clause makes it want nothing
    SELECT position, route, map_group, rank,
        bool_and(outcome = 'true') AS fires,
        bool_or(outcome = 'false') AS refuted,
        bool_or(outcome = 'sex') AS wants_sex,
        bool_or(outcome = 'age') AS wants_age,
        bool_or(outcome = 'problems') AS wants_problems
    FROM outcomes
    GROUP BY ALL
),
firsts AS (
    -- per problem and group: the first conditional record that fires, and the first that wanted each context
    SELECT position, route, map_group,
        min(rank) FILTER (WHERE fires) AS fired_rank,
        min(rank) FILTER (WHERE wants_sex AND NOT refuted) AS sex_rank,
        min(rank) FILTER (WHERE wants_age AND NOT refuted) AS age_rank,
        min(rank) FILTER (WHERE wants_problems AND NOT refuted) AS problems_rank
    FROM verdicts
    GROUP BY ALL
),
answers AS (
    SELECT r.position, r.route, g.map_group, a.map_priority, a.record_id, a.map_rule, a.map_target,
        a.map_category_id, a.map_advice,
        a.record_id IS NOT NULL AS fired,
        coalesce(ends_with(a.map_target, '?'), false) AS episode,
        coalesce(f.sex_rank < coalesce(a.rank, 2147483647), false) AS needs_sex,
        coalesce(f.age_rank < coalesce(a.rank, 2147483647), false) AS needs_age,
        coalesce(f.problems_rank < coalesce(a.rank, 2147483647), false) AS needs_problems
    FROM routes r
    JOIN map_groups g ON g.map_concept = r.map_concept
    LEFT JOIN firsts f ON f.position = r.position AND f.route = r.route AND f.map_group = g.map_group
    LEFT JOIN ranked a ON a.map_concept = g.map_concept AND a.map_group = g.map_group
        AND a.rank = coalesce(f.fired_rank, g.default_rank)
),
-- a '?' target's completions: the billable codes of the ICD-10-CM release in force on the problem's
-- date that replace the '?' with one character (NULL when no release is in force)
icd10cm_windows AS (
    SELECT DISTINCT release_id, effective_from, effective_to FROM code_releases WHERE source = 'icd10cm'
),
episodes AS (
    SELECT a.position, a.route, a.map_group, a.map_target, w.release_id
    FROM answers a
    JOIN snomed_batch_problems p ON p.position = a.position
    LEFT JOIN icd10cm_windows w
        ON w.effective_from <= p.on_date AND (w.effective_to IS NULL OR p.on_date <= w.effective_to)
    WHERE a.episode
),
completed AS (
    SELECT e.map_target, e.release_id,
        coalesce(list(DISTINCT h.code ORDER BY h.code) FILTER (WHERE h.code IS NOT NULL), []) AS codes
    FROM (SELECT DISTINCT map_target, release_id FROM episodes WHERE release_id IS NOT NULL) e
    LEFT JOIN code_history h
        ON h.source = 'icd10cm' AND h.release_id = e.release_id AND h.code_system = 'icd10cm' AND h.billable
        AND h.code LIKE rtrim(e.map_target, '?') || '_'
    GROUP BY ALL
)
SELECT
    p.position,
    coalesce(TRY_CAST(nullif(a.route, '') AS BIGINT), 0) AS route_order,
    p.problem_id,
    p.concept,
    a.map_group,
    CASE
        WHEN a.position IS NULL THEN 'no map records'
        WHEN a.needs_sex OR a.needs_age THEN 'context needed'
        WHEN NOT a.fired THEN 'no rule held'
        WHEN a.map_target IS NULL THEN 'no target'
        WHEN a.episode THEN 'incomplete'
        ELSE 'mapped'
    END AS status,
    a.map_target AS target,
    nullif(a.route, '') AS mapped_via,
    a.map_category_id AS category,
    a.map_advice AS advice,
    a.map_rule AS rule,
    a.record_id,
    a.map_priority,
    CASE WHEN a.position IS NULL THEN []::VARCHAR[] ELSE list_filter([
        CASE WHEN a.needs_sex THEN 'sex' END,
        CASE WHEN a.needs_age THEN 'age' END,
        CASE WHEN a.needs_problems THEN 'problems' END,
        CASE WHEN a.episode THEN 'episode_of_care' END], lambda x: x IS NOT NULL) END AS needs,
    CASE WHEN e.release_id IS NOT NULL THEN coalesce(c.codes, []) END AS completions
FROM snomed_batch_problems p
LEFT JOIN answers a ON a.position = p.position
LEFT JOIN episodes e ON e.position = a.position AND e.route = a.route AND e.map_group = a.map_group
LEFT JOIN completed c ON c.map_target = e.map_target AND c.release_id = e.release_id
-- unordered: the caller sorts on (position, route_order, map_group), integers, in Arrow
