-- cpt_stage: the staged view of CPT list lines the checks read: cpt_rows plus the facts only the checks need.
-- Input: the tables cpt_rows (cpt_rows.sql) and cpt_repeats (cpt_repeats.sql).
-- Output: one row per input line; nothing is filtered here, the checks decide (they look at
-- data lines only: the header and blank lines have no fields).
SELECT
    r.*,
    CASE WHEN r.fields IS NOT NULL AND r.field_count <> r.header_count THEN
        printf('%d fields (the header has %d): %s', r.field_count, r.header_count, r.raw)
    END AS record,
    CASE WHEN p.lines IS NOT NULL THEN
        printf('%s, also on line%s %s', r.canonical_code, CASE WHEN len(p.lines) > 2 THEN 's' ELSE '' END,
               array_to_string(list_filter(p.lines, lambda n: n <> r.line_no), ', '))
    END AS code_repeated,
    CASE WHEN r.from_date IS NOT NULL AND r.to_date IS NOT NULL THEN
        printf('%s to %s', r.from_date, r.to_date)
    END AS dates,
    -- text a spreadsheet would run as a formula, and control characters: stored as written, noted
    coalesce(regexp_matches(r.description, '^[=+@-]') OR regexp_matches(r.short_description, '^[=+@-]'), FALSE)
        AS formula_like,
    coalesce(
        regexp_matches(r.description, '[\x00-\x1F\x7F]') OR regexp_matches(r.short_description, '[\x00-\x1F\x7F]'),
        FALSE
    ) AS control_character
FROM cpt_rows AS r
LEFT JOIN cpt_repeats AS p ON p.file_no = r.file_no AND p.canonical_code = r.canonical_code
