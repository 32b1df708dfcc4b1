-- order_rows: ICD-10-CM/PCS order and code file lines cut into their fields and typed.
-- Input: order_raw(file_no, line_no, raw), every line of each file (line endings removed, read as
--   Latin-1, NULL for an empty line); order_files(file_no, source_file, part, kind, code_system)
--   with kind 'order' (order file) or 'codes' (code file).
-- Output: one row per input line, created as the temp table order_rows: the repeats, the checks,
-- the notes and the publish all read the fields, so they are cut once. The checks read the view
-- order_stage.sql over it. A field that does not hold what its columns must is NULL here and
-- the checks name it; nothing is filtered.
-- Order record: order number 1-5, blank, code 7-13 (padded), blank, flag 15, blank, short title
-- 17-76 (padded to 60), blank, long title from 78. Code record: code 1-7 (padded), blank, title from 9.
WITH lines AS (
    SELECT
        r.file_no,
        f.source_file,
        f.part,
        f.kind,
        f.code_system,
        r.line_no,
        r.raw,
        r.raw IS NULL OR trim(r.raw) = '' AS blank,
        CASE WHEN f.kind = 'order' THEN 7 ELSE 1 END AS code_at,
        CASE WHEN f.kind = 'order' THEN 78 ELSE 9 END AS title_at
    FROM order_raw AS r
    INNER JOIN order_files AS f ON f.file_no = r.file_no
),
cut AS (
    SELECT
        *,
        NOT blank AND length(raw) < title_at AS truncated,
        CASE WHEN kind = 'order' THEN substr(raw, 1, 6) END AS order_number,
        substr(raw, code_at, 8) AS code_field,  -- the code's 7 columns and the blank after them
        CASE WHEN kind = 'order' THEN substr(raw, 15, 2) END AS flag,  -- the flag and the blank after it
        CASE WHEN kind = 'order' THEN substr(raw, 17, 61) END AS short_title,  -- 60 columns and a blank
        substr(raw, title_at) AS long_title
    FROM lines
)
SELECT
    *,
    NOT blank AND NOT truncated AS whole,
    CASE WHEN regexp_full_match(code_field, '[0-9A-Z]{1,7} +') AND length(code_field) = 8
        THEN rtrim(code_field) END AS code,
    regexp_full_match(order_number, '[0-9]{5} ') AS order_ok,
    TRY_CAST(substr(order_number, 1, 5) AS INTEGER) AS order_no,
    flag IN ('0 ', '1 ') AS flag_ok,
    substr(short_title, 1, 1) <> ' ' AND length(short_title) = 61 AND substr(short_title, 61, 1) = ' ' AS short_ok,
    substr(long_title, 1, 1) NOT IN (' ', '') AS title_ok,
    right(long_title, 1) = ' ' AS trailing_blanks,
    CASE WHEN kind = 'codes' THEN TRUE WHEN flag IN ('0 ', '1 ') THEN flag = '1 ' END AS billable,
    -- rtrim costs a pass over every title: only the few with trailing blanks take it
    CASE WHEN right(long_title, 1) = ' ' THEN rtrim(long_title) ELSE long_title END AS description,
    rtrim(short_title) AS short_description
FROM cut
