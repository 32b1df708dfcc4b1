-- scrub_mue: findings of check `mue`: units against NCCI medically unlikely edits (docs/scrub-rules.md).
-- Input: the temp table claim_lines (valid lines only) and the warehouse's release_parts and limits.
-- Output: the findings columns. A line's MUE release is the one of its setting whose window holds the
-- date of service; a line no release covers gets an info finding, never silence. MAI 1 compares each
-- line; MAI 2 and 3 sum the units of a code on a date of service per claim, or per member and
-- provider when the line names both, and every line of a group over the limit gets a finding.
-- Claim values (docs/scrub-rules.md, "Values in findings"): no date of service is written (a date
-- tied to a person is PHI): "on the line's date of service". An edit's code is the code of a row of
-- the MUE table; a line no release covers names its procedure code only where it has the shape of a
-- HCPCS Level II or CPT code (the variable scrub_procedure_shape, set by checks/input.py), else NULL.
WITH windows AS (
    SELECT part, release_id, effective_from, effective_to
    FROM release_parts
    WHERE source = 'ncci_mue' AND serves
),
dated AS (
    SELECT l.*, w.release_id
    FROM claim_lines AS l
    LEFT JOIN windows AS w
        ON w.part = l.setting AND w.effective_from <= l.date_of_service
        AND (w.effective_to IS NULL OR l.date_of_service <= w.effective_to)
),
limited AS (
    SELECT
        d.*,
        m.mue_value, m.mai, m.rationale, m.source_file, m.line_no,
        -- the group a date-of-service edit sums over: the member and provider when the line names
        -- both, else the claim ('' stands for "not this way": an empty claim id is an input error)
        CASE WHEN d.member_id IS NOT NULL AND d.provider_id IS NOT NULL THEN '' ELSE d.claim_id END AS by_claim,
        CASE WHEN d.member_id IS NOT NULL AND d.provider_id IS NOT NULL THEN d.member_id ELSE '' END AS by_member,
        CASE WHEN d.member_id IS NOT NULL AND d.provider_id IS NOT NULL THEN d.provider_id ELSE '' END AS by_provider
    FROM dated AS d
    INNER JOIN limits AS m
        ON m.source = 'ncci_mue' AND m.release_id = d.release_id AND m.part = d.setting AND m.code = d.procedure_code
),
-- the days over the limit, found by aggregating (no sort), then joined back to their lines
over_days AS (
    SELECT setting, procedure_code, date_of_service, by_claim, by_member, by_provider,
           SUM(units) AS total, MIN(claim_id) <> MAX(claim_id) AS across_claims
    FROM limited
    WHERE mai IN (2, 3)
    GROUP BY setting, procedure_code, date_of_service, by_claim, by_member, by_provider
    HAVING SUM(units) > MIN(mue_value)
),
over AS (
    SELECT claim_id, line_number, procedure_code, units AS amount, mue_value, mai, rationale, source_file, line_no,
           release_id, FALSE AS across_claims
    FROM limited
    WHERE mai NOT IN (2, 3) AND units > mue_value
    UNION ALL
    SELECT l.claim_id, l.line_number, l.procedure_code, o.total, l.mue_value, l.mai, l.rationale, l.source_file,
           l.line_no, l.release_id, o.across_claims
    FROM limited AS l
    INNER JOIN over_days AS o USING (setting, procedure_code, date_of_service, by_claim, by_member, by_provider)
    WHERE l.mai IN (2, 3)
)
SELECT
    claim_id,
    CAST(line_number AS INTEGER) AS line_number,
    'mue' AS "check",
    'error' AS severity,
    procedure_code AS code,
    CAST(NULL AS INTEGER) AS related_line_number,
    CASE WHEN amount = trunc(amount) THEN CAST(CAST(amount AS BIGINT) AS VARCHAR) ELSE CAST(amount AS VARCHAR) END
        || ' units of ' || procedure_code
        || CASE WHEN mai IN (2, 3)
                THEN ' on the line''s date of service'
                     || CASE WHEN across_claims THEN ' for this member and provider' ELSE ' on this claim' END
                     || ' exceed the MUE of ' || mue_value || ' (MAI ' || mai || ', date of service edit; '
                ELSE ' on this line exceed the MUE of ' || mue_value || ' (MAI 1, line edit; '
           END || coalesce(rationale, '') || ')' AS reason,
    'ncci_mue ' || release_id || ' ' || source_file || ' line ' || line_no AS reference,
    CASE mai
        WHEN 2 THEN 'bill at most ' || mue_value || ' units of ' || procedure_code || ' per day: MAI 2 is a policy limit, not paid above it on appeal'
        WHEN 3 THEN 'bill at most ' || mue_value || ' units of ' || procedure_code || ' per day, or send documentation of medical necessity on appeal (MAI 3 is clinical)'
        ELSE 'bill at most ' || mue_value || ' units of ' || procedure_code || ' on one line'
    END AS suggestion
FROM over
UNION ALL
SELECT
    claim_id,
    CAST(line_number AS INTEGER),
    'mue',
    'info',
    CASE WHEN regexp_full_match(procedure_code, getvariable('scrub_procedure_shape')) THEN procedure_code END,
    CAST(NULL AS INTEGER),
    'no MUE release in force for ' || setting || ' on the line''s date of service',
    CAST(NULL AS VARCHAR),
    'load the MUE tables of the quarter holding the line''s date of service (codesets load ncci_mue FILE...)'
FROM dated
WHERE release_id IS NULL
