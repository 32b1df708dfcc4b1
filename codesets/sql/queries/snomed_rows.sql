-- snomed_rows: lines of SNOMED CT to ICD-10-CM map files cut into their fields and typed.
-- Input: the view snomed_lines (snomed_lines.sql), of which the map files: layout 'rf2' (the
--   ExtendedMap reference set, 13 fields) or 'tsv' (the human-readable map, 16 fields: the RF2
--   fields plus three names).
-- Output: one row per input line of the map files (relationship and description files are
-- snomed_concept_rows.sql's). Rule and advice text may hold quote characters that are text,
-- not quoting. Names in the TSV are
-- read, not published.
WITH cut AS (
    SELECT
        * EXCLUDE (fields),
        -- the 13 RF2 fields, in RF2 order, of a record with the right number of fields
        CASE
            WHEN kind <> 'record' OR field_count <> expected_fields THEN NULL
            WHEN layout = 'tsv' THEN list_concat(fields[1:6], fields[8:12], fields[14:15])
            ELSE fields
        END AS cells
    FROM snomed_lines
    WHERE layout IN ('rf2', 'tsv')
),
named AS (
    SELECT
        * EXCLUDE (cells),
        cells[1] AS id,
        cells[2] AS effective_time_field,
        cells[3] AS active_field,
        cells[4] AS module_id,
        cells[5] AS refset_id,
        cells[6] AS referenced_component_id,
        cells[7] AS map_group_field,
        cells[8] AS map_priority_field,
        cells[9] AS map_rule,
        cells[10] AS map_advice_field,
        cells[11] AS map_target,
        cells[12] AS correlation_id,
        cells[13] AS map_category_id
    FROM cut
),
typed AS (
    SELECT
        *,
        CASE WHEN regexp_full_match(effective_time_field, '[0-9]{8}')
            THEN CAST(try_strptime(effective_time_field, '%Y%m%d') AS DATE) END AS effective_time,
        CASE active_field WHEN '1' THEN TRUE WHEN '0' THEN FALSE END AS is_active,
        CASE WHEN regexp_full_match(map_group_field, '[0-9]{1,3}')
            THEN TRY_CAST(map_group_field AS UTINYINT) END AS map_group,
        CASE WHEN regexp_full_match(map_priority_field, '[0-9]{1,3}')
            THEN TRY_CAST(map_priority_field AS UTINYINT) END AS map_priority,
        NULLIF(map_advice_field, '') AS map_advice,
        -- canonical: undotted, upper case; an episode-of-care target keeps its '?' (M80.00X? -> M8000X?)
        NULLIF(upper(replace(map_target, '.', '')), '') AS target_code
    FROM named
)
SELECT
    *,
    ends_with(target_code, '?') AS target_incomplete,
    -- the first line of the file holding the same (id, effectiveTime): one state of a record, once
    CASE WHEN kind = 'record' AND id IS NOT NULL THEN
        min(line_no) OVER (PARTITION BY file_no, id, effective_time_field)
    END AS first_line
FROM typed
