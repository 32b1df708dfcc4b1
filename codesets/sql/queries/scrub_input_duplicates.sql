-- scrub_input_duplicates: (claim_id, line_number) keys given to more than one input row.
-- Grain: one row per repeated key, with the number of rows (copies) carrying it.
-- Sources: the temp table claim_lines while it still holds every row (scrub_input_lines.sql);
--   rows whose claim_id or line_number breaks its own rule cannot be told apart and are left out,
--   rows that break another rule count.
-- Every copy is an input finding (column line_number) and none takes part in the checks.
SELECT claim_id, line_number, count(*) AS copies
FROM claim_lines
WHERE usable
GROUP BY claim_id, line_number
HAVING count(*) > 1
