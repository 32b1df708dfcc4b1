-- scrub_input_parse: claim lines read against the input rules of docs/scrub-rules.md.
-- Grain: one row per input row (row_id).
-- Sources: the temp view scrub_source, which codesets.warehouse.scrub puts over the claims file
--   or table: row_id, claim_id, line_text/line_value, date_text/date_value, procedure_code,
--   modifier_1..modifier_4, units_text/units_value, setting, member_id, provider_id,
--   diagnosis_codes (passed on as given: the check validity judges each code). Where the
--   input column is typed (Parquet or Arrow INTEGER, DATE, DOUBLE ...) its value is in *_value and
--   *_text is NULL (or the value as text when the type cannot hold a valid one, e.g. 2.5 as a
--   line number); a text column arrives in *_text with *_value NULL. A column the input lacks is NULL.
-- Variables: getvariable('scrub_max_units'), the most units one line may bill (codesets sets it
--   from claim_input.MAX_UNITS with SET VARIABLE before it creates the view; a view takes no
--   parameters). Unset, every line with units is above it: the rule fails closed.
-- Bounds: line_number 1 to 2147483647 (an INTEGER); units above 0 and at most scrub_max_units;
--   date_of_service a real, finite date from 0001-01-01 (text) or any finite typed DATE
--   ('infinity' is no day a service was given, typed or written).
-- Output: the normalised values the checks read (NULL where the value breaks its rule), one
--   *_problem column per rule naming what is wrong (NULL: nothing), and ok (no rule broken). No
--   value as given leaves this query for the messages: a value in the wrong column may be anything
--   (an SSN, a name, a birth date), and the findings of `input` quote none (scrub_input.sql). Repeated (claim_id, line_number)
--   pairs are found afterwards (scrub_input_duplicates), among the rows whose claim_id and
--   line_number are usable.
-- Used by: scrub_input_lines and scrub_input (through the
--   temp view scrub_parsed).
-- Speed: this runs over every line, so the common case is answered first and cheaply. Trimming
--   (of spaces, tabs, CR and LF) with trim(x, chars) costs several times upper(x), so it runs only
--   on a value that starts below '!' (white space and control characters sort before it) or ends
--   in white space; a number or date is cast and read back before any pattern is tried, and cast
--   without a trim (DuckDB's casts skip the white space around a value).
WITH tried AS (
    SELECT
        *,
        TRY_CAST(line_text AS BIGINT) AS line_try,
        TRY_CAST(date_text AS DATE) AS date_try,
        TRY_CAST(units_text AS DOUBLE) AS units_try
    FROM scrub_source
),
parsed AS (
    SELECT
        row_id,
        claim_id,
        line_text,
        line_value,
        date_text,
        date_value,
        procedure_code AS code_given,
        CASE  -- nothing to trim (as most come): upper() alone
            WHEN procedure_code >= '!' AND NOT (suffix(procedure_code, ' ') OR suffix(procedure_code, E'\t')
                OR suffix(procedure_code, E'\r') OR suffix(procedure_code, E'\n')) THEN upper(procedure_code)
            ELSE nullif(upper(trim(procedure_code, E' \t\r\n')), '')
        END AS procedure_code,
        units_text,
        units_value,
        setting IN ('practitioner', 'outpatient_hospital', 'dme') AS setting_as_is,
        CASE
            WHEN setting IN ('practitioner', 'outpatient_hospital', 'dme') THEN setting
            ELSE coalesce(nullif(lower(trim(setting, E' \t\r\n')), ''), 'practitioner')  -- none given: practitioner
        END AS setting,
        CASE WHEN member_id < '!' AND trim(member_id, E' \t\r\n') = '' THEN NULL ELSE member_id END AS member_id,
        CASE WHEN provider_id < '!' AND trim(provider_id, E' \t\r\n') = '' THEN NULL ELSE provider_id END AS provider_id,
        diagnosis_codes,
        CASE
            WHEN line_value IS NOT NULL THEN line_value
            -- digits only: the cast alone would also take 3.5, 1e2, 0x10 and 1_000
            WHEN CAST(line_try AS VARCHAR) = line_text
                OR regexp_full_match(line_text, '[ \t\r\n]*[0-9]{1,18}[ \t\r\n]*') THEN line_try
        END AS line_bigint,
        CASE
            WHEN date_value IS NOT NULL THEN date_value
            -- YYYY-MM-DD only: the cast alone would take 2026-1-5 and 2026-01-05T10:00
            WHEN CAST(date_try AS VARCHAR) = date_text
                OR regexp_full_match(date_text, '[ \t\r\n]*[0-9]{4}-[0-9]{2}-[0-9]{2}[ \t\r\n]*') THEN date_try
        END AS date_parsed,
        CASE
            WHEN units_value IS NOT NULL THEN units_value
            WHEN units_text IS NULL THEN 1.0  -- no units given: 1
            WHEN CAST(TRY_CAST(units_try AS BIGINT) AS VARCHAR) = units_text
                OR regexp_full_match(units_text, '[ \t\r\n]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[ \t\r\n]*')
                THEN units_try
            WHEN trim(units_text, E' \t\r\n') = '' THEN 1.0
        END AS units_parsed,
        CASE WHEN modifier_1 IS NULL AND modifier_2 IS NULL AND modifier_3 IS NULL AND modifier_4 IS NULL
            THEN []::VARCHAR[]  -- most lines: no list to build
            ELSE list_filter(
                list_transform(
                    [modifier_1, modifier_2, modifier_3, modifier_4],
                    lambda m: CASE
                        WHEN m >= '!' AND NOT (suffix(m, ' ') OR suffix(m, E'\t') OR suffix(m, E'\r') OR suffix(m, E'\n'))
                            THEN upper(m)
                        ELSE upper(trim(m, E' \t\r\n'))
                    END
                ),
                lambda m: m <> ''
            )
        END AS modifiers
    FROM tried
),
judged AS (
    SELECT
        *,
        -- missing: no value or an empty one; blank: nothing but white space
        CASE
            WHEN claim_id IS NULL OR claim_id = '' THEN 'missing'
            WHEN claim_id < '!' AND trim(claim_id, E' \t\r\n') = '' THEN 'blank'
        END AS claim_problem,
        CASE
            WHEN line_bigint BETWEEN 1 AND 2147483647 THEN NULL
            WHEN line_value IS NULL AND (line_text IS NULL OR line_text = '') THEN 'missing'
            WHEN line_value IS NULL AND trim(line_text, E' \t\r\n') = '' THEN 'blank'
            ELSE 'not an integer'
        END AS line_problem,
        CASE
            -- text: no year 0000; typed or text: no infinity
            WHEN (date_value IS NOT NULL OR date_parsed >= DATE '0001-01-01') AND isfinite(date_parsed) THEN NULL
            WHEN date_value IS NOT NULL THEN 'not a real date'
            WHEN date_text IS NULL OR date_text = '' THEN 'missing'
            WHEN trim(date_text, E' \t\r\n') = '' THEN 'blank'
            WHEN regexp_full_match(date_text, '[ \t\r\n]*[0-9]{4}-[0-9]{2}-[0-9]{2}[ \t\r\n]*') THEN 'not a real date'
            ELSE 'not YYYY-MM-DD'
        END AS date_problem,
        CASE
            WHEN procedure_code IS NOT NULL THEN NULL
            WHEN code_given IS NULL OR code_given = '' THEN 'missing'
            ELSE 'blank'
        END AS code_problem,
        CASE
            WHEN units_parsed IS NULL OR NOT isfinite(units_parsed) THEN 'not a number'
            WHEN units_parsed <= 0 THEN 'not above 0'
            WHEN units_parsed <= getvariable('scrub_max_units') THEN NULL
            ELSE 'above maximum'
        END AS units_problem,
        CASE
            WHEN setting_as_is OR setting IN ('practitioner', 'outpatient_hospital', 'dme') THEN NULL
            ELSE 'unknown'
        END AS setting_problem
    FROM parsed
)
SELECT
    row_id,
    claim_id,
    CASE WHEN line_problem IS NULL THEN line_bigint::INTEGER END AS line_number,
    CASE WHEN date_problem IS NULL THEN date_parsed END AS date_of_service,
    procedure_code,
    modifiers,
    units_parsed AS units,
    setting,
    member_id,
    provider_id,
    diagnosis_codes,
    claim_problem,
    line_problem,
    date_problem,
    code_problem,
    units_problem,
    setting_problem,
    claim_problem IS NULL AND line_problem IS NULL AND date_problem IS NULL AND code_problem IS NULL
        AND units_problem IS NULL AND setting_problem IS NULL AS ok
FROM judged
