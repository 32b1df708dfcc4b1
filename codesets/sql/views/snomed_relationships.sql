-- snomed_relationships: the SNOMED CT relationships in force: each relationship's latest state, where active.
-- Grain: one row per RF2 relationship (id) whose latest state is active.
-- Key: relationship_id (a data test checks that no two rows share it)
-- Sources: the shared table relationships, filled by source snomed_icd10cm from SNOMED CT's RF2
--   relationship files (parts relationship, the inferred file, and stated_relationship). As for the
--   map, RF2's rule: a relationship's state is the one with the latest effectiveTime across every
--   serving release and part, and an inactive latest state removes it. The bundled sample's
--   relationships stop serving once any real file of the
--   source is loaded (a real map is not read through a hand-made hierarchy).
-- Example: SELECT source_concept, type_id, destination_concept FROM snomed_relationships WHERE source_concept = '782866008' ORDER BY type_id;
-- Columns:
--   relationship_id: the RF2 relationship id
--   source_concept: the concept the relationship is about (the child of an is-a)
--   type_id: 116680003 is-a, else an attribute (363698007 finding site, 116676008 associated morphology, ...)
--   destination_concept: the concept it points at (the parent of an is-a)
--   relationship_group: the role group (0 for an is-a)
--   characteristic_type_id: 900000000000011006 inferred, 900000000000010007 stated
--   modifier_id: the modifier concept (900000000000451002 existential)
--   effective_time: effectiveTime of the state in force
--   module_id: the module concept of that state
--   release_id: the release the state came from
--   part: relationship or stated_relationship
--   is_sample: a bundled hand-made sample, not SNOMED CT
--   source_file: file the row came from
--   line_no: line of source_file
WITH serving AS (
    SELECT release_id, part, effective_from, is_sample, serves
    FROM release_parts
    WHERE source = 'snomed_icd10cm' AND part IN ('relationship', 'stated_relationship')
),
real_loaded AS (
    -- any real part of the source, a map alone too: a real map is never read through the sample's hierarchy
    SELECT COUNT(*) AS parts FROM release_parts WHERE source = 'snomed_icd10cm' AND NOT is_sample
),
states AS (
    SELECT r.*, s.effective_from AS release_effective_from, s.is_sample
    FROM relationships AS r
    INNER JOIN serving AS s ON s.release_id = r.release_id AND s.part = r.part
    CROSS JOIN real_loaded AS l
    WHERE r.source = 'snomed_icd10cm' AND s.serves AND (NOT s.is_sample OR l.parts = 0)
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY relationship_id
            ORDER BY effective_time DESC, release_effective_from DESC, release_id DESC,
                CASE part WHEN 'relationship' THEN 1 ELSE 2 END, source_file, line_no
        ) AS state_rank
    FROM states
)
SELECT
    relationship_id,
    source_concept,
    type_id,
    destination_concept,
    relationship_group,
    characteristic_type_id,
    modifier_id,
    effective_time,
    module_id,
    release_id,
    part,
    is_sample,
    source_file,
    line_no
FROM ranked
WHERE state_rank = 1 AND active
