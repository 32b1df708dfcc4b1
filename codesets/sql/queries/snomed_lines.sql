-- snomed_lines: every line of the staged SNOMED CT files, classified and split on tabs (never by a CSV reader).
-- Input: snomed_raw(file_no, line_no, raw), every line as read (UTF-8, checked by
--   codesets.loaders._lines before; NULL for an empty line); snomed_files(file_no, source_file,
--   part, layout), layout 'rf2' (the ExtendedMap reference set, 13 fields), 'tsv' (the
--   human-readable map, 16), 'relationship' (RF2 relationships, 10) or 'description' (RF2
--   descriptions, 9).
-- Output: one row per line; kind 'header', 'blank', 'record' (a map line), 'relationship' or
-- 'description'; field_count for every line but a header or a blank one. Read by
-- snomed_rows.sql (map files) and snomed_concept_rows.sql (relationship and description files).
WITH lines AS (
    SELECT
        r.file_no,
        f.source_file,
        f.part,
        f.layout,
        r.line_no,
        r.raw,
        CASE
            WHEN r.line_no = 1 THEN 'header'
            WHEN r.raw IS NULL OR NOT regexp_matches(r.raw, '[^ \t]') THEN 'blank'
            WHEN f.layout IN ('rf2', 'tsv') THEN 'record'
            ELSE f.layout
        END AS kind,
        CASE f.layout WHEN 'rf2' THEN 13 WHEN 'tsv' THEN 16 WHEN 'relationship' THEN 10 ELSE 9 END AS expected_fields,
        string_split(r.raw, chr(9)) AS fields
    FROM snomed_raw AS r
    INNER JOIN snomed_files AS f ON f.file_no = r.file_no
)
SELECT *, CASE WHEN kind NOT IN ('header', 'blank') THEN len(fields) END AS field_count
FROM lines
