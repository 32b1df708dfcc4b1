-- snomed_concept_names: each SNOMED CT concept's name: its active fully specified name in force.
-- Grain: one row per concept with an active fully specified name.
-- Key: concept_id (a data test checks that no two rows share it)
-- Sources: the shared table descriptions, filled by source snomed_icd10cm from SNOMED CT's RF2
--   description file (part description). Each description's state in force is its latest
--   effectiveTime across every serving release (RF2's rule); of a concept's active fully specified
--   names (typeId 900000000000003001) the latest state is taken, then the smallest id. The bundled
--   sample's descriptions stop serving once any real file of the source is loaded.
-- Example: SELECT concept_id, term FROM snomed_concept_names WHERE concept_id IN ('67321002', '12067001');
-- Columns:
--   concept_id: the concept
--   term: its fully specified name, e.g. 'Acquired coxa vara (disorder)'
--   description_id: the description the term comes from
--   language_code: the description's language
--   effective_time: effectiveTime of the description's state in force
--   release_id: the release of that state
--   is_sample: a bundled hand-made sample, not SNOMED CT
--   source_file: file the row came from
--   line_no: line of source_file
WITH serving AS (
    SELECT release_id, part, effective_from, is_sample, serves
    FROM release_parts
    WHERE source = 'snomed_icd10cm' AND part = 'description'
),
real_loaded AS (
    -- any real part of the source, a map alone too: a real map is never read through the sample's hierarchy
    SELECT COUNT(*) AS parts FROM release_parts WHERE source = 'snomed_icd10cm' AND NOT is_sample
),
states AS (
    SELECT d.*, s.effective_from AS release_effective_from, s.is_sample
    FROM descriptions AS d
    INNER JOIN serving AS s ON s.release_id = d.release_id AND s.part = d.part
    CROSS JOIN real_loaded AS l
    WHERE d.source = 'snomed_icd10cm' AND s.serves AND (NOT s.is_sample OR l.parts = 0)
),
in_force AS (
    SELECT *
    FROM states
    QUALIFY row_number() OVER (
        PARTITION BY description_id
        ORDER BY effective_time DESC, release_effective_from DESC, release_id DESC, source_file, line_no
    ) = 1
)
SELECT concept_id, term, description_id, language_code, effective_time, release_id, is_sample, source_file, line_no
FROM in_force
WHERE active AND type_id = '900000000000003001'
QUALIFY row_number() OVER (PARTITION BY concept_id ORDER BY effective_time DESC, description_id) = 1
