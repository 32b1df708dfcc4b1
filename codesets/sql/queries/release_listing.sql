-- release_listing: what `codesets releases` prints: each release, its window, parts and lineage.
-- Rows added and removed are not here: they read every row of both releases of a pair, so they
-- are printed when a release is loaded and kept in the view release_changes, asked for on purpose.
SELECT source, release_id, effective_from, effective_to, parts, row_count, previous_release_id, is_sample, loaded_at
FROM releases
ORDER BY source, effective_from NULLS LAST, release_id
