-- ncci_ptp_repeats: per file, the pairs published on more than one line with the same effective date.
-- Output: source_file, pairs, first line of the first repeated pair. CMS sorts each file by column 1,
-- column 2 and effective date, so a repeat sits on the line after the one it repeats: compared with
-- the line before (a streaming window in file order), not by grouping 4.5 million rows.
WITH compared AS (
    SELECT
        file_no, rowid AS row_no,
        c1 = LAG(c1) OVER () AND c2 = LAG(c2) OVER () AND effective = LAG(effective) OVER ()
            AND file_no = LAG(file_no) OVER () AS repeats
    FROM ptp_raw
)
SELECT f.source_file, COUNT(*) AS pairs, CAST(MIN(c.row_no) - f.first_row + f.header AS INTEGER) AS first_line
FROM compared AS c
INNER JOIN ptp_files AS f ON f.file_no = c.file_no
WHERE c.repeats
GROUP BY f.source_file, f.first_row, f.header
ORDER BY f.source_file
