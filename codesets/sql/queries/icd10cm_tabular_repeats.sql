-- icd10cm_tabular_repeats: codes the tabular XML gives more than once (a <diag> listed twice, or a
-- derived code that is also a <diag>), with the lines of all of them.
-- Input: the table tabular_rows (icd10cm_tabular_rows.sql). Withheld combinations are no codes.
CREATE OR REPLACE TEMP TABLE tabular_repeats AS
SELECT file_no, code, list(line_no ORDER BY line_no) AS lines
FROM tabular_rows
WHERE kind IN ('diag', 'seventh') AND code IS NOT NULL AND NOT withheld
GROUP BY file_no, code
HAVING COUNT(*) > 1
