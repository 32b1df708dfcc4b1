-- release_changes: rows added and removed by each part against the release of the part it follows.
-- Grain: one row per (source, release_id, part) that follows another release (see release_parts).
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_parts and the shared tables maps, codes, edits and limits. A row is compared
-- on its content, not its provenance (file, line), as a multiset: a row present twice in the
-- new part and once in the old one counts as one added.
-- Example: SELECT * FROM release_changes WHERE source = 'gems' ORDER BY part, release_id;
-- Columns:
--   source: the loader
--   release_id: the newer release
--   part: the part compared
--   previous_release_id: the release it is compared against
--   rows_added: rows of the part not in the previous release's part
--   rows_removed: rows of the previous release's part not in this one
WITH pairs AS (
    SELECT source, release_id, part, previous_release_id
    FROM release_parts
    WHERE previous_release_id IS NOT NULL
),
row_keys AS (
    SELECT source, part, release_id,
        concat_ws(chr(31), source_system, target_system, source_code, coalesce(target_code, ''),
            coalesce(flags, ''), coalesce(CAST(map_group AS VARCHAR), ''), coalesce(CAST(map_priority AS VARCHAR), ''),
            coalesce(map_rule, ''), coalesce(map_advice, ''), coalesce(map_category_id, '')) AS row_key
    FROM maps
    UNION ALL
    SELECT source, part, release_id,
        concat_ws(chr(31), code_system, code, coalesce(description, ''), coalesce(short_description, ''),
            coalesce(CAST(billable AS VARCHAR), ''), coalesce(CAST(effective_from AS VARCHAR), ''),
            coalesce(CAST(effective_to AS VARCHAR), ''), coalesce(action_code, ''))
    FROM codes
    UNION ALL
    SELECT source, part, release_id,
        concat_ws(chr(31), setting, column1_code, column2_code, CAST(effective_date AS VARCHAR),
            coalesce(CAST(deletion_date AS VARCHAR), ''), modifier_indicator, coalesce(rationale, ''))
    FROM edits
    UNION ALL
    SELECT source, part, release_id,
        concat_ws(chr(31), service_type, code, CAST(mue_value AS VARCHAR), coalesce(CAST(mai AS VARCHAR), ''),
            coalesce(rationale, ''))
    FROM limits
),
counted AS (
    SELECT source, part, release_id, row_key, COUNT(*) AS n
    FROM row_keys
    GROUP BY source, part, release_id, row_key
),
new_side AS (
    SELECT p.source, p.part, p.release_id, c.row_key, c.n
    FROM pairs AS p
    INNER JOIN counted AS c ON c.source = p.source AND c.part = p.part AND c.release_id = p.release_id
),
old_side AS (
    SELECT p.source, p.part, p.release_id, c.row_key, c.n
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
        ON n.source = o.source AND n.part = o.part AND n.release_id = o.release_id AND n.row_key = o.row_key
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
