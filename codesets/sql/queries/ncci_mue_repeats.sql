-- ncci_mue_repeats: codes that occur on more than one data line of one MUE table, with all their lines.
-- Input: the table mue_rows (ncci_mue_rows.sql). A table holds one limit per code, so every line
-- of a repeated code is refused, each naming the others. The result is small and keyed by
-- (file_no, code), so the staged view joins it cheaply.
CREATE OR REPLACE TEMP TABLE mue_repeats AS
SELECT file_no, code, list(line_no ORDER BY line_no) AS lines
FROM mue_rows
WHERE kind = 'data' AND code IS NOT NULL
GROUP BY file_no, code
HAVING COUNT(*) > 1
