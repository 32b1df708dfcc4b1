-- snomed_fill_maps: the staged SNOMED CT map records in the shape of the shared table maps (sql/shapes.sql).
-- Input: the table snomed_rows (snomed_rows.sql), after the checks passed. Every state of every
-- record is published (a Full file's history too); the views decide which state is current.
SELECT
    part,
    'snomedct' AS source_system,
    'icd10cm' AS target_system,
    referenced_component_id AS source_code,
    target_code,
    map_group,
    map_priority,
    map_rule,
    map_advice,
    map_category_id,
    id AS record_id,
    effective_time,
    is_active AS active,
    module_id,
    correlation_id,
    target_incomplete,
    source_file,
    line_no
FROM snomed_rows
WHERE kind = 'record'
