-- order_fill_code_rows: ICD-10 order and code file records in the shape of the shared table code_rows (sql/shapes.sql).
-- Input: the table order_rows (order_rows.sql), after the checks passed. The publish step adds
-- source and release_id. Blank lines are reported by the load, not published. ICD-10 files do
-- not date single codes: effective_from and effective_to stay NULL (the release's window holds).
SELECT
    part,
    code_system,
    code,
    description,
    short_description,
    billable,
    CAST(NULL AS DATE) AS effective_from,  -- ICD-10 files date releases, not single codes
    CAST(NULL AS DATE) AS effective_to,
    source_file,
    line_no
FROM order_rows
WHERE NOT blank
