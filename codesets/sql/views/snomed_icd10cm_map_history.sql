-- snomed_icd10cm_map_history: every state of every SNOMED CT to ICD-10-CM map record loaded, with the one in force marked.
-- Grain: one row per map record state as a loaded file lists it (record id and effectiveTime, per file).
-- Key: release_id, part, source_file, line_no (a data test checks that no two rows share it)
-- Sources: NLM's SNOMED CT to ICD-10-CM map, loaded by source snomed_icd10cm: the RF2 ExtendedMap
--   reference set (refsetId 6011000124106) as a Snapshot, Full or Delta file, or the human-readable
--   TSV; one part per rendering. A Full file brings every historical state. The state in force for
--   a record is the one with the latest effectiveTime across every serving release and part (RF2's
--   rule), kept when active (snomed_icd10cm_map). A bundled sample stops serving once a real
--   release is loaded. Plain joins and one window, so it runs on other engines.
-- Example: SELECT record_id, effective_time, active, map_target, release_id, part, is_current FROM snomed_icd10cm_map_history WHERE referenced_component_id = '66327008' ORDER BY effective_time;
-- Columns:
--   record_id: the RF2 member id (a UUID), the same across a record's states
--   effective_time: effectiveTime of this state
--   active: the record is active in this state
--   referenced_component_id: the SNOMED CT concept mapped
--   map_group: the group of the record; each group yields at most one target
--   map_priority: order of evaluation within the group; the first record whose rule holds gives the target
--   map_rule: the rule as published (TRUE, OTHERWISE TRUE, or IFA clauses)
--   map_advice: the advice as published, NULL when empty
--   map_target: the ICD-10-CM target, canonical (undotted, upper case); NULL when the record has none; ends in '?' when a 7th character (episode of care) is to be chosen
--   target_incomplete: the target ends in '?'
--   map_category_id: the map category concept (447637006 properly classified, 447638001 cannot be classified, 447639009 context dependent, ...)
--   correlation_id: the correlation concept
--   module_id: the module concept of this state
--   release_id: the release the file belongs to
--   part: the rendering the row came from: snapshot, full, delta or tsv
--   release_effective_from: first date the release serves; NULL for a sample that no longer serves
--   is_sample: a bundled hand-made sample, not NLM's map
--   is_current: this row is the state in force for its record (latest effectiveTime, whatever its active flag)
--   source_file: file the row came from
--   line_no: line of source_file
WITH serving AS (
    SELECT p.source, p.release_id, p.part, p.effective_from, p.is_sample, p.serves
    FROM release_parts AS p
    WHERE p.source = 'snomed_icd10cm'
),
real_loaded AS (
    -- map parts only: a real hierarchy loaded beside the sample's map leaves the sample map serving
    SELECT COUNT(*) AS parts FROM serving WHERE NOT is_sample AND part IN ('snapshot', 'full', 'delta', 'tsv')
),
states AS (
    SELECT
        m.*,
        s.effective_from AS release_effective_from,
        s.is_sample,
        s.serves AND (NOT s.is_sample OR r.parts = 0) AS counts
    FROM maps AS m
    INNER JOIN serving AS s ON s.release_id = m.release_id AND s.part = m.part
    CROSS JOIN real_loaded AS r
    WHERE m.source = 'snomed_icd10cm' AND m.part IN ('snapshot', 'full', 'delta', 'tsv')
),
ranked AS (
    SELECT
        *,
        CASE WHEN counts THEN row_number() OVER (
            PARTITION BY counts, record_id
            -- the same state may come in several renderings (a Snapshot and the TSV): take one
            ORDER BY effective_time DESC, release_effective_from DESC, release_id DESC,
                CASE part WHEN 'snapshot' THEN 1 WHEN 'full' THEN 2 WHEN 'delta' THEN 3 ELSE 4 END,
                source_file, line_no
        ) END AS state_rank
    FROM states
)
SELECT
    record_id,
    effective_time,
    active,
    source_code AS referenced_component_id,
    map_group,
    map_priority,
    map_rule,
    map_advice,
    target_code AS map_target,
    target_incomplete,
    map_category_id,
    correlation_id,
    module_id,
    release_id,
    part,
    release_effective_from,
    is_sample,
    coalesce(state_rank = 1, FALSE) AS is_current,
    source_file,
    line_no
FROM ranked
