-- icd9cm_fill_code_rows: the staged ICD-9-CM titles in the shape of the shared table code_rows (sql/shapes.sql).
-- Input: the table icd9_rows (icd9cm_rows.sql), after the checks passed (so every code is
--   well-formed, once per file, and in both files of its part); the variable icd9_last_day,
--   the last date of service of ICD-9-CM (icd9cm.LAST_DAY).
-- Output: one row per code: the long title as description and the short one as
-- short_description, joined on the code; provenance is the line of the long file. Every listed
-- code is billable, and valid until ICD-10 took over (a fact of the code system). The publish
-- step adds source and release_id and writes one Parquet file per part.
SELECT
    l.part,
    l.code_system,
    l.canonical_code AS code,
    l.title AS description,
    s.title AS short_description,
    TRUE AS billable,
    getvariable('icd9_last_day') AS effective_to,
    l.source_file,
    l.line_no
FROM icd9_rows AS l
INNER JOIN icd9_rows AS s
    ON s.part = l.part AND s.role = 'short' AND s.kind = 'data' AND s.canonical_code = l.canonical_code
WHERE l.role = 'long' AND l.kind = 'data'
ORDER BY l.part, l.line_no
