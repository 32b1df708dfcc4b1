-- cpt_fill_code_rows: a CPT list's codes in the shape of the shared table code_rows (sql/shapes.sql).
-- Input: the table cpt_rows (cpt_rows.sql), after the checks passed. The publish step adds
-- source and release_id and writes the part's Parquet file. Only data lines become rows; the
-- header and blank lines are reported by the load. Every code of a user's list is billable;
-- a row's own dates narrow the release's window (view code_history takes the narrower).
SELECT
    part,
    'cpt' AS code_system,
    canonical_code AS code,
    description,
    short_description,
    TRUE AS billable,
    from_date AS effective_from,
    to_date AS effective_to,
    source_file,
    line_no
FROM cpt_rows
WHERE kind = 'data'
ORDER BY line_no
