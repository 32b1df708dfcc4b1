-- icd9cm_stage: the staged view of ICD-9-CM title lines the checks read: icd9_rows plus the facts only the checks need.
-- Input: the tables icd9_rows (icd9cm_rows.sql), icd9_repeats (icd9cm_repeats.sql) and
--   icd9_unpaired (icd9cm_unpaired.sql).
-- Output: one row per input line; nothing is filtered here, the checks decide (blank lines
-- have no fields and are only noted).
SELECT
    r.*,
    CASE WHEN p.lines IS NOT NULL THEN
        printf('%s, also on line%s %s', r.canonical_code, CASE WHEN len(p.lines) > 2 THEN 's' ELSE '' END,
               array_to_string(list_filter(p.lines, lambda n: n <> r.line_no), ', '))
    END AS code_repeated,
    u.code_unpaired
FROM icd9_rows AS r
LEFT JOIN icd9_repeats AS p ON p.file_no = r.file_no AND p.canonical_code = r.canonical_code
LEFT JOIN icd9_unpaired AS u ON u.file_no = r.file_no AND u.line_no = r.line_no
