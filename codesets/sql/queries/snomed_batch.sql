-- snomed_batch: evaluate the SNOMED CT to ICD-10-CM map (I-MAGIC) for a batch of problems in one statement.
-- Grain: one row per (problem, map group); a problem whose concept the map lacks gets one row,
--   status 'no map records', map_group NULL.
-- Sources: snomed_icd10cm_map (active records in force).
-- Inputs (registered Arrow tables, built by codesets.warehouse.snomed_batch):
--   snomed_batch_problems(position, problem_id, concept, sex, age_days, problems): one row per
--     problem; sex 'F'/'M'/NULL; age_days DOUBLE (NULL when unknown); problems a list of SCTIDs.
--   snomed_batch_clauses(rule, clause_no, kind, concept, operator, value_days): the parsed map rules,
--     one row per clause; kind 'true' (TRUE), 'otherwise' (OTHERWISE TRUE), 'sex' (248152002 /
--     248153007), 'age' (age observable; operator and value_days), 'finding' (any other concept).
-- Semantics: those of codesets.warehouse.snomed_eval (its docstring): each clause is TRUE, FALSE,
--   UNKNOWN (sex or age not given) or ABSENT (finding not on the problem list); a record fires
--   when every clause is TRUE; in each group the first firing record by (map_priority, record_id)
--   answers; needs is the union of what the non-firing records above it (without a FALSE clause)
--   lacked, plus 'episode_of_care' for a target ending in '?'.
WITH records AS (
    SELECT p.position, m.map_group, m.map_priority, m.record_id, m.map_rule, m.map_target, m.map_category_id,
        m.map_advice
    FROM snomed_batch_problems p
    JOIN snomed_icd10cm_map m ON m.referenced_component_id = p.concept
    WHERE m.active
),
outcomes AS (
    SELECT r.position, r.map_group, r.record_id,
        CASE c.kind
            WHEN 'true' THEN 'true'
            WHEN 'otherwise' THEN 'true'
            WHEN 'sex' THEN CASE
                WHEN p.sex IS NOT NULL THEN
                    CASE WHEN p.sex = CASE c.concept WHEN '248152002' THEN 'F' ELSE 'M' END THEN 'true' ELSE 'false' END
                WHEN list_contains(p.problems, c.concept) THEN 'true'
                ELSE 'sex' END
            WHEN 'age' THEN CASE
                WHEN p.age_days IS NULL THEN 'age'
                WHEN CASE c.operator
                    WHEN '<' THEN p.age_days < c.value_days
                    WHEN '<=' THEN p.age_days <= c.value_days
                    WHEN '>' THEN p.age_days > c.value_days
                    WHEN '>=' THEN p.age_days >= c.value_days END THEN 'true'
                ELSE 'false' END
            WHEN 'finding' THEN CASE WHEN list_contains(p.problems, c.concept) THEN 'true' ELSE 'problems' END
        END AS outcome
    FROM records r
    JOIN snomed_batch_problems p ON p.position = r.position
    JOIN snomed_batch_clauses c ON c.rule = r.map_rule
),
verdicts AS (
    -- per record: fires when every clause is TRUE; a FALSE clause makes it want nothing
    SELECT position, map_group, record_id,
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
        row_number() OVER (PARTITION BY r.position, r.map_group ORDER BY r.map_priority, r.record_id) AS rank
    FROM records r
    JOIN verdicts v USING (position, map_group, record_id)
),
walked AS (
    SELECT *, min(rank) FILTER (WHERE fires) OVER (PARTITION BY position, map_group) AS fired_rank
    FROM ranked
),
groups AS (
    SELECT position, map_group,
        any_value(fired_rank) AS fired_rank,
        coalesce(bool_or(wants_sex AND NOT refuted AND (fired_rank IS NULL OR rank < fired_rank)), false) AS needs_sex,
        coalesce(bool_or(wants_age AND NOT refuted AND (fired_rank IS NULL OR rank < fired_rank)), false) AS needs_age,
        coalesce(bool_or(wants_problems AND NOT refuted AND (fired_rank IS NULL OR rank < fired_rank)), false)
            AS needs_problems
    FROM walked
    GROUP BY ALL
),
answers AS (
    SELECT g.position, g.map_group, g.needs_sex, g.needs_age, g.needs_problems,
        w.map_priority, w.record_id, w.map_rule, w.map_target, w.map_category_id, w.map_advice,
        w.record_id IS NOT NULL AS fired,
        coalesce(ends_with(w.map_target, '?'), false) AS episode
    FROM groups g
    LEFT JOIN walked w ON w.position = g.position AND w.map_group = g.map_group AND w.rank = g.fired_rank
)
SELECT
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
    a.map_category_id AS category,
    a.map_advice AS advice,
    a.map_rule AS rule,
    a.record_id,
    a.map_priority,
    CASE WHEN a.position IS NULL THEN []::VARCHAR[] ELSE list_filter([
        CASE WHEN a.needs_sex THEN 'sex' END,
        CASE WHEN a.needs_age THEN 'age' END,
        CASE WHEN a.needs_problems THEN 'problems' END,
        CASE WHEN a.episode THEN 'episode_of_care' END], lambda x: x IS NOT NULL) END AS needs
FROM snomed_batch_problems p
LEFT JOIN answers a ON a.position = p.position
ORDER BY p.position, a.map_group
