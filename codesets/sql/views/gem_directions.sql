-- gem_directions: which GEM release serves each direction, over which dates.
-- Grain: one row per (source_system, target_system, release_id).
-- Sources: release_catalog (the kind of each GEM file names its direction).
-- A release may carry only some directions (the FY2017 files are diagnosis only), so
-- windows are per direction, not per release.
-- Example: SELECT * FROM gem_directions WHERE is_current;
-- Columns:
--   source_system: code system mapped from
--   target_system: code system mapped to
--   release_id: GEM release
--   effective_from: first date of service this release serves the direction
--   effective_to: last such date; NULL while no later release serves it
--   is_current: the release a lookup uses when no date or release is given
WITH per_release AS (
    SELECT DISTINCT
        SPLIT_PART(f.kind, '>', 1) AS source_system,
        SPLIT_PART(f.kind, '>', 2) AS target_system,
        c.release_id,
        c.effective_from
    FROM release_catalog AS c
    CROSS JOIN UNNEST(c.files) AS t(f)
    WHERE c.source = 'gems'
),
ranked AS (
    SELECT
        *,
        LEAD(effective_from) OVER (
            PARTITION BY source_system, target_system ORDER BY effective_from
        ) AS next_from,
        ROW_NUMBER() OVER (
            PARTITION BY source_system, target_system
            ORDER BY
                CASE WHEN effective_from <= CURRENT_DATE THEN 0 ELSE 1 END,
                CASE WHEN effective_from <= CURRENT_DATE THEN effective_from END DESC,
                effective_from
        ) AS recency
    FROM per_release
)
SELECT
    source_system,
    target_system,
    release_id,
    effective_from,
    CAST(next_from - INTERVAL 1 DAY AS DATE) AS effective_to,
    recency = 1 AS is_current
FROM ranked
