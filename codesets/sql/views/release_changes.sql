-- release_changes: rows added and removed by each part against the release of the part it follows.
-- Grain: one row per (source, release_id, part) that an earlier release also has (see release_parts).
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_parts and release_row_keys. A row is compared on its content, not its
-- provenance (file, line), as a multiset: a row present twice in the new part and once in the
-- old one counts as one added. It reads every row of both releases of each pair: filter it
-- (WHERE source = ... AND release_id = ...) on a large warehouse.
-- Example: SELECT * FROM release_changes WHERE source = 'gems' ORDER BY part, release_id;
-- Columns:
--   source: the loader
--   release_id: the newer release
--   part: the part compared
--   previous_release_id: the release it is compared against: the latest earlier one with the same part
--   rows_added: rows of the part not in the previous release's part
--   rows_removed: rows of the previous release's part not in this one
WITH pairs AS (
    -- a part is compared with the same part of the latest earlier release that has it: the release a
    -- part follows (release_parts) may have come in other parts (an ICD-10-CM order file where this
    -- release has a code file), which would count every row as added
    SELECT source, release_id, part, previous_release_id
    FROM (
        SELECT source, release_id, part,
            LAG(release_id) OVER (PARTITION BY source, part ORDER BY effective_from) AS previous_release_id
        FROM release_parts
        WHERE serves
    ) AS p
    WHERE previous_release_id IS NOT NULL
),
-- only the rows of releases that take part in a pair, each reduced to a hash of its content
-- (64 bits: a collision between two different rows of one part is vanishingly unlikely)
involved AS (
    SELECT DISTINCT source, part, release_id FROM pairs
    UNION
    SELECT DISTINCT source, part, previous_release_id FROM pairs
),
counted AS (
    SELECT k.source, k.part, k.release_id, k.row_hash, COUNT(*) AS n
    FROM release_row_keys AS k
    SEMI JOIN involved AS i ON i.source = k.source AND i.part = k.part AND i.release_id = k.release_id
    GROUP BY k.source, k.part, k.release_id, k.row_hash
),
new_side AS (
    SELECT p.source, p.part, p.release_id, c.row_hash, c.n
    FROM pairs AS p
    INNER JOIN counted AS c ON c.source = p.source AND c.part = p.part AND c.release_id = p.release_id
),
old_side AS (
    SELECT p.source, p.part, p.release_id, c.row_hash, c.n
    FROM pairs AS p
    INNER JOIN counted AS c ON c.source = p.source AND c.part = p.part AND c.release_id = p.previous_release_id
),
compared AS (
    SELECT
        coalesce(n.source, o.source) AS source,
        coalesce(n.part, o.part) AS part,
        coalesce(n.release_id, o.release_id) AS release_id,
        GREATEST(coalesce(n.n, 0) - coalesce(o.n, 0), 0) AS added,
        GREATEST(coalesce(o.n, 0) - coalesce(n.n, 0), 0) AS removed
    FROM new_side AS n
    FULL OUTER JOIN old_side AS o
        ON n.source = o.source AND n.part = o.part AND n.release_id = o.release_id AND n.row_hash = o.row_hash
),
totals AS (
    SELECT source, part, release_id, SUM(added) AS rows_added, SUM(removed) AS rows_removed
    FROM compared
    GROUP BY source, part, release_id
)
SELECT
    p.source,
    p.release_id,
    p.part,
    p.previous_release_id,
    CAST(coalesce(t.rows_added, 0) AS BIGINT) AS rows_added,
    CAST(coalesce(t.rows_removed, 0) AS BIGINT) AS rows_removed
FROM pairs AS p
LEFT JOIN totals AS t ON t.source = p.source AND t.part = p.part AND t.release_id = p.release_id
