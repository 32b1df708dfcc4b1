-- scrub_validity: findings of check `validity`: each procedure code, and each diagnosis code, valid on
-- the line's date of service (docs/codes.md has the statuses; docs/scrub-rules.md the check).
-- Input: the temp tables claim_lines (valid lines only) and validity_answers (code_validity.sql over
--   scrub_validity_input.sql: one answer per distinct code, system and date).
-- Output: the findings columns. A billable code, or a CPT-shaped code when no CPT list is loaded,
-- passes. A date no release of the system covers is an info finding (never silence, never a guess);
-- any other status is an error naming it, with the successors as the suggestion.
-- Claim values (docs/scrub-rules.md, "Values in findings"): a finding names a code only where it has
-- the shape of a code of its system (code_validity's `code`, NULL otherwise, normalised: trimmed,
-- upper-cased, the dot removed); a value of any other shape may be anything (a name, an SSN) and is
-- never quoted, neither in the reason nor in the finding's code. No date of service is written
-- either (a date tied to a person is PHI): "on the line's date of service"; the dates of the
-- reference data (a code's valid-from and valid-to) are not the patient's and are written.
WITH procedures AS (
    SELECT l.claim_id, l.line_number, l.procedure_code AS given, 'procedure code' AS role, a.*
    FROM claim_lines AS l
    INNER JOIN validity_answers AS a
        ON a.input = l.procedure_code AND a.on_date = l.date_of_service AND a.code_system <> 'icd10cm'
),
diagnoses AS (
    SELECT claim_id, line_number, date_of_service, position, trim(codes[position], E' \t\r\n') AS given
    FROM (
        SELECT claim_id, line_number, date_of_service, string_split(diagnosis_codes, '|') AS codes
        FROM claim_lines
        WHERE diagnosis_codes IS NOT NULL
    ) AS l, unnest(range(1, len(l.codes) + 1)) AS p(position)
),
diagnosis_answers AS (
    SELECT
        d.claim_id,
        d.line_number,
        d.given,
        CASE WHEN d.position = 1 THEN 'principal diagnosis' ELSE 'diagnosis ' || d.position END AS role,
        a.*
    FROM diagnoses AS d
    INNER JOIN validity_answers AS a
        ON a.input = d.given AND a.on_date = d.date_of_service AND a.code_system = 'icd10cm'
),
answers AS (
    SELECT * FROM procedures
    UNION ALL
    SELECT * FROM diagnosis_answers
)
SELECT
    claim_id,
    CAST(line_number AS INTEGER) AS line_number,
    'validity' AS "check",
    CASE WHEN status = 'no release in force' THEN 'info' ELSE 'error' END AS severity,
    code,
    CAST(NULL AS INTEGER) AS related_line_number,
    CASE
        WHEN code IS NULL AND role = 'procedure code'
            THEN 'procedure code is neither a HCPCS Level II code (a letter and four digits) nor a CPT code '
                || '(four digits and a digit or F, M, T, U)'
        WHEN code IS NULL
            THEN role || ' is not an ICD-10-CM code by its shape (like I10, E11.9 or S72.001A)'
    ELSE role || ' ' || code || ' (' || code_system || ') '
        || CASE status
            WHEN 'no release in force' THEN 'cannot be checked: no ' || code_system || ' release in force on '
            WHEN 'unknown' THEN 'is not a code of the system on '
            WHEN 'header (not billable)' THEN 'is a header, not billable, on '
            ELSE 'is ' || status || ' on '
        END || 'the line''s date of service'
        || CASE
            WHEN status = 'terminated' AND effective_to IS NOT NULL
                THEN ' (valid to ' || strftime(effective_to, '%Y-%m-%d') || ')'
            WHEN status = 'not yet effective' AND effective_from IS NOT NULL
                THEN ' (valid from ' || strftime(effective_from, '%Y-%m-%d') || ')'
            ELSE ''
        END
    END AS reason,
    CASE WHEN release_id IS NOT NULL THEN
        code_system || ' ' || release_id || coalesce(' ' || source_file || ' line ' || line_no, '')
    END AS reference,
    CASE
        WHEN status = 'no release in force'
            THEN 'load the ' || code_system || ' release holding the line''s date of service'
        WHEN successors IS NOT NULL AND len(successors) > 0
            THEN CASE WHEN status = 'header (not billable)' THEN 'bill one of its codes: ' ELSE 'consider ' END
                || array_to_string(successors[1:5], ', ')
                || CASE WHEN len(successors) > 5 THEN ' (and ' || (len(successors) - 5) || ' more)' ELSE '' END
    END AS suggestion
FROM answers
WHERE status NOT IN ('billable', 'valid shape (no CPT list)')
