-- icd10cm_tabular_stage: the staged view of the tabular XML the checks read: tabular_rows plus
-- the repeats (code_repeated, named as in order_stage.sql, so one rule covers both).
-- Input: the tables tabular_rows (icd10cm_tabular_rows.sql) and tabular_repeats
--   (icd10cm_tabular_repeats.sql).
-- Output: one row per row of tabular_rows; nothing is filtered here, the checks decide.
SELECT
    r.*,
    -- two codes of one leaf share its line, so all the lines are named, this one included
    CASE WHEN p.lines IS NOT NULL AND NOT r.withheld THEN
        printf('%s, given %d times (lines %s)', r.code, len(p.lines), array_to_string(p.lines, ', '))
    END AS code_repeated
FROM tabular_rows AS r
LEFT JOIN tabular_repeats AS p ON p.file_no = r.file_no AND p.code = r.code
