-- scrub_input_delete: take out of claim_lines the rows the checks must not see.
-- Those that break an input rule, and every copy of a repeated (claim_id, line_number) key
-- (scrub_input_duplicates.sql). Their findings come from scrub_input.sql.
DELETE FROM claim_lines AS c
WHERE NOT c.ok
    OR EXISTS (SELECT 1 FROM scrub_duplicates AS d WHERE d.claim_id = c.claim_id AND d.line_number = c.line_number)
