-- snomed_fill_relationships: staged RF2 relationship lines in the shape of the shared table relationships (sql/shapes.sql).
-- Input: the table snomed_concept_rows (snomed_concept_rows.sql), after the checks passed. Every
-- state of every relationship is published, of every type; the views decide what is in force.
SELECT
    part,
    id AS relationship_id,
    effective_time,
    is_active AS active,
    module_id,
    source_concept,
    destination_concept,
    relationship_group,
    type_id,
    characteristic_type_id,
    modifier_id,
    source_file,
    line_no
FROM snomed_concept_rows
WHERE kind = 'relationship'
