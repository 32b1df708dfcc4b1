-- snomed_batch: evaluate the SNOMED CT to ICD-10-CM map (I-MAGIC) for a batch of problems in one statement.
-- Grain: one row per (problem, route, map group), where the route is the concept's own records
--   (mapped_via NULL) or, for a concept without records, each of its nearest mapped ancestors
--   (snomed_hierarchy); a problem with neither gets one row, status 'no map records', map_group NULL.
-- Sources: snomed_icd10cm_map (active records in force), snomed_hierarchy (is-a links in force; may
--   be empty), code_releases and code_history (the ICD-10-CM release in force on each problem's
--   on_date, whose billable codes complete a '?' target).
-- Inputs (registered Arrow tables, built by codesets.warehouse.snomed_batch):
--   snomed_batch_problems(position, problem_id, concept, sex, age_days, problems, on_date): one row
--     per problem; sex 'F'/'M'/NULL; age_days DOUBLE (NULL when unknown); problems a list of
--     SCTIDs; on_date the DATE whose ICD-10-CM release completes '?' targets.
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
WITH RECURSIVE
mapped AS (
    SELECT DISTINCT referenced_component_id AS concept FROM snomed_icd10cm_map WHERE active
),
-- the concepts of the batch without records of their own climb to their nearest mapped ancestors
climb(start, ancestor, depth) AS (
    SELECT u.concept, h.parent_id, 1
    FROM (SELECT DISTINCT concept FROM snomed_batch_problems) AS u
    JOIN snomed_hierarchy h ON h.concept_id = u.concept
    WHERE u.concept NOT IN (SELECT concept FROM mapped)
    UNION
    SELECT c.start, h.parent_id, c.depth + 1
    FROM climb c
    JOIN snomed_hierarchy h ON h.concept_id = c.ancestor
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
records AS (
    SELECT r.position, r.route, m.map_group, m.map_priority, m.record_id, m.map_rule, m.map_target,
        m.map_category_id, m.map_advice
    FROM routes r
    JOIN snomed_icd10cm_map m ON m.referenced_component_id = r.map_concept
    WHERE m.active
),
-- what an IFA finding clause finds: the concept, the problem list, and their ancestors; worked out
-- only for the problems that have such a clause to answer
asking AS (
    SELECT DISTINCT r.position
    FROM records r
    JOIN snomed_batch_clauses c ON c.rule = r.map_rule
    JOIN snomed_batch_problems p ON p.position = r.position
    WHERE c.kind = 'finding' OR (c.kind = 'sex' AND p.sex IS NULL)
),
items AS (
    SELECT p.position, p.concept
    FROM snomed_batch_problems p JOIN asking a ON a.position = p.position
    UNION
    SELECT p.position, unnest(p.problems)
    FROM snomed_batch_problems p JOIN asking a ON a.position = p.position
),
lineage(start, ancestor) AS (
    SELECT DISTINCT concept, concept FROM items
    UNION
    SELECT l.start, h.parent_id
    FROM lineage l
    JOIN snomed_hierarchy h ON h.concept_id = l.ancestor
),
present AS (
    SELECT DISTINCT i.position, l.ancestor AS concept
    FROM items i
    JOIN lineage l ON l.start = i.concept
    WHERE l.ancestor IN (SELECT concept FROM snomed_batch_clauses WHERE kind IN ('finding', 'sex'))
),
outcomes AS (
    SELECT r.position, r.route, r.map_group, r.record_id,
        CASE c.kind
            WHEN 'true' THEN 'true'
            WHEN 'otherwise' THEN 'true'
            WHEN 'sex' THEN CASE
                WHEN p.sex IS NOT NULL THEN
                    CASE WHEN p.sex = CASE c.concept WHEN '248152002' THEN 'F' ELSE 'M' END THEN 'true' ELSE 'false' END
                WHEN f.position IS NOT NULL THEN 'true'
                ELSE 'sex' END
            WHEN 'age' THEN CASE
                WHEN p.age_days IS NULL THEN 'age'
                WHEN CASE c.operator
                    WHEN '<' THEN p.age_days < c.value_days
                    WHEN '<=' THEN p.age_days <= c.value_days
                    WHEN '>' THEN p.age_days > c.value_days
                    WHEN '>=' THEN p.age_days >= c.value_days END THEN 'true'
                ELSE 'false' END
            WHEN 'finding' THEN CASE WHEN f.position IS NOT NULL THEN 'true' ELSE 'problems' END
        END AS outcome
    FROM records r
    JOIN snomed_batch_problems p ON p.position = r.position
    JOIN snomed_batch_clauses c ON c.rule = r.map_rule
    LEFT JOIN present f ON f.position = r.position AND f.concept = c.concept
),
verdicts AS (
    -- per record: fires when every clause is TRUE; a FALSE clause makes it want nothing
    SELECT position, route, map_group, record_id,
        bool_and(outcome = 'true') AS fires,
        bool_or(outcome = 'false') AS refuted,
        bool_or(outcome = 'sex') AS wants_sex,
        bool_or(outcome = 'age') AS wants_age,
        bool_or(outcome = 'problems') AS wants_problems
    FROM outcomes
    GROUP BY ALL
),
ranked AS (
    SELECT r.*, v.fires, v.refuted, v.wants_sex, v.wants_age, v.wants_problems,
        row_number() OVER (PARTITION BY r.position, r.route, r.map_group ORDER BY r.map_priority, r.record_id) AS rank
    FROM records r
    JOIN verdicts v USING (position, route, map_group, record_id)
),
walked AS (
    SELECT *, min(rank) FILTER (WHERE fires) OVER (PARTITION BY position, route, map_group) AS fired_rank
    FROM ranked
),
groups AS (
    SELECT position, route, map_group,
        any_value(fired_rank) AS fired_rank,
        coalesce(bool_or(wants_sex AND NOT refuted AND (fired_rank IS NULL OR rank < fired_rank)), false) AS needs_sex,
        coalesce(bool_or(wants_age AND NOT refuted AND (fired_rank IS NULL OR rank < fired_rank)), false) AS needs_age,
        coalesce(bool_or(wants_problems AND NOT refuted AND (fired_rank IS NULL OR rank < fired_rank)), false)
            AS needs_problems
    FROM walked
    GROUP BY ALL
),
answers AS (
    SELECT g.position, g.route, g.map_group, g.needs_sex, g.needs_age, g.needs_problems,
        w.map_priority, w.record_id, w.map_rule, w.map_target, w.map_category_id, w.map_advice,
        w.record_id IS NOT NULL AS fired,
        coalesce(ends_with(w.map_target, '?'), false) AS episode
    FROM groups g
    LEFT JOIN walked w
        ON w.position = g.position AND w.route = g.route AND w.map_group = g.map_group AND w.rank = g.fired_rank
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
    p.problem_id,
    p.concept,
    nullif(a.route, '') AS mapped_via,
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
ORDER BY p.position, length(a.route), a.route, a.map_group
