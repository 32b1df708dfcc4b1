-- gems_stage: the staged view of GEM lines: typed rows plus the facts the checks need.
-- Input: gem_raw(file_no, line_no, raw) with line endings removed (raw read as Latin-1,
--   NULL for an empty line), the macro gem_layout;
--   gem_files(file_no, source_file, part, source_system, target_system, layout) with each file's direction
--   ('icd9-source' or 'icd10-source' layout); gem_repeats(file_no, line_no, first_line) naming
--   the later copies of lines that occur more than once; variables gem_pattern_<system> holding the code pattern
--   of each system (bound once, so each regular expression is compiled once).
-- Output: one row per input line; nothing is filtered here, the checks decide. As a view it
-- is computed column by column for each reader (checks, publish); the lines are the one materialised table.
-- A GEM line is fixed width: the source code padded to 5 (ICD-9) or 7 (ICD-10) and a space,
-- the target padded to the other width and a space (column 14), five flag digits from 15.
WITH fields AS (
    SELECT
        gem_raw.file_no,
        g.source_file,
        line_no,
        raw,
        -- Latin-1 reads every byte as one character; a non-ASCII one takes two bytes in UTF-8
        CASE WHEN strlen(raw) <> length(raw) THEN
            printf('byte 0x%02X at column %d',
                ord(substr(raw, length(regexp_extract(raw, '^[\x00-\x7F]*')) + 1, 1)),
                length(regexp_extract(raw, '^[\x00-\x7F]*')) + 1)
        END AS bad_byte,
        gem_layout(raw) AS layout,
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
        CASE WHEN regexp_full_match(flags_field, '[0-9]{5}') THEN flags_field END AS flags,
        source_field <> upper(source_field)
            OR (target_field NOT IN ('NoDx', 'NoPCS', 'NoI9') AND target_field <> upper(target_field)) AS lower_case,
        target_field IN ('NoDx', 'NoPCS', 'NoI9') AS is_marker
    FROM cut
),
decoded AS (
    SELECT
        *,
        CASE source_system
            WHEN 'icd9cm' THEN regexp_full_match(source_code, getvariable('gem_pattern_icd9cm'))
            WHEN 'icd10cm' THEN regexp_full_match(source_code, getvariable('gem_pattern_icd10cm'))
            WHEN 'icd9pcs' THEN regexp_full_match(source_code, getvariable('gem_pattern_icd9pcs'))
            WHEN 'icd10pcs' THEN regexp_full_match(source_code, getvariable('gem_pattern_icd10pcs'))
        END AS source_ok,
        CASE target_system
            WHEN 'icd9cm' THEN regexp_full_match(target_raw, getvariable('gem_pattern_icd9cm'))
            WHEN 'icd10cm' THEN regexp_full_match(target_raw, getvariable('gem_pattern_icd10cm'))
            WHEN 'icd9pcs' THEN regexp_full_match(target_raw, getvariable('gem_pattern_icd9pcs'))
            WHEN 'icd10pcs' THEN regexp_full_match(target_raw, getvariable('gem_pattern_icd10pcs'))
        END AS target_ok,
        CASE WHEN is_marker THEN NULL ELSE target_raw END AS target_code,
        CASE WHEN regexp_full_match(flags, '[01]{3}[0-9]{2}') THEN flags END AS good_flags
    FROM typed
),
flagged AS (
    SELECT
        d.*,
        -- decoded without the regular expression above, so that the publish step (which runs
        -- only once the checks passed, when every flags field is good) never evaluates it
        CASE WHEN substr(flags_field, 1, 1) IN ('0', '1') THEN substr(flags_field, 1, 1) = '1' END AS approximate,
        CASE WHEN substr(flags_field, 2, 1) IN ('0', '1') THEN substr(flags_field, 2, 1) = '1' END AS no_map_flag,
        CASE WHEN substr(flags_field, 3, 1) IN ('0', '1') THEN substr(flags_field, 3, 1) = '1' END AS combination,
        TRY_CAST(substr(flags_field, 4, 1) AS UTINYINT) AS scenario,
        TRY_CAST(substr(flags_field, 5, 1) AS UTINYINT) AS choice_list,
        -- exact repeats of a line within one file: every later copy names the first
        r.first_line AS duplicate_of
    FROM decoded AS d
    LEFT JOIN gem_repeats AS r
        ON r.file_no = d.file_no AND r.line_no = d.line_no
)
SELECT
    *,
    is_marker OR coalesce(no_map_flag, FALSE) AS no_map
FROM flagged
