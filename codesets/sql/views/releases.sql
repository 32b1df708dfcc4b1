-- releases: every published release with its effective window and lineage.
-- Grain: one row per (source, release_id).
-- Sources: release_catalog, written by every load.
-- Example: SELECT source, release_id, effective_from, effective_to, row_count FROM releases ORDER BY source, effective_from;
-- Columns:
--   source: the loader that read the files (gems, ...)
--   release_id: the release name, e.g. 2018 for the FY2018 GEMs
--   effective_from: first date of service the release applies to
--   effective_to: last date of service, the day before the next release of the source takes over; NULL while open
--   loaded_at: when the release was published (UTC)
--   row_count: rows the release put in the warehouse
--   previous_release_id: the release of the same source it follows (lineage)
--   rows_added: rows not in the previous release
--   rows_removed: rows of the previous release not in this one
--   content_sha256: identity of the file contents; loading the same bytes again is a no-op
--   loader_version: codesets version that loaded it
--   files: name, sha256, bytes, rows, kind and line ending of each file
WITH windows AS (
    SELECT
        c.*,
        LEAD(c.effective_from) OVER (PARTITION BY c.source ORDER BY c.effective_from) AS next_from
    FROM release_catalog AS c
)
SELECT
    source,
    release_id,
    effective_from,
    CAST(next_from - INTERVAL 1 DAY AS DATE) AS effective_to,
    loaded_at,
    row_count,
    previous_release_id,
    rows_added,
    rows_removed,
    content_sha256,
    loader_version,
    files
FROM windows
