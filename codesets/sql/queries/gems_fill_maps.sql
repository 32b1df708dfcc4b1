-- gems_fill_maps: the staged GEM rows in the shape of the shared table maps (sql/shapes.sql).
-- Input: the view gem_rows (gems_rows.sql), after the checks passed. The publish step adds
-- source and release_id and writes one Parquet file per part (direction).
SELECT
    part,
    -- an ENUM costs DuckDB's Parquet writer far less than VARCHAR; readers see a string
    CAST(source_system AS ENUM('icd9cm', 'icd10cm', 'icd9pcs', 'icd10pcs')) AS source_system,
    CAST(target_system AS ENUM('icd9cm', 'icd10cm', 'icd9pcs', 'icd10pcs')) AS target_system,
    source_code,
    target_code,
    flags_field AS flags,  -- after the checks, every flags field is five good digits
    approximate,
    no_map,
    combination,
    scenario,
    choice_list,
    source_file,
    line_no
FROM gem_rows
