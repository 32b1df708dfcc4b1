-- snomed_icd10cm_map: the SNOMED CT to ICD-10-CM map in force: each record's latest state, where active.
-- Grain: one row per map record (RF2 member id) whose latest state is active.
-- Key: record_id (a data test checks that no two rows share it)
-- Sources: snomed_icd10cm_map_history, which holds every state of every loaded release and part
--   (NLM's RF2 ExtendedMap Snapshot, Full or Delta file, or the human-readable TSV). RF2's rule: the
--   state of a record is the one with the latest effectiveTime; an inactive latest state removes
--   the record. A concept's map is its records ordered by map_group, then map_priority: in each
--   group the first record whose rule holds gives the target (I-MAGIC, Appendix B of NLM's
--   technical specification).
-- Example: SELECT map_group, map_priority, map_rule, map_advice, map_target, map_category_id FROM snomed_icd10cm_map WHERE referenced_component_id = '237145004' ORDER BY map_group, map_priority;
-- Columns:
--   referenced_component_id: the SNOMED CT concept mapped
--   map_group: the group of the record; each group yields at most one target
--   map_priority: order of evaluation within the group; the first record whose rule holds gives the target
--   map_rule: the rule as published (TRUE, OTHERWISE TRUE, or IFA clauses)
--   map_advice: the advice as published, NULL when empty
--   map_target: the ICD-10-CM target, canonical (undotted, upper case); NULL when the record has none; ends in '?' when a 7th character (episode of care) is to be chosen
--   map_category_id: the map category concept (447637006 properly classified, 447638001 cannot be classified, 447639009 context dependent, ...)
--   effective_time: effectiveTime of the record's state in force
--   target_incomplete: the target ends in '?'
--   correlation_id: the correlation concept
--   record_id: the RF2 member id (a UUID)
--   active: always true here (an inactive latest state removes the record)
--   release_id: the release the state came from
--   part: the rendering it came from: snapshot, full, delta or tsv
--   is_sample: a bundled hand-made sample, not NLM's map
--   source_file: file the row came from
--   line_no: line of source_file
SELECT
    referenced_component_id,
    map_group,
    map_priority,
    map_rule,
    map_advice,
    map_target,
    map_category_id,
    effective_time,
    target_incomplete,
    correlation_id,
    record_id,
    active,
    release_id,
    part,
    is_sample,
    source_file,
    line_no
FROM snomed_icd10cm_map_history
WHERE is_current AND active
