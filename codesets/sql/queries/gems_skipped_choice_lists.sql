-- gems_skipped_choice_lists: combination scenarios of the staged GEM files whose choice lists skip a number.
-- The real gem_i9pcs.txt numbers the lists of 1651 scenario 2 as 1 and 3. Such a scenario
-- is loaded (its alternatives use the lists present, in order) and reported.
-- Input: the view gem_rows (gems_rows.sql), after the checks passed. Returns per file: how many scenarios, and
-- the first line of one.
WITH scenarios AS (
    SELECT source_file, source_code, scenario, MIN(line_no) AS first_line
    FROM gem_rows
    WHERE scenario > 0 AND choice_list > 0 AND NOT no_map
    GROUP BY source_file, source_code, scenario
    HAVING COUNT(DISTINCT choice_list) <> MAX(choice_list)
)
SELECT source_file, COUNT(*) AS scenarios, MIN(first_line) AS first_line
FROM scenarios
GROUP BY source_file
ORDER BY source_file
