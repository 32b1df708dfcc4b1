-- scrub_ptp: findings of check `ptp`: NCCI PTP edits between lines of one claim (docs/scrub-rules.md).
-- Input: the temp table claim_lines (valid lines only) and the warehouse's edit_runs and edits.
-- Output: the findings columns, one row per (column-2 line, column-1 line) pair in conflict.
-- The edits are those of the quarter in force of each setting (serves AND effective_to IS NULL, as
-- ptp_edits); the files are cumulative, so that quarter states every edit's own window. Its rows are
-- found without expanding the quarter (edits_published would, 4.5 million lines joined to their
-- rows): the line pairs meet the stored rows on the two codes first, and only the rows that meet are
-- looked up in the quarter's runs as edit_runs reads them (an ASOF join on the run starting at or
-- before the stored row), which also gives the file and line the quarter published the row at.
-- Claim values (docs/scrub-rules.md, "Values in findings"): the two codes a finding names are those
-- of the edit row that fired (equal to the lines' codes, so codes, never free text), and no date of
-- service is written.
WITH runs AS (
    SELECT part, release_id, source_file, line_shift, origin_release_id, origin_source_file, origin_first_line,
           origin_last_line
    FROM edit_runs
    WHERE source = 'ncci_ptp' AND serves AND effective_to IS NULL
),
latest AS (
    SELECT DISTINCT part, release_id FROM runs
),
lines AS (
    SELECT row_id, claim_id, date_of_service, procedure_code, setting
    FROM claim_lines
    WHERE setting IN ('practitioner', 'outpatient_hospital')
),
-- narrow rows until the edits have picked the few pairs that matter: a hash table of 3 million
-- pairs carrying claim ids and modifier lists costs more than the join itself
pairs AS (
    SELECT a.row_id AS row_a, b.row_id AS row_b, b.setting, b.date_of_service,
           a.procedure_code AS code_a, b.procedure_code AS code_b
    FROM lines AS a
    INNER JOIN lines AS b
        ON a.claim_id = b.claim_id AND a.date_of_service = b.date_of_service AND a.setting = b.setting
        AND a.row_id <> b.row_id
),
candidates AS (
    SELECT p.*, e.release_id AS origin_release_id, e.source_file AS origin_source_file, e.line_no AS origin_line_no,
           e.modifier_indicator, e.rationale, l.release_id
    FROM pairs AS p
    INNER JOIN latest AS l ON l.part = p.setting
    INNER JOIN (SELECT * FROM edits WHERE source = 'ncci_ptp' AND modifier_indicator <> '9') AS e
        ON e.part = p.setting AND e.column1_code = p.code_a AND e.column2_code = p.code_b
    WHERE e.effective_date <= p.date_of_service
        AND (e.deletion_date IS NULL OR p.date_of_service <= e.deletion_date)
),
in_quarter AS (
    SELECT c.*, r.source_file, c.origin_line_no + r.line_shift AS line_no,
           b.claim_id, a.line_number AS line_a, b.line_number AS line_b, a.modifiers AS modifiers_a,
           b.modifiers AS modifiers_b
    FROM candidates AS c
    ASOF INNER JOIN runs AS r
        ON r.part = c.setting AND r.release_id = c.release_id
        AND r.origin_release_id = c.origin_release_id AND r.origin_source_file = c.origin_source_file
        AND c.origin_line_no >= r.origin_first_line
    INNER JOIN claim_lines AS a ON a.row_id = c.row_a
    INNER JOIN claim_lines AS b ON b.row_id = c.row_b
    WHERE c.origin_line_no <= r.origin_last_line
),
standing AS (
    SELECT *
    FROM in_quarter
    WHERE modifier_indicator = '0'
        OR len(modifiers_b) = 0  -- no modifier on the column-2 line: nothing bypasses
        OR NOT (
            -- an NCCI-associated modifier other than anatomic on the column-2 line
            list_has_any(modifiers_b, ['24', '25', '27', '57', '58', '59', '78', '79', '91', 'XE', 'XS', 'XP', 'XU'])
            -- anatomic: both lines name a site, and the column-2 line names one the column-1 line does not
            OR (list_has_any(modifiers_a, ['E1', 'E2', 'E3', 'E4', 'FA', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'LC', 'LD', 'LM', 'RC', 'RI', 'LT', 'RT', 'TA', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9'])
                AND len(list_filter(modifiers_b, lambda m: list_contains(['E1', 'E2', 'E3', 'E4', 'FA', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'LC', 'LD', 'LM', 'RC', 'RI', 'LT', 'RT', 'TA', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9'], m)
                                                           AND NOT list_contains(modifiers_a, m))) > 0)
        )
),
named AS (
    SELECT *, row_number() OVER (
        PARTITION BY claim_id, line_b, line_a ORDER BY modifier_indicator, source_file, line_no
    ) AS pick
    FROM standing
)
SELECT
    claim_id,
    CAST(line_b AS INTEGER) AS line_number,
    'ptp' AS "check",
    'error' AS severity,
    code_b AS code,
    CAST(line_a AS INTEGER) AS related_line_number,
    code_b || ' is a column 2 code of ' || code_a || ' on line ' || line_a
        || ' (NCCI PTP edit, modifier indicator ' || modifier_indicator || '): ' || coalesce(rationale, '') AS reason,
    'ncci_ptp ' || release_id || ' ' || source_file || ' line ' || line_no AS reference,
    CASE modifier_indicator
        WHEN '0' THEN 'do not bill ' || code_b || ' with ' || code_a || ' on the same day: no modifier bypasses this edit'
        ELSE 'remove ' || code_b || ', or append an NCCI-associated modifier (59, XE, XP, XS, XU, anatomic or global surgery) if the services were distinct and documented'
    END AS suggestion
FROM named
WHERE pick = 1
