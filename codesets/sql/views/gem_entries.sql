-- gem_entries: each current GEM entry (all rows of one source code) classified.
-- Grain: one row per (direction, source code) of the current release.
-- Key: source_system, target_system, source_code (a data test checks that no two rows share it)
-- Sources: gem_map.
-- The classes follow the GEM guide: identical (one exact row), approximate single (one
-- approximate row), alternatives (several single rows: choose one), combination (the
-- source needs codes from every choice list of a scenario), no map.
-- Example: SELECT classification, COUNT(*) FROM gem_entries WHERE source_system = 'icd9cm' GROUP BY 1;
-- Columns:
--   source_system: code system mapped from
--   target_system: code system mapped to
--   source_code: canonical source code
--   classification: identical, approximate single, alternatives, combination or no map
--   single_rows: rows outside any combination scenario (each a one-code alternative)
--   combination_rows: rows inside a combination scenario
--   scenarios: distinct combination scenarios
--   release_id: GEM release
WITH counted AS (
    SELECT
        source_system,
        target_system,
        source_code,
        release_id,
        SUM(CASE WHEN no_map THEN 1 ELSE 0 END) AS no_map_rows,
        SUM(CASE WHEN NOT no_map AND NOT (scenario > 0 AND choice_list > 0) THEN 1 ELSE 0 END) AS single_rows,
        SUM(CASE WHEN NOT no_map AND scenario > 0 AND choice_list > 0 THEN 1 ELSE 0 END) AS combination_rows,
        COUNT(DISTINCT CASE WHEN NOT no_map AND choice_list > 0 THEN scenario END) AS scenarios,
        MAX(CASE WHEN approximate THEN 1 ELSE 0 END) AS any_approximate
    FROM gem_map
    GROUP BY source_system, target_system, source_code, release_id
)
SELECT
    source_system,
    target_system,
    source_code,
    CASE
        WHEN combination_rows > 0 THEN 'combination'
        WHEN single_rows = 0 THEN 'no map'
        WHEN single_rows > 1 THEN 'alternatives'
        WHEN any_approximate = 1 THEN 'approximate single'
        ELSE 'identical'
    END AS classification,
    single_rows,
    combination_rows,
    scenarios,
    release_id
FROM counted
