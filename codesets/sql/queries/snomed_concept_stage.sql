-- snomed_concept_stage: staged RF2 relationship and description lines with what only the checks need.
-- Input: the table snomed_concept_rows (snomed_concept_rows.sql).
-- Output: one row per input line; nothing is filtered here, the checks decide. duplicate_of is
-- NULL when all is well, else names the line that holds the same state first.
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
    END AS duplicate_of
FROM snomed_concept_rows AS r
