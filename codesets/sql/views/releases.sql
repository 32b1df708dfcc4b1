-- releases: every published release with its effective window, parts and lineage.
-- Grain: one row per (source, release_id).
-- Key: source, release_id (a data test checks that no two rows share it)
-- Sources: release_parts (windows and lineage are derived per part; a release spans its parts).
-- Example: SELECT source, release_id, effective_from, effective_to, parts, row_count FROM releases ORDER BY source, effective_from;
-- Columns:
--   source: the loader that read the files (gems, ...)
--   release_id: the release name, e.g. 2018 for the FY2018 GEMs
--   effective_from: first date of service the release applies to; NULL for a sample that no longer serves
--   effective_to: last date of service any of its parts serves; NULL while a part is open
--   loaded_at: when the last of its parts was published (UTC)
--   row_count: rows the release holds, all parts
--   parts: its parts, space separated
--   previous_release_id: the release its parts follow (the latest of them when parts follow different ones)
--   is_sample: a bundled hand-made sample, not a real release
--   serves: false for a sample once real releases of its parts are loaded
WITH per_release AS (
    SELECT
        source,
        release_id,
        MIN(effective_from) AS effective_from,
        CASE WHEN COUNT(*) FILTER (WHERE serves AND effective_to IS NULL) > 0 THEN NULL ELSE MAX(effective_to) END
            AS effective_to,
        MAX(loaded_at) AS loaded_at,
        SUM(row_count) AS row_count,
        string_agg(part, ' ' ORDER BY part) AS parts,
        bool_and(is_sample) AS is_sample,
        bool_or(serves) AS serves,
        MAX(previous_release_id) AS previous_release_id
    FROM release_parts
    GROUP BY source, release_id
)
SELECT
    source,
    release_id,
    effective_from,
    effective_to,
    loaded_at,
    CAST(row_count AS BIGINT) AS row_count,
    parts,
    previous_release_id,
    is_sample,
    serves
FROM per_release
