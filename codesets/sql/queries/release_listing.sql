-- release_listing: what `codesets releases` prints: each release, its window, parts, lineage and changes.
-- Rows added and removed are summed over the parts that follow a part of an earlier release
-- (release_changes); a sample that no longer serves shows no window.
WITH changed AS (
    SELECT source, release_id, SUM(rows_added) AS rows_added, SUM(rows_removed) AS rows_removed
    FROM release_changes
    GROUP BY source, release_id
)
SELECT
    r.source,
    r.release_id,
    r.effective_from,
    r.effective_to,
    r.parts,
    r.row_count,
    r.previous_release_id,
    CAST(c.rows_added AS BIGINT) AS rows_added,
    CAST(c.rows_removed AS BIGINT) AS rows_removed,
    r.is_sample,
    r.loaded_at
FROM releases AS r
LEFT JOIN changed AS c ON c.source = r.source AND c.release_id = r.release_id
ORDER BY r.source, r.effective_from NULLS LAST, r.release_id
