-- ncci_mue_rows: MUE table lines told apart (notice, header, blank, data) and data records cut into typed fields.
-- Input: mue_raw(file_no, line_no, raw), every physical line of each file (line endings removed,
--   read as Latin-1, NULL for an empty line); mue_files(file_no, source_file, part, notice_to,
--   header_to) with the last line of each file's notice record (0 for none) and header record,
--   found from the file's first records.
-- Output: one row per input line, created as the temp table mue_rows (the counts, the repeats, the
-- checks and the publish all read the fields: they are cut once). The checks read the view
-- ncci_mue_stage.sql over it, which adds what only they need.
-- A data record is one line: RFC 4180 fields, split on commas when the line has no quote (the
-- real tables have none), else taken apart by a regular expression once the whole line is
-- known to be well quoted. A line that is not well quoted gets no fields (the checks refuse it).
WITH lines AS (
    SELECT
        r.file_no,
        f.source_file,
        f.part,
        r.line_no,
        r.raw,
        CASE
            WHEN r.line_no <= f.notice_to THEN 'notice'
            WHEN r.line_no <= f.header_to THEN 'header'
            -- only a line that starts with a space, comma or tab can be blank: test the rest only then
            WHEN r.raw IS NULL OR (substr(r.raw, 1, 1) IN (' ', ',', chr(9)) AND trim(r.raw, ' ,' || chr(9)) = '')
                THEN 'blank'
            ELSE 'data'
        END AS kind
    FROM mue_raw AS r
    INNER JOIN mue_files AS f ON f.file_no = r.file_no
),
split AS (
    SELECT
        *,
        CASE
            WHEN kind <> 'data' THEN NULL
            WHEN strpos(raw, '"') = 0 THEN string_split(raw, ',')
            WHEN regexp_full_match(raw, '(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*') THEN
                -- each field preceded by a comma, so every match is non-empty; quotes removed, "" is one quote
                list_transform(
                    regexp_extract_all(',' || raw, ',("(?:[^"]|"")*"|[^,"]*)', 1),
                    lambda f: CASE WHEN starts_with(f, '"') THEN replace(f[2:-2], '""', '"') ELSE f END
                )
        END AS fields
    FROM lines
),
cut AS (
    SELECT
        *,
        len(fields) AS field_count,
        CASE WHEN len(fields) = 4 THEN fields[1] END AS code_field,
        CASE WHEN len(fields) = 4 THEN fields[2] END AS mue_field,
        CASE WHEN len(fields) = 4 THEN fields[3] END AS mai_text,
        CASE WHEN len(fields) = 4 THEN fields[4] END AS rationale_field
    FROM split
)
SELECT
    *,
    part AS service_type,
    -- codes are stored canonical: trimmed, upper case (the checks note a file that needed either)
    upper(trim(code_field)) AS code,
    TRY_CAST(mue_field AS INTEGER) AS mue_value,  -- the checks hold the field to digits only
    CASE
        WHEN substr(mai_text, 1, 1) IN ('1', '2', '3') AND (length(mai_text) = 1 OR substr(mai_text, 2, 1) = ' ')
            THEN CAST(substr(mai_text, 1, 1) AS UTINYINT)
    END AS mai,
    nullif(rationale_field, '') AS rationale
FROM cut
