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
-- Columns: the findings columns of every check, then sort_row and rule_order, which order
--   several findings on one line (input order, then the order of the rules in the docs).
-- No value of the row is quoted but a code's (docs/scrub-rules.md, "Values in findings"):
--   claim_id (a surrogate, in the finding's own claim_id column anyway), procedure_code and
--   setting. line_number and units are numbers, and date_of_service is PHI (a date tied to a
--   person): their reasons name the column and the problem, never the value. A CSV row that was
--   not read names its line in the file and, where DuckDB says which, the column (a claim-line
--   column by name, any other by its place), never any of its text.
-- A value quoted in a reason is cut to its first 60 characters, and a backslash or any character
--   that is not printable (control, format, private-use, separator other than the space) is
--   written as \\, \xNN, \uNNNN or \UNNNNNNNN, as codesets.text.escape writes them. A CSV row that
--   was not read has no claim_id or line_number (the reason gives its line in the file).
WITH bad AS MATERIALIZED (
    SELECT p.*, d.copies
    FROM scrub_parsed AS p
    LEFT JOIN scrub_duplicates AS d ON d.claim_id = p.claim_id AND d.line_number = p.line_number
    WHERE NOT p.ok OR d.copies IS NOT NULL
),
broken AS (
    SELECT row_id, 1 AS rule_order, claim_id, line_number, procedure_code AS code,
        'claim_id' AS column_name, claim_problem AS problem, claim_id AS given, NULL::BIGINT AS copies,
        NULL::BIGINT AS file_line, NULL::BIGINT AS found, NULL::BIGINT AS field
    FROM bad WHERE claim_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 2, claim_id, line_number, procedure_code,
        'line_number', line_problem, NULL, NULL, NULL, NULL, NULL
    FROM bad WHERE line_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 3, claim_id, line_number, procedure_code,
        'line_number', 'duplicate', NULL, copies, NULL, NULL, NULL
    FROM bad WHERE copies IS NOT NULL
    UNION ALL
    SELECT row_id, 4, claim_id, line_number, procedure_code,
        'date_of_service', date_problem, NULL, NULL, NULL, NULL, NULL
    FROM bad WHERE date_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 5, claim_id, line_number, procedure_code,
        'procedure_code', code_problem, code_given, NULL, NULL, NULL, NULL
    FROM bad WHERE code_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 6, claim_id, line_number, procedure_code,
        'units', units_problem, NULL, NULL, NULL, NULL, NULL
    FROM bad WHERE units_problem IS NOT NULL
    UNION ALL
    SELECT row_id, 7, claim_id, line_number, procedure_code,
        'setting', setting_problem, setting_given, NULL, NULL, NULL, NULL
    FROM bad WHERE setting_problem IS NOT NULL
    UNION ALL
    -- DuckDB records a ragged row once per field too many or too few: one finding per line, and
    -- the number of fields is the last count it reached (too many) or the first (too few). A row
    -- with a CR alone was read from a copy where that CR is a run of commas (claim_input): it is
    -- said as such. field: the first field DuckDB blames for a bad byte or quote, 1 up
    SELECT
        NULL, 0, NULL, NULL, NULL, 'row',
        CASE WHEN line IN (SELECT line FROM scrub_csv_lone_cr) THEN 'LONE CR' ELSE min(error_type) END,
        NULL, NULL, line,
        CASE WHEN min(error_type) = 'MISSING COLUMNS' THEN min(found) ELSE max(found) END,
        arg_min(column_idx, byte_position) FILTER (WHERE error_type IN ('INVALID ENCODING', 'UNQUOTED VALUE'))
    FROM (
        SELECT line::BIGINT AS line, CAST(error_type AS VARCHAR) AS error_type, byte_position,
            column_idx::BIGINT AS column_idx,
            TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT) AS found
        FROM scrub_csv_errors
    )
    GROUP BY line
),
shown AS (
    SELECT
        b.*,
        CASE
            WHEN given IS NULL THEN NULL
            WHEN length(given) <= 60
                AND NOT regexp_matches(given, '[\\\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]')
                THEN '''' || given || ''''
            ELSE '''' || array_to_string(list_transform(string_split(left(given, 60), ''), lambda c: CASE
                    WHEN c = '\' THEN '\\'
                    WHEN regexp_matches(c, '[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]')
                        THEN CASE
                            WHEN ord(c) <= 255 THEN printf('\x%02x', ord(c))
                            WHEN ord(c) <= 65535 THEN printf('\u%04x', ord(c))
                            ELSE printf('\U%08x', ord(c))
                        END
                    ELSE c
                END), '') || ''''
                || CASE
                    WHEN length(given) = 61 THEN '…(+1 char)'
                    WHEN length(given) > 61 THEN printf('…(+%,d chars)', length(given) - 60)
                    ELSE ''
                END
        END AS value
    FROM broken AS b
)
SELECT
    claim_id::VARCHAR AS claim_id,
    line_number::INTEGER AS line_number,
    'input' AS "check",
    'error' AS severity,
    code::VARCHAR AS code,
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
        WHEN problem = 'blank' THEN column_name || coalesce(' ' || value, '') || ' is blank'
        ELSE column_name || coalesce(' ' || value, '') || ' ' || CASE column_name
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
FROM shown
