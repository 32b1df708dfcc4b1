-- gem_changes: GEM rows each release added and removed against the release it follows, per direction.
-- Grain: one row per GEM row added or removed, per (release_id, direction).
-- Key: release_id, source_system, target_system, change, source_file, line_no (a data test checks that no two rows share it)
-- Sources: release_parts (which release each direction's release follows) and maps. `codesets diff gems A B`
-- runs this same text with the one pair it is asked for in place of the CTE pairs (codesets.warehouse.diff).
-- A row is its content as published: source code, target code and the five flags (the decoded
-- columns follow from them); file and line are left out. Rows are compared as a multiset: a row
-- the new release holds twice and the old one once is one added row. GEMs have no key that
-- survives a release (a source code maps to several targets, a target moves between scenarios),
-- so a changed row is one removed and one added.
-- Example: SELECT release_id, source_system, target_system, change, COUNT(*) FROM gem_changes GROUP BY ALL ORDER BY ALL;
-- Columns:
--   change: added (in the newer release only) or removed (in the older one only)
--   source_system: code system mapped from
--   target_system: code system mapped to
--   source_code: canonical source code
--   target_code: canonical target code; NULL for a no-map row
--   flags: the five flag digits exactly as published
--   approximate: flag 1
--   no_map: flag 2, or a NoDx/NoPCS/NoI9 target
--   combination: flag 3
--   scenario: flag 4
--   choice_list: flag 5
--   source_file: file of the release holding the row (the newer release for an added row, the older for a removed one)
--   line_no: line of source_file
--   release_id: the newer release
--   previous_release_id: the release it is compared against (release_parts.previous_release_id)
WITH pairs AS (
    SELECT part, release_id, previous_release_id
    FROM release_parts
    WHERE source = 'gems' AND previous_release_id IS NOT NULL
),
sides AS (
    SELECT p.release_id, p.previous_release_id, p.part, 'old' AS side, m.source_system, m.target_system,
           m.source_code, m.target_code, m.flags, m.approximate, m.no_map, m.combination, m.scenario,
           m.choice_list, m.source_file, m.line_no
    FROM pairs AS p
    INNER JOIN maps AS m ON m.source = 'gems' AND m.part = p.part AND m.release_id = p.previous_release_id
    UNION ALL
    SELECT p.release_id, p.previous_release_id, p.part, 'new' AS side, m.source_system, m.target_system,
           m.source_code, m.target_code, m.flags, m.approximate, m.no_map, m.combination, m.scenario,
           m.choice_list, m.source_file, m.line_no
    FROM pairs AS p
    INNER JOIN maps AS m ON m.source = 'gems' AND m.part = p.part AND m.release_id = p.release_id
),
-- the n-th copy of a row on one side, and how many copies each side holds
counted AS (
    SELECT
        s.*,
        ROW_NUMBER() OVER (
            PARTITION BY s.release_id, s.previous_release_id, s.part, s.side, s.source_code, s.target_code, s.flags
            ORDER BY s.source_file, s.line_no
        ) AS nth,
        COUNT(*) FILTER (WHERE s.side = 'old') OVER same AS old_count,
        COUNT(*) FILTER (WHERE s.side = 'new') OVER same AS new_count
    FROM sides AS s
    WINDOW same AS (PARTITION BY s.release_id, s.previous_release_id, s.part, s.source_code, s.target_code, s.flags)
)
SELECT
    CASE side WHEN 'new' THEN 'added' ELSE 'removed' END AS change,
    source_system,
    target_system,
    source_code,
    target_code,
    flags,
    approximate,
    no_map,
    combination,
    scenario,
    choice_list,
    source_file,
    line_no,
    release_id,
    previous_release_id
FROM counted
WHERE nth > CASE side WHEN 'new' THEN old_count ELSE new_count END
