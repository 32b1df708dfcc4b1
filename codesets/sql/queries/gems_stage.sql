-- gems_stage: the staged view of GEM lines the checks read: gems_rows plus the facts only the checks need.
-- Input: the view gem_rows (gems_rows.sql), the macro gem_layout, gem_repeats(file_no, line_no,
--   first_line) naming the later copies of lines that occur more than once, and variables
--   gem_pattern_<system> holding the code pattern of each system (bound once, so each regular
--   expression is compiled once).
-- Output: one row per input line; nothing is filtered here, the checks decide.
WITH facts AS (
    SELECT
        r.*,
        -- Latin-1 reads every byte as one character; a non-ASCII one takes two bytes in UTF-8
        CASE WHEN strlen(raw) <> length(raw) THEN
            printf('byte 0x%02X at column %d',
                ord(substr(raw, length(regexp_extract(raw, '^[\x00-\x7F]*')) + 1, 1)),
                length(regexp_extract(raw, '^[\x00-\x7F]*')) + 1)
        END AS bad_byte,
        gem_layout(raw) AS layout,
        CASE WHEN regexp_full_match(flags_field, '[0-9]{5}') THEN flags_field END AS flags,
        source_field <> upper(source_field)
            OR (NOT is_marker AND target_field <> upper(target_field)) AS lower_case,
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
        END AS target_ok
    FROM gem_rows AS r
)
SELECT
    f.*,
    -- exact repeats of a line within one file: every later copy names the first
    p.first_line AS duplicate_of
FROM facts AS f
LEFT JOIN gem_repeats AS p ON p.file_no = f.file_no AND p.line_no = f.line_no
