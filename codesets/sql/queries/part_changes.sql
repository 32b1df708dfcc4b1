-- part_changes: rows added and removed by one part of a release against the release it follows.
-- Parameters: source, part, the new release id, the previous release id. The same multiset
-- comparison as the view release_changes, reading only the two releases' rows of the part.
WITH counted AS (
    SELECT release_id, row_hash, COUNT(*) AS n
    FROM release_row_keys
    WHERE source = $1 AND part = $2 AND release_id IN ($3, $4)
    GROUP BY release_id, row_hash
),
compared AS (
    SELECT
        coalesce(n.n, 0) AS new_n,
        coalesce(o.n, 0) AS old_n
    FROM (SELECT * FROM counted WHERE release_id = $3) AS n
    FULL OUTER JOIN (SELECT * FROM counted WHERE release_id = $4) AS o ON n.row_hash = o.row_hash
)
SELECT
    CAST(coalesce(SUM(GREATEST(new_n - old_n, 0)), 0) AS BIGINT) AS rows_added,
    CAST(coalesce(SUM(GREATEST(old_n - new_n, 0)), 0) AS BIGINT) AS rows_removed
FROM compared
