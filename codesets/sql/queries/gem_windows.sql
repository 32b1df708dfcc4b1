-- gem_windows: the releases serving each GEM direction, for the point-lookup layer to keep.
-- Returns one row per (direction, release) with its window and whether it is current.
SELECT source_system, target_system, release_id, effective_from, effective_to, is_current
FROM gem_directions
ORDER BY source_system, target_system, effective_from
