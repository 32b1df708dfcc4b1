-- gems_rows: GEM lines cut into their fields and typed: what is published, and nothing the checks alone need.
-- Input: gem_raw(file_no, line_no, raw) with line endings removed (raw read as Latin-1, NULL for an
--   empty line); gem_files(file_no, source_file, part, source_system, target_system, layout) with
--   each file's direction ('icd9-source' or 'icd10-source' layout).
-- Output: one row per input line. The publish step and the notes read this view; the checks read
-- gems_stage.sql, which adds what only they need (layouts, code patterns, repeats). Neither view
-- is materialised: each reader computes the columns it asks for from the one table of lines.
-- A GEM line is fixed width: the source code padded to 5 (ICD-9) or 7 (ICD-10) and a space,
-- the target padded to the other width and a space (column 14), five flag digits from 15.
WITH fields AS (
    SELECT
        gem_raw.file_no,
        g.source_file,
        line_no,
        raw,
        g.part,
        CASE WHEN g.layout = 'icd9-source' THEN 6 ELSE 8 END AS width,
        g.source_system,
        g.target_system,
        g.layout AS file_layout
    FROM gem_raw
    INNER JOIN gem_files AS g ON g.file_no = gem_raw.file_no
),
cut AS (
    SELECT
        *,
        rtrim(substr(raw, 1, width - 1)) AS source_field,
        rtrim(substr(raw, width + 1, 14 - width)) AS target_field,
        substr(raw, 15) AS flags_field
    FROM fields
),
typed AS (
    SELECT
        *,
        -- a field is one token starting at its column; codes are stored upper case
        -- (the real 2018_I10gem.txt has one 'v5889')
        CASE WHEN source_field <> '' AND strpos(source_field, ' ') = 0 THEN upper(source_field) END AS source_code,
        CASE
            WHEN target_field IN ('NoDx', 'NoPCS', 'NoI9') THEN target_field
            WHEN target_field <> '' AND strpos(target_field, ' ') = 0 THEN upper(target_field)
        END AS target_raw,
        target_field IN ('NoDx', 'NoPCS', 'NoI9') AS is_marker,
        -- the flag digits, decoded without a regular expression (the checks hold each field to
        -- [01]{3}[0-9]{2}; a field that fails them is never published)
        CASE WHEN substr(flags_field, 1, 1) IN ('0', '1') THEN substr(flags_field, 1, 1) = '1' END AS approximate,
        CASE WHEN substr(flags_field, 2, 1) IN ('0', '1') THEN substr(flags_field, 2, 1) = '1' END AS no_map_flag,
        CASE WHEN substr(flags_field, 3, 1) IN ('0', '1') THEN substr(flags_field, 3, 1) = '1' END AS combination,
        TRY_CAST(substr(flags_field, 4, 1) AS UTINYINT) AS scenario,
        TRY_CAST(substr(flags_field, 5, 1) AS UTINYINT) AS choice_list
    FROM cut
)
SELECT
    *,
    CASE WHEN is_marker THEN NULL ELSE target_raw END AS target_code,
    is_marker OR coalesce(no_map_flag, FALSE) AS no_map
FROM typed
