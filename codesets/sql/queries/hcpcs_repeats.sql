-- hcpcs_repeats: codes with more than one first record (RECID 3 or 7) in one file, with all their lines.
-- Input: the table hcpcs_rows (hcpcs_rows.sql). A file lists a code once (its continuation records
-- add to the long description), so every first record of a repeated code is refused, each naming
-- the others. The result is small and keyed by (file_no, code_system, code).
CREATE OR REPLACE TEMP TABLE hcpcs_repeats AS
SELECT file_no, code_system, code, list(line_no ORDER BY line_no) AS lines
FROM hcpcs_rows
WHERE is_first
GROUP BY file_no, code_system, code
HAVING COUNT(*) > 1
