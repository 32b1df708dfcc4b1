-- snomed_concept_stage: staged RF2 relationship and description lines with what only the checks need.
-- Input: the table snomed_concept_rows (snomed_concept_rows.sql); snomed_bad_sctids(value) and
--   the variable snomed_control_pattern, as for snomed_stage.sql.
-- Output: one row per input line; nothing is filtered here, the checks decide. duplicate_of,
-- control_character and check_digit are NULL when all is well, else say what is wrong:
-- duplicate_of names the line that holds the same state first.
SELECT
    r.*,
    -- the fields under the names the file's header gives them, for the report of a failing row
    r.effective_time_field AS "effectiveTime",
    r.active_field AS "active",
    r.module_id AS "moduleId",
    r.source_concept AS "sourceId",
    r.destination_concept AS "destinationId",
    r.relationship_group_field AS "relationshipGroup",
    r.type_id AS "typeId",
    r.characteristic_type_id AS "characteristicTypeId",
    r.modifier_id AS "modifierId",
    r.concept_id AS "conceptId",
    r.language_code AS "languageCode",
    r.case_significance_id AS "caseSignificanceId",
    CASE WHEN r.first_line <> r.line_no THEN
        printf('component %s at effectiveTime %s, also on line %d', r.id, r.effective_time_field, r.first_line)
    END AS duplicate_of,
    -- the first control character of a line and its column (a character count, from 1)
    CASE WHEN r.kind <> 'header' AND regexp_matches(r.raw, getvariable('snomed_control_pattern')) THEN
        printf('control character 0x%02X at column %d', ord(regexp_extract(r.raw, getvariable('snomed_control_pattern'))),
               strpos(r.raw, regexp_extract(r.raw, getvariable('snomed_control_pattern'))))
    END AS control_character,
    -- each id whose check digit is wrong, as 'field id', '; '-separated: the component's own id
    -- (relationship or description) and the concept ids it holds
    nullif(concat_ws('; ',
        CASE WHEN r.id IN (SELECT value FROM snomed_bad_sctids) THEN 'id ' || r.id END,
        CASE WHEN r.module_id IN (SELECT value FROM snomed_bad_sctids) THEN 'moduleId ' || r.module_id END,
        CASE WHEN r.source_concept IN (SELECT value FROM snomed_bad_sctids) THEN 'sourceId ' || r.source_concept END,
        CASE WHEN r.destination_concept IN (SELECT value FROM snomed_bad_sctids)
            THEN 'destinationId ' || r.destination_concept END,
        CASE WHEN r.type_id IN (SELECT value FROM snomed_bad_sctids) THEN 'typeId ' || r.type_id END,
        CASE WHEN r.characteristic_type_id IN (SELECT value FROM snomed_bad_sctids)
            THEN 'characteristicTypeId ' || r.characteristic_type_id END,
        CASE WHEN r.modifier_id IN (SELECT value FROM snomed_bad_sctids) THEN 'modifierId ' || r.modifier_id END,
        CASE WHEN r.concept_id IN (SELECT value FROM snomed_bad_sctids) THEN 'conceptId ' || r.concept_id END,
        CASE WHEN r.case_significance_id IN (SELECT value FROM snomed_bad_sctids)
            THEN 'caseSignificanceId ' || r.case_significance_id END
    ), '') AS check_digit
FROM snomed_concept_rows AS r
