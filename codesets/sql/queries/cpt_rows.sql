-- cpt_rows: the lines of a CPT list told apart (header, blank, data) and data lines cut into typed fields.
-- Input: cpt_raw(file_no, line_no, raw), every physical line of the file (line endings removed,
--   NULL for an empty line); cpt_files(file_no, source_file, part, header_count, code_at,
--   description_at, short_description_at, effective_from_at, effective_to_at, ...): the header
--   read by the loader, each role's field number (NULL for a column the list does not have);
--   the variable cpt_pattern, the shape of a CPT code (codesets.codes.PATTERNS['cpt']).
-- Output: one row per input line, created as the temp table cpt_rows (the repeats, the checks
-- and the publish all read the fields: they are cut once).
-- A data line is one record of RFC 4180 fields: split on commas when it has no quote, else taken
-- apart by a regular expression once the whole line is known to be well quoted (every quoted
-- field closes on the line). A line that is not well quoted gets no fields: the checks refuse it.
WITH lines AS (
    SELECT
        r.file_no,
        f.source_file,
        f.part,
        f.header_count,
        f.code_at,
        f.description_at,
        f.short_description_at,
        f.effective_from_at,
        f.effective_to_at,
        r.line_no,
        r.raw,
        CASE
            WHEN r.line_no = 1 THEN 'header'
            WHEN r.raw IS NULL OR trim(r.raw, ' ,' || chr(9)) = '' THEN 'blank'
            ELSE 'data'
        END AS kind
    FROM cpt_raw AS r
    INNER JOIN cpt_files AS f ON f.file_no = r.file_no
),
split AS (
    SELECT
        *,
        CASE
            WHEN kind <> 'data' THEN NULL
            WHEN strpos(raw, '"') = 0 THEN string_split(raw, ',')
            WHEN regexp_full_match(raw, '(?:"(?:[^"]|"")*"|[^",]*)(?:,(?:"(?:[^"]|"")*"|[^",]*))*') THEN
                -- a comma before each field makes every match non-empty; a quoted field loses its
                -- quotes and each "" inside it becomes one quote
                list_transform(
                    regexp_extract_all(',' || raw, ',("(?:[^"]|"")*"|[^",]*)', 1),
                    lambda v: CASE WHEN starts_with(v, '"') THEN replace(v[2:-2], '""', '"') ELSE v END
                )
        END AS fields
    FROM lines
),
cut AS (
    SELECT
        *,
        len(fields) AS field_count,
        fields IS NOT NULL AND len(fields) = header_count AS row_complete,
        CASE WHEN len(fields) = header_count THEN fields[code_at] END AS code,
        CASE WHEN len(fields) = header_count THEN fields[description_at] END AS description_field,
        CASE WHEN len(fields) = header_count THEN fields[short_description_at] END AS short_description_field,
        CASE WHEN len(fields) = header_count THEN fields[effective_from_at] END AS effective_from,
        CASE WHEN len(fields) = header_count THEN fields[effective_to_at] END AS effective_to
    FROM split
),
typed AS (
    SELECT
        *,
        upper(trim(code)) AS canonical_code,
        nullif(description_field, '') AS description,
        nullif(short_description_field, '') AS short_description,
        -- a date is exactly YYYY-MM-DD (blanks around it allowed); an empty field is no date
        CASE WHEN regexp_full_match(trim(effective_from), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            THEN TRY_CAST(trim(effective_from) AS DATE) END AS from_date,
        CASE WHEN regexp_full_match(trim(effective_to), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            THEN TRY_CAST(trim(effective_to) AS DATE) END AS to_date
    FROM cut
)
SELECT
    *,
    regexp_full_match(canonical_code, getvariable('cpt_pattern')) AS code_ok,
    coalesce(trim(effective_from), '') = '' OR from_date IS NOT NULL AS effective_from_ok,
    coalesce(trim(effective_to), '') = '' OR to_date IS NOT NULL AS effective_to_ok
FROM typed
