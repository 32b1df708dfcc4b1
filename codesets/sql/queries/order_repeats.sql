-- order_repeats: codes listed on more than one line of one order or code file, with all their lines.
-- Input: the table order_rows (order_rows.sql). A file lists a code once, so every line of a
-- repeated code is refused, each naming the others. Small and keyed by (file_no, code).
CREATE OR REPLACE TEMP TABLE order_repeats AS
SELECT file_no, code, list(line_no ORDER BY line_no) AS lines
FROM order_rows
WHERE code IS NOT NULL AND NOT blank
GROUP BY file_no, code
HAVING COUNT(*) > 1
