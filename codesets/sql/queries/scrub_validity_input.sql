-- scrub_validity_input: what check `validity` asks of code_validity.sql: each distinct code, code
-- system and date of service of the claim lines (the temp table validity_input).
-- Input: the temp table claim_lines; parameter $cpt_pattern (codesets.codes.PATTERNS).
-- Output: row_id, input, code_system, on_date. A procedure code is HCPCS Level II or CPT by its
-- shape (a letter and four digits, or four digits and a digit or F, T, U, M); any other shape is
-- asked as HCPCS, which calls it unknown. Each `|`-separated diagnosis code is asked as ICD-10-CM.
-- Many lines share a code and a date: asking each pair once keeps the check's cost in the pairs.
SELECT CAST(row_number() OVER () AS BIGINT) AS row_id, input, code_system, on_date
FROM (
    SELECT DISTINCT
        procedure_code AS input,
        CASE WHEN regexp_full_match(procedure_code, $cpt_pattern) THEN 'cpt' ELSE 'hcpcs' END AS code_system,
        date_of_service AS on_date
    FROM claim_lines
    UNION
    SELECT DISTINCT trim(d.code, E' \t\r\n') AS input, 'icd10cm' AS code_system, l.date_of_service AS on_date
    FROM claim_lines AS l, unnest(string_split(l.diagnosis_codes, '|')) AS d(code)
    WHERE l.diagnosis_codes IS NOT NULL AND trim(d.code, E' \t\r\n') <> ''
) AS pairs
