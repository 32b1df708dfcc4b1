-- ncci_mue_stage: the staged view of MUE lines the checks read: mue_rows plus the facts only the checks need.
-- Input: the table mue_rows (ncci_mue_rows.sql), the table mue_repeats (ncci_mue_repeats.sql) and
--   the variable mue_mai_texts: the adjudication indicators as CMS writes them, indicator n at n
--   (bound from ncci_mue.MAI_TEXTS, their one definition); the variable mue_control_pattern: a
--   control character (bound from codesets.loaders._lines.CONTROL, its one definition).
-- Output: one row per input line; nothing is filtered here, the checks decide (they look at
-- data lines only: the notice, the header and blank lines have no fields).
SELECT
    r.*,
    CASE WHEN r.kind = 'data' THEN printf('%d fields: %s', r.field_count, r.raw) END AS record,
    r.mai_text = getvariable('mue_mai_texts')[r.mai] AS mai_known,
    CASE WHEN p.lines IS NOT NULL THEN
        printf('%s, also on line%s %s', r.code, CASE WHEN len(p.lines) > 2 THEN 's' ELSE '' END,
               array_to_string(list_filter(p.lines, lambda n: n <> r.line_no), ', '))
    END AS code_repeated,
    -- where a data record holds a control character (NUL, ESC, BEL ...): which, and its column
    -- (a character count, from 1)
    CASE WHEN r.kind = 'data' AND regexp_matches(r.raw, getvariable('mue_control_pattern')) THEN
        printf('control character 0x%02X at column %d', ord(regexp_extract(r.raw, getvariable('mue_control_pattern'))),
               strpos(r.raw, regexp_extract(r.raw, getvariable('mue_control_pattern'))))
    END AS control_character
FROM mue_rows AS r
LEFT JOIN mue_repeats AS p ON p.file_no = r.file_no AND p.code = r.code
