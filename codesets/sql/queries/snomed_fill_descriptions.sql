-- snomed_fill_descriptions: staged RF2 description lines in the shape of the shared table descriptions (sql/shapes.sql).
-- Input: the table snomed_concept_rows (snomed_concept_rows.sql), after the checks passed. Every
-- state of every description is published; the views decide what is in force.
SELECT
    part,
    id AS description_id,
    effective_time,
    is_active AS active,
    module_id,
    concept_id,
    language_code,
    type_id,
    term,
    case_significance_id,
    source_file,
    line_no
FROM snomed_concept_rows
WHERE kind = 'description'
