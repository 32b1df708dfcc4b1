-- scrub_input: the findings of check `input`, one per input rule a row breaks (docs/scrub-rules.md).
-- Grain: one row per (input row, broken rule); a CSV row that could not be read at all is one row.
-- Sources: the temp view scrub_parsed (scrub_input_parse.sql), the temp table scrub_duplicates
--   (scrub_input_duplicates.sql), the temp table scrub_csv_errors (DuckDB's rejects table of the
--   CSV read: line, byte_position, column_idx, error_type, error_message; empty for Parquet and
--   tables; its csv_line, the raw text of the row, is never read here) and the temp table
--   scrub_csv_lone_cr (the lines of rows that held a carriage return alone, outside quotes:
--   codesets.warehouse.claim_input).
-- Parameters: $header_fields (fields in the CSV header, 0 otherwise), $max_line_bytes (the
--   longest CSV line read), $max_units (the most units one line may bill, as the view
--   scrub_parsed bounds them), $columns (the CSV header by position, 1 up: a claim-line column's
--   name, NULL for any other column; [] for Parquet and tables).
-- Variables: getvariable('scrub_procedure_shape'), the shape of a HCPCS Level II or CPT code (a
--   regular expression; unset, no finding names a code: the rule fails closed).
-- Columns: the findings columns of every check, then sort_row and rule_order, which order
--   several findings on one line (input order, then the order of the rules in the docs).
-- No value of the row is quoted (docs/scrub-rules.md, "Values in findings"): a value in the wrong
--   column may be anything (an SSN in setting, a name in procedure_code, a birth date in
--   date_of_service). A reason names the column and what is wrong, a suggestion what is expected;
--   the finding's claim_id and line_number (as given) join it back to its row. The finding's code is
--   the line's procedure code only where it has the shape of a HCPCS Level II or CPT code (the
--   variable scrub_procedure_shape, set from codesets.core.codes.PATTERNS by checks/input.py), else
--   NULL: a code, never free text. A CSV row that was not read names its line in the file and, where
--   DuckDB says which, the column (a claim-line column by name, any other by its place), never any of
--   its text; it has no claim_id or line_number (the reason gives its line in the file).
WITH bad AS MATERIALIZED (
    SELECT p.*, d.copies
    FROM scrub_parsed AS p
    LEFT JOIN scrub_duplicates AS d ON d.claim_id = p.claim_id AND d.line_number = p.line_number
    WHERE NOT p.ok OR d.copies IS NOT NULL
),
broken AS (
    SELECT row_id, 1 AS rule_order, claim_id, line_number, procedure_code AS code,
        'claim_id' AS column_name, claim_problem AS problem, NULL::BIGINT AS copies,
        NULL::BIGINT AS file_line, NULL::BIGINT AS found, NULL::BIGINT AS field
    FROM bad WHERE claim_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 2, claim_id, line_number, procedure_code,
        'line_number', line_problem, NULL, NULL, NULL, NULL
    FROM bad WHERE line_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 3, claim_id, line_number, procedure_code,
        'line_number', 'duplicate', copies, NULL, NULL, NULL
    FROM bad WHERE copies IS NOT NULL
    UNION ALL
    SELECT row_id, 4, claim_id, line_number, procedure_code,
        'date_of_service', date_problem, NULL, NULL, NULL, NULL
    FROM bad WHERE date_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 5, claim_id, line_number, procedure_code,
        'procedure_code', code_problem, NULL, NULL, NULL, NULL
    FROM bad WHERE code_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 6, claim_id, line_number, procedure_code,
        'units', units_problem, NULL, NULL, NULL, NULL
    FROM bad WHERE units_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 7, claim_id, line_number, procedure_code,
        'setting', setting_problem, NULL, NULL, NULL, NULL
    FROM bad WHERE setting_problem IS NOT NULL
    UNION ALL
    -- DuckDB records a ragged row once per field too many or too few: one finding per line, and
    -- the number of fields is the last count it reached (too many) or the first (too few). A row
    -- with a CR alone was read from a copy where that CR is a run of commas (claim_input): it is
    -- said as such. field: the first field DuckDB blames for a bad byte or quote, 1 up
    SELECT
        NULL, 0, NULL, NULL, NULL, 'row',
        CASE WHEN line IN (SELECT line FROM scrub_csv_lone_cr) THEN 'LONE CR' ELSE min(error_type) END,
        NULL, line,
        CASE WHEN min(error_type) = 'MISSING COLUMNS' THEN min(found) ELSE max(found) END,
        arg_min(column_idx, byte_position) FILTER (WHERE error_type IN ('INVALID ENCODING', 'UNQUOTED VALUE'))
    FROM (
        SELECT line::BIGINT AS line, CAST(error_type AS VARCHAR) AS error_type, byte_position,
            column_idx::BIGINT AS column_idx,
            TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT) AS found
        FROM scrub_csv_errors
    )
    GROUP BY line
)
SELECT
    claim_id::VARCHAR AS claim_id,
    line_number::INTEGER AS line_number,
    'input' AS "check",
    'error' AS severity,
    CASE WHEN regexp_full_match(code, getvariable('scrub_procedure_shape')) THEN code END::VARCHAR AS code,
    NULL::INTEGER AS related_line_number,
    CASE
        WHEN column_name = 'row' THEN printf('CSV line %d ', file_line) || CASE problem
            WHEN 'LONE CR' THEN 'has a carriage return (CR) alone, outside quotes, where only a line ending may be'
            WHEN 'TOO MANY COLUMNS' THEN printf('has %d fields where the header has %d', found, $header_fields)
            WHEN 'MISSING COLUMNS' THEN printf('has %d fields where the header has %d', found, $header_fields)
            WHEN 'UNQUOTED VALUE' THEN 'has a quote that is not closed, or a quote inside a value that is not quoted'
            WHEN 'INVALID ENCODING' THEN 'is not UTF-8 text'
            WHEN 'LINE SIZE OVER MAXIMUM' THEN printf('is longer than %,d bytes', $max_line_bytes)
            ELSE 'cannot be read as CSV (' || lower(problem) || ')'
        END || CASE
            WHEN field IS NULL OR problem = 'LONE CR' THEN ''
            WHEN ($columns::VARCHAR[])[field] IS NOT NULL THEN ' (column ' || ($columns::VARCHAR[])[field] || ')'
            ELSE printf(' (field %d)', field)
        END || '; the row was not read'
        WHEN problem = 'missing' THEN column_name || ' is missing'
        WHEN problem = 'duplicate' THEN printf('line_number %d is given to %d lines of this claim', line_number, copies)
        WHEN problem = 'blank' THEN column_name || ' is blank'
        ELSE column_name || ' ' || CASE column_name
            WHEN 'line_number' THEN 'is not an integer from 1 to 2147483647'
            WHEN 'date_of_service' THEN CASE problem WHEN 'not a real date' THEN 'is not a real date' ELSE 'is not written YYYY-MM-DD' END
            WHEN 'units' THEN CASE problem
                WHEN 'not above 0' THEN 'is not above 0'
                WHEN 'above maximum' THEN printf('is above %,d, the most one line may bill', $max_units)
                ELSE 'is not a number'
            END
            WHEN 'setting' THEN 'is not practitioner, outpatient_hospital or dme'
        END
    END AS reason,
    NULL::VARCHAR AS reference,
    CASE
        WHEN column_name = 'row' THEN CASE
            WHEN problem = 'LONE CR'
                THEN 'end each line with LF or CRLF (quote a value that holds a line break), then scrub the row again'
            WHEN problem IN ('TOO MANY COLUMNS', 'MISSING COLUMNS')
                THEN printf('give the row the %d fields of the header (quote a value that holds a comma), then scrub it again', $header_fields)
            WHEN problem = 'UNQUOTED VALUE' THEN 'close the quote, or double a quote inside a quoted value (""), then scrub the row again'
            WHEN problem = 'INVALID ENCODING' THEN 'save the file as UTF-8, then scrub the row again'
            ELSE 'fix the row, then scrub it again'
        END
        WHEN problem = 'duplicate' THEN 'give each line of a claim its own line_number; no copy was checked'
        WHEN column_name = 'claim_id' THEN 'give every line the id of its claim'
        WHEN column_name = 'line_number' THEN 'number the lines of each claim 1, 2, 3, ...'
        WHEN column_name = 'date_of_service' THEN 'write the date of service as YYYY-MM-DD, e.g. 2026-07-01'
        WHEN column_name = 'procedure_code' THEN 'give the CPT or HCPCS code of the service'
        WHEN column_name = 'units'
            THEN printf('give the units billed as a number above 0 and at most %,d (no units means 1)', $max_units)
        WHEN column_name = 'setting' THEN 'use practitioner, outpatient_hospital or dme (no setting means practitioner)'
    END AS suggestion,
    coalesce(row_id, file_line) AS sort_row,
    rule_order
FROM broken
