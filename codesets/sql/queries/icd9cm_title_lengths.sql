-- icd9cm_title_lengths: how long each staged ICD-9-CM title file's lines are on average.
-- Input: icd9_raw(file_no, line_no, raw), every line of each file (_lines.stage).
-- Output: one row per file: file_no, average line length. The code field has the same width
-- in both files of a part, so the file whose lines are longer holds the long titles.
SELECT file_no, avg(length(raw)) AS average_length
FROM icd9_raw
WHERE trim(raw) <> ''
GROUP BY file_no
