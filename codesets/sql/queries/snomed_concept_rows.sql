-- snomed_concept_rows: lines of SNOMED CT RF2 relationship and description files cut into their fields and typed.
-- Input: the view snomed_lines (snomed_lines.sql), of which layout 'relationship' (an RF2
--   relationship file, 10 fields: id, effectiveTime, active, moduleId, sourceId, destinationId,
--   relationshipGroup, typeId, characteristicTypeId, modifierId) and 'description' (an RF2 description file, 9 fields: id, effectiveTime, active,
--   moduleId, conceptId, languageCode, typeId, term, caseSignificanceId). Map files (layouts
--   rf2 and tsv) are snomed_rows.sql's.
-- Output: one row per input line of those files; kind 'header', 'blank', 'relationship' or
-- 'description'. A term may hold a quote character, which is text.
WITH named AS (
    SELECT
        * EXCLUDE (fields),
        CASE WHEN kind IN ('relationship', 'description') AND field_count = expected_fields THEN fields END AS cells
    FROM snomed_lines
    WHERE layout IN ('relationship', 'description')
),
typed AS (
    SELECT
        * EXCLUDE (cells),
        cells[1] AS id,
        cells[2] AS effective_time_field,
        cells[3] AS active_field,
        cells[4] AS module_id,
        CASE WHEN kind = 'relationship' THEN cells[5] END AS source_concept,
        CASE WHEN kind = 'relationship' THEN cells[6] END AS destination_concept,
        CASE WHEN kind = 'relationship' THEN cells[7] END AS relationship_group_field,
        CASE WHEN kind = 'relationship' THEN cells[8] WHEN kind = 'description' THEN cells[7] END AS type_id,
        CASE WHEN kind = 'relationship' THEN cells[9] END AS characteristic_type_id,
        CASE WHEN kind = 'relationship' THEN cells[10] END AS modifier_id,
        CASE WHEN kind = 'description' THEN cells[5] END AS concept_id,
        CASE WHEN kind = 'description' THEN cells[6] END AS language_code,
        CASE WHEN kind = 'description' THEN cells[8] END AS term,
        CASE WHEN kind = 'description' THEN cells[9] END AS case_significance_id
    FROM named
)
SELECT
    *,
    CASE WHEN regexp_full_match(effective_time_field, '[0-9]{8}')
        THEN CAST(try_strptime(effective_time_field, '%Y%m%d') AS DATE) END AS effective_time,
    CASE active_field WHEN '1' THEN TRUE WHEN '0' THEN FALSE END AS is_active,
    CASE WHEN regexp_full_match(relationship_group_field, '[0-9]{1,9}')
        THEN TRY_CAST(relationship_group_field AS INTEGER) END AS relationship_group,
    -- the first line of the file holding the same (id, effectiveTime): one state of a component, once
    CASE WHEN kind IN ('relationship', 'description') AND id IS NOT NULL THEN
        min(line_no) OVER (PARTITION BY file_no, id, effective_time_field)
    END AS first_line
FROM typed
