-- ncci_ptp_repeats: per file, the pairs published on more than one line with the same effective date.
-- Output: source_file, pairs, first line of the first repeated pair. A column-1 code never spans
-- two files of a setting, so a pair repeats within one file.
WITH repeated AS (
    SELECT file_no, column1_code, column2_code, effective_date, MIN(line_no) AS first_line
    FROM ptp_rows
    GROUP BY file_no, column1_code, column2_code, effective_date
    HAVING COUNT(*) > 1
)
SELECT f.source_file, COUNT(*) AS pairs, MIN(r.first_line) AS first_line
FROM repeated AS r
INNER JOIN ptp_files AS f ON f.file_no = r.file_no
GROUP BY f.source_file
ORDER BY f.source_file
