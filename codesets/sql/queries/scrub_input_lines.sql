-- scrub_input_lines: every input row as the checks will read it, judged (the temp table claim_lines).
-- Grain: one row per input row; row_id is the row's place in the input, from 0.
-- Sources: the temp view scrub_parsed (scrub_input_parse.sql).
-- The two last columns say whether the row broke no rule (ok) and whether its key can be
-- compared (usable: claim_id and line_number both valid, for scrub_input_order and
-- scrub_input_duplicates). codesets.warehouse.scrub then deletes the rows that are not ok or
-- repeat a key (scrub_input_delete.sql) and drops those two columns, so the checks see only the
-- lines that passed. One pass that keeps every row costs less than filtering here: a filter on
-- `ok` is pushed into the scan with every rule's expression copied into it.
-- Columns: claim_id as given; procedure_code and modifiers trimmed and upper-cased (modifiers
--   in column order, empty ones left out, repeats kept); units 1 where none was given; setting
--   lower-cased, practitioner where none was given; member_id and provider_id NULL where empty;
--   diagnosis_codes as given (`|`-separated ICD-10-CM codes, principal first; NULL where none).
SELECT
    row_id::BIGINT AS row_id,
    claim_id::VARCHAR AS claim_id,
    line_number::INTEGER AS line_number,
    date_of_service::DATE AS date_of_service,
    procedure_code::VARCHAR AS procedure_code,
    modifiers::VARCHAR[] AS modifiers,
    units::DOUBLE AS units,
    setting::VARCHAR AS setting,
    member_id::VARCHAR AS member_id,
    provider_id::VARCHAR AS provider_id,
    diagnosis_codes::VARCHAR AS diagnosis_codes,
    ok,
    claim_problem IS NULL AND line_number IS NOT NULL AS usable
FROM scrub_parsed
