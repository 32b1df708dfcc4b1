-- gem_direction_rows: every row of one GEM direction and release, in file order.
-- Parameters: release id, source system, target system. Read once by the point-lookup
-- layer (codesets.warehouse.lookup), which keeps the rows by source code.
SELECT source_code, target_code, approximate, no_map, scenario, choice_list
FROM maps
WHERE source = 'gems' AND release_id = ? AND source_system = ? AND target_system = ?
ORDER BY source_file, line_no
