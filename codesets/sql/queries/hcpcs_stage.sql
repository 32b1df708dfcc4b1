-- hcpcs_stage: the staged view of HCPCS lines the checks read: hcpcs_rows plus what only the checks need.
-- Input: the tables hcpcs_rows (hcpcs_rows.sql) and hcpcs_repeats (hcpcs_repeats.sql); the variables
--   hcpcs_pattern, hcpcs_modifier_pattern and cpt_pattern (codesets.codes.PATTERNS, their one definition).
-- Output: one row per input line; nothing is filtered here, the checks decide. The columns holding
-- text (sequence_problem, code_repeated, xref*_kind) are NULL when all is well, else they say
-- what is wrong, and the report shows them as the value.
SELECT
    r.*,
    CASE r.code_system
        WHEN 'hcpcs' THEN regexp_full_match(r.code, getvariable('hcpcs_pattern'))
        WHEN 'hcpcs_modifier' THEN regexp_full_match(r.code, getvariable('hcpcs_modifier_pattern'))
    END AS code_fits,
    CASE
        WHEN NOT r.is_continuation OR r.seq IS NULL THEN NULL
        WHEN r.previous_line IS NULL THEN
            printf('RECID %s record of %s (sequence %s) has no record above it', r.recid, r.code, r.seqnum)
        WHEN r.previous_code IS DISTINCT FROM r.code OR r.previous_system IS DISTINCT FROM r.code_system THEN
            printf('RECID %s record of %s follows RECID %s record of %s (line %d): its first record is not above it',
                   r.recid, r.code, coalesce(r.previous_recid, '?'), coalesce(r.previous_code, '?'), r.previous_line)
        WHEN r.previous_seq IS NULL THEN NULL
        WHEN (r.format = 'fixed' AND r.seq <> r.previous_seq + 100) OR r.seq <= r.previous_seq THEN
            printf('%s sequence %s follows sequence %s (line %d)%s', r.code, r.seqnum, r.previous_seqnum, r.previous_line,
                   CASE WHEN r.format = 'fixed' AND r.seq > r.previous_seq + 100 THEN ': a record is missing' ELSE '' END)
    END AS sequence_problem,
    CASE WHEN p.lines IS NOT NULL THEN
        printf('%s, also on line%s %s', r.code, CASE WHEN len(p.lines) > 2 THEN 's' ELSE '' END,
               array_to_string(list_filter(p.lines, lambda n: n <> r.line_no), ', '))
    END AS code_repeated,
    -- what each cross-reference names: a code of a system, CMS's pointer 'CPT', or nothing it can be
    list_transform([r.xref1, r.xref2, r.xref3, r.xref4, r.xref5], lambda x: CASE
        WHEN x IS NULL OR trim(x) = '' THEN 'none'
        WHEN upper(trim(x)) = 'CPT' THEN 'CPT'
        WHEN regexp_full_match(upper(trim(x)), getvariable('hcpcs_pattern')) THEN 'hcpcs'
        WHEN regexp_full_match(upper(trim(x)), getvariable('cpt_pattern')) THEN 'cpt'
        WHEN regexp_full_match(upper(trim(x)), getvariable('hcpcs_modifier_pattern')) THEN 'hcpcs_modifier'
        ELSE 'bad'
    END) AS xref_kinds
FROM hcpcs_rows AS r
LEFT JOIN hcpcs_repeats AS p ON p.file_no = r.file_no AND p.code_system = r.code_system AND p.code = r.code
    AND r.is_first
