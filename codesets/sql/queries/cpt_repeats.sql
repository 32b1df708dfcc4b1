-- cpt_repeats: codes on more than one line of a CPT list, with all their lines.
-- Input: the table cpt_rows (cpt_rows.sql). A list names a code once, so every line of a
-- repeated code is refused, each naming the others. Small, keyed by canonical_code.
CREATE OR REPLACE TEMP TABLE cpt_repeats AS
SELECT file_no, canonical_code, list(line_no ORDER BY line_no) AS lines
FROM cpt_rows
WHERE kind = 'data' AND code_ok
GROUP BY file_no, canonical_code
HAVING COUNT(*) > 1
