-- diff_pairs: the parts two releases of a source both have, as the pairs `codesets diff` compares.
-- Parameters: $1 source, $2 the release compared from (A, "old"), $3 the release compared to (B, "new").
-- codesets.warehouse.diff puts this in place of the CTE `pairs` of the source's change view
-- (gem_changes, ptp_changes, mue_changes), so a diff and the view share one definition.
SELECT n.part, n.release_id, o.release_id AS previous_release_id
FROM release_parts AS n
INNER JOIN release_parts AS o ON o.source = n.source AND o.part = n.part
WHERE n.source = $1 AND o.release_id = $2 AND n.release_id = $3
