-- scrub_input_order: how many rows break a rule, and how many usable keys are out of order.
-- Grain: one row: broken (rows not ok), out_of_order (usable (claim_id, line_number) keys not
--   above the one before them, in the order the scan gives them).
-- Sources: the temp table claim_lines while it still holds every row (scrub_input_lines.sql).
-- No key out of order means the keys strictly increase in some order of the rows, so none
-- repeats and scrub_input_duplicates need not group a million lines; claim files usually come
-- sorted, and a file that does not only takes the longer way.
SELECT
    (SELECT count(*) FROM claim_lines WHERE NOT ok) AS broken,
    count(*) FILTER (
        WHERE NOT (claim_id > previous_claim OR (claim_id = previous_claim AND line_number > previous_line))
    ) AS out_of_order
FROM (
    SELECT
        claim_id,
        line_number,
        lag(claim_id) OVER () AS previous_claim,
        lag(line_number) OVER () AS previous_line
    FROM claim_lines
    WHERE usable
)
