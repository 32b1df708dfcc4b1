-- release_row_keys: every row of the shared tables reduced to what identifies its content, for diffs.
-- Grain: one row per row of maps, code_rows, edits, limits, relationships and descriptions (not unique: a part may repeat a row).
-- Key: source, part, release_id, row_hash, line_no, source_file (a data test checks that no two rows share it)
-- Sources: maps, code_rows, edits_published (edits as each release published them), limits, relationships,
--   descriptions. Provenance (file, line) is left out of the hash, so the
-- same row in two releases hashes alike; release_changes compares the hashes of two releases.
-- Example: SELECT release_id, COUNT(DISTINCT row_hash) FROM release_row_keys WHERE source = 'gems' GROUP BY 1;
-- Columns:
--   source: the loader
--   part: the part of the release
--   release_id: the release
--   row_hash: 64-bit hash of the row's content columns
--   source_file: file the row came from
--   line_no: line of source_file
SELECT source, part, release_id,
    hash(source_system, target_system, source_code, target_code, flags, map_group, map_priority, map_rule,
         map_advice, map_category_id) AS row_hash,
    source_file, line_no
FROM maps
UNION ALL
SELECT source, part, release_id,
    hash(code_system, code, description, short_description, billable, effective_from, effective_to, action_code,
         action_effective_date),
    source_file, line_no
FROM code_rows
UNION ALL
SELECT source, part, release_id,
    hash(setting, column1_code, column2_code, prior_1996, effective_date, deletion_date, modifier_indicator, rationale),
    source_file, line_no
FROM edits_published
UNION ALL
SELECT source, part, release_id,
    hash(service_type, code, mue_value, mai, mai_text, rationale),
    source_file, line_no
FROM limits
UNION ALL
SELECT source, part, release_id,
    hash(relationship_id, effective_time, active, module_id, source_concept, destination_concept, relationship_group,
         type_id, characteristic_type_id, modifier_id),
    source_file, line_no
FROM relationships
UNION ALL
SELECT source, part, release_id,
    hash(description_id, effective_time, active, module_id, concept_id, language_code, type_id, term,
         case_significance_id),
    source_file, line_no
FROM descriptions
