-- icd9cm_rows: ICD-9-CM title lines cut into code and title.
-- Input: icd9_raw(file_no, line_no, raw), every physical line of each file (line endings
--   removed, read as Latin-1, NULL for an empty line); icd9_files(file_no, source_file, part,
--   code_system, width, role, ...), the part, code system, code width (5 for diagnoses, 4 for
--   procedures) and role (long or short titles) of each file; the variables
--   icd9_pattern_icd9cm and icd9_pattern_icd9pcs, the shapes of codes (codesets.codes.PATTERNS).
-- Output: one row per input line, created as the temp table icd9_rows (the pairing, the checks
-- and the publish all read the fields: they are cut once).
-- A line is the code left-justified in `width` characters, one space, the title. Columns are
-- cut by position, so a line that breaks the layout is seen (and refused) as it is.
WITH lines AS (
    SELECT
        r.file_no,
        f.source_file,
        f.part,
        f.code_system,
        f.role,
        f.width,
        r.line_no,
        r.raw,
        CASE WHEN r.raw IS NULL OR trim(r.raw) = '' THEN 'blank' ELSE 'data' END AS kind
    FROM icd9_raw AS r
    INNER JOIN icd9_files AS f ON f.file_no = r.file_no
),
cut AS (
    SELECT
        *,
        CASE WHEN kind = 'data' THEN rtrim(left(raw, width), ' ') END AS code,  -- as written
        CASE WHEN kind = 'data' THEN length(raw) <= width OR substr(raw, width + 1, 1) = ' ' END AS separator_ok,
        CASE WHEN kind = 'data' THEN substr(raw, width + 2) END AS title_field
    FROM lines
)
SELECT
    *,
    upper(code) AS canonical_code,
    CASE code_system
        WHEN 'icd9cm' THEN regexp_full_match(upper(code), getvariable('icd9_pattern_icd9cm'))
        WHEN 'icd9pcs' THEN regexp_full_match(upper(code), getvariable('icd9_pattern_icd9pcs'))
    END AS code_ok,
    nullif(trim(title_field, ' '), '') AS title,
    starts_with(title_field, ' ') AS title_indented,
    ends_with(title_field, ' ') AS title_padded,
    regexp_matches(title_field, '[\x00-\x1F\x7F]') AS title_control
FROM cut
