-- diff_releases: every release of a source with its parts, for `codesets diff` to check what it is asked.
-- Parameter: $1 source. Output: release_id, effective_from (NULL for a sample that no longer serves),
-- parts (sorted list), oldest first.
SELECT release_id, MIN(effective_from) AS effective_from, list(part ORDER BY part) AS parts
FROM release_parts
WHERE source = $1
GROUP BY release_id
ORDER BY MIN(effective_from) NULLS LAST, release_id
