-- gem_directions: which GEM release serves each direction, over which dates.
-- Grain: one row per (source_system, target_system, release_id).
-- Key: source_system, target_system, release_id (a data test checks that no two rows share it)
-- Sources: release_parts (a GEM release's parts are its directions, e.g. icd9cm-icd10cm).
-- A release may carry only some directions (the FY2017 files are diagnosis only), so
-- windows are per direction, not per release. A sample that no longer serves has no window.
-- Example: SELECT * FROM gem_directions WHERE is_current;
-- Columns:
--   source_system: code system mapped from
--   target_system: code system mapped to
--   release_id: GEM release
--   effective_from: first date of service this release serves the direction; NULL if it serves none
--   effective_to: last such date; NULL while no later release serves it
--   is_current: the release a lookup uses when no date or release is given
--   serves: false for a sample once a real release of the direction is loaded
WITH ranked AS (
    SELECT
        split_part(part, '-', 1) AS source_system,
        split_part(part, '-', 2) AS target_system,
        release_id,
        effective_from,
        effective_to,
        serves,
        ROW_NUMBER() OVER (
            PARTITION BY part
            ORDER BY
                CASE WHEN serves AND effective_from <= CURRENT_DATE THEN 0 WHEN serves THEN 1 ELSE 2 END,
                CASE WHEN effective_from <= CURRENT_DATE THEN effective_from END DESC,
                effective_from
        ) AS recency
    FROM release_parts
    WHERE source = 'gems'
)
SELECT
    source_system,
    target_system,
    release_id,
    effective_from,
    effective_to,
    serves AND recency = 1 AS is_current,
    serves
FROM ranked
