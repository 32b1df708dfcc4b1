-- gem_anomalies: GEM rows loaded as published whose flags disagree with the rest of the row.
-- Grain: one row per anomalous GEM row and reason, all releases. Zero rows is clean.
-- Key: release_id, source_file, line_no, failure_reason (a data test checks that no two rows share it)
-- Sources: gem_map_history. Known in the real CMS files: 29 rows of gem_pcsi9.txt with a NoI9
-- target under no-map flag 0; two rows of gem_i9pcs.txt (3584) with a scenario and choice
-- list but combination flag 0; 1651 in gem_i9pcs.txt whose scenario 2 has lists 1 and 3;
-- one row of each PCS file (8628/0NDB0ZZ) with choice list 1 alone.
-- Example: SELECT failure_reason, COUNT(*) FROM gem_anomalies GROUP BY 1;
-- Columns:
--   source_system: code system mapped from
--   target_system: code system mapped to
--   source_code: canonical source code
--   target_code: canonical target code (NULL for no map)
--   flags: the five flag digits as published
--   release_id: GEM release
--   source_file: file of the row
--   line_no: line of the row
--   failure_reason: what disagrees, and how codesets reads the row
SELECT source_system, target_system, source_code, target_code, flags, release_id, source_file, line_no,
       'no-map target with no-map flag 0: read as no map' AS failure_reason
FROM gem_map_history
WHERE no_map AND SUBSTRING(flags, 2, 1) = '0'
UNION ALL
SELECT source_system, target_system, source_code, target_code, flags, release_id, source_file, line_no,
       'scenario and choice list set under combination flag 0: read as part of the scenario'
FROM gem_map_history
WHERE NOT combination AND scenario > 0 AND choice_list > 0
UNION ALL
SELECT source_system, target_system, source_code, target_code, flags, release_id, source_file, line_no,
       'scenario or choice list set without the other: read as a single row'
FROM gem_map_history
WHERE NOT combination AND (scenario > 0) <> (choice_list > 0)
UNION ALL
SELECT source_system, target_system, source_code, target_code, flags, release_id, source_file, line_no,
       'choice list number skips one: alternatives use the lists present, in order'
FROM (
    SELECT
        *,
        DENSE_RANK() OVER (
            PARTITION BY release_id, source_system, target_system, source_code, scenario ORDER BY choice_list
        ) AS position
    FROM gem_map_history
    WHERE scenario > 0 AND choice_list > 0 AND NOT no_map
) AS ranked
WHERE choice_list <> position
