-- icd9cm_repeats: codes on more than one line of one ICD-9-CM title file, with all their lines.
-- Input: the table icd9_rows (icd9cm_rows.sql). A title file lists a code once, so every line of
-- a repeated code is refused, each naming the others. Small, keyed by (file_no, canonical_code).
CREATE OR REPLACE TEMP TABLE icd9_repeats AS
SELECT file_no, canonical_code, list(line_no ORDER BY line_no) AS lines
FROM icd9_rows
WHERE kind = 'data' AND code_ok
GROUP BY file_no, canonical_code
HAVING COUNT(*) > 1
