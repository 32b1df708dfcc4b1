-- ncci_mue_fill_limits: the staged MUE records in the shape of the shared table limits (sql/shapes.sql).
-- Input: the table mue_rows (ncci_mue_rows.sql), after the checks passed. The publish step adds
-- source and release_id and writes one Parquet file per part (service type). Only data
-- records become rows; the notice, the header and blank lines are reported by the load.
SELECT
    part,
    service_type,
    code,
    mue_value,
    mai,
    mai_text,
    rationale,
    source_file,
    line_no
FROM mue_rows
WHERE kind = 'data'
