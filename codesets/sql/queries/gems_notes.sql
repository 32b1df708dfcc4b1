-- gems_notes: staged GEM rows loaded as published but worth a word, counted per file in one pass.
-- Returns one row per (file, note) with the number of rows and the first line.
WITH flagged AS (
    SELECT
        source_file,
        line_no,
        is_marker AND NOT no_map_flag AS marker_without_flag,
        NOT combination AND scenario > 0 AND choice_list > 0 AND NOT no_map AS scenario_without_flag,
        NOT combination AND (scenario > 0) <> (choice_list > 0) AS half_scenario,
        lower_case
    FROM staged
),
counted AS (
    SELECT
        source_file,
        COUNT(*) FILTER (WHERE marker_without_flag) AS n1, MIN(line_no) FILTER (WHERE marker_without_flag) AS l1,
        COUNT(*) FILTER (WHERE scenario_without_flag) AS n2, MIN(line_no) FILTER (WHERE scenario_without_flag) AS l2,
        COUNT(*) FILTER (WHERE half_scenario) AS n3, MIN(line_no) FILTER (WHERE half_scenario) AS l3,
        COUNT(*) FILTER (WHERE lower_case) AS n4, MIN(line_no) FILTER (WHERE lower_case) AS l4
    FROM flagged
    GROUP BY source_file
)
SELECT source_file, note, rows, first_line
FROM (
    SELECT source_file, 'no-map target under no-map flag 0 (read as no map)' AS note, n1 AS rows, l1 AS first_line FROM counted
    UNION ALL
    SELECT source_file, 'scenario and choice list under combination flag 0 (read as part of the scenario)', n2, l2 FROM counted
    UNION ALL
    SELECT source_file, 'scenario or choice list set without the other (read as a single row)', n3, l3 FROM counted
    UNION ALL
    SELECT source_file, 'code in lower case (stored upper case)', n4, l4 FROM counted
) AS notes
WHERE rows > 0
ORDER BY source_file, first_line
