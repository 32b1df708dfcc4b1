-- snomed_stage: the staged view of SNOMED CT map lines the checks read: snomed_rows plus what only the checks need.
-- Input: the table snomed_rows (snomed_rows.sql); snomed_rule_verdicts(map_rule, problem), one row
--   per distinct rule text of the staged files with the reader's verdict (codesets.warehouse.
--   snomed_rules; problem NULL when the rule parses); snomed_bad_sctids(value), the SNOMED CT
--   ids of the staged files whose last digit is not their Verhoeff check digit (judged once per
--   distinct id by codesets.core.sctid, vectorised: per row in SQL it cost more than all the
--   other checks); the variables snomed_refset_id, snomed_target_pattern and
--   snomed_control_pattern (a control character, codesets.loaders._lines.CONTROL).
-- Output: one row per input line; nothing is filtered here, the checks decide. Columns holding
-- text (duplicate_of, rule_problem, control_character, check_digit) are NULL when all is well,
-- else say what is wrong.
SELECT
    r.*,
    -- the fields under the names the file's header gives them, for the report of a failing row
    r.effective_time_field AS "effectiveTime",
    r.active_field AS "active",
    r.module_id AS "moduleId",
    r.refset_id AS "refsetId",
    r.referenced_component_id AS "referencedComponentId",
    r.map_group_field AS "mapGroup",
    r.map_priority_field AS "mapPriority",
    r.map_rule AS "mapRule",
    r.map_target AS "mapTarget",
    r.correlation_id AS "correlationId",
    r.map_category_id AS "mapCategoryId",
    CASE WHEN r.first_line <> r.line_no THEN
        printf('record %s at effectiveTime %s, also on line %d', r.id, r.effective_time_field, r.first_line)
    END AS duplicate_of,
    CASE WHEN v.problem IS NOT NULL THEN printf('record %s: %s', r.id, v.problem) END AS rule_problem,
    -- the first control character of a line and its column (a character count, from 1)
    CASE WHEN r.kind <> 'header' AND regexp_matches(r.raw, getvariable('snomed_control_pattern')) THEN
        printf('control character 0x%02X at column %d', ord(regexp_extract(r.raw, getvariable('snomed_control_pattern'))),
               strpos(r.raw, regexp_extract(r.raw, getvariable('snomed_control_pattern'))))
    END AS control_character,
    -- each concept id whose check digit is wrong, as 'field id', '; '-separated
    nullif(concat_ws('; ',
        CASE WHEN r.module_id IN (SELECT value FROM snomed_bad_sctids) THEN 'moduleId ' || r.module_id END,
        CASE WHEN r.referenced_component_id IN (SELECT value FROM snomed_bad_sctids)
            THEN 'referencedComponentId ' || r.referenced_component_id END,
        CASE WHEN r.correlation_id IN (SELECT value FROM snomed_bad_sctids)
            THEN 'correlationId ' || r.correlation_id END,
        CASE WHEN r.map_category_id IN (SELECT value FROM snomed_bad_sctids)
            THEN 'mapCategoryId ' || r.map_category_id END
    ), '') AS check_digit,
    r.target_code IS NULL
        OR regexp_full_match(r.target_code, getvariable('snomed_target_pattern'))
        OR regexp_full_match(r.target_code, '[A-Z][0-9][0-9A-Z][0-9A-Z]{3}\?') AS target_ok
FROM snomed_rows AS r
LEFT JOIN snomed_rule_verdicts AS v ON v.map_rule = r.map_rule
