-- gems_direction: how well each GEM file fits each candidate direction.
-- Input: gem_raw(file_no, line_no, raw) and the macro gem_layout. Parameters: the code patterns $icd9cm,
-- $icd10cm, $icd9pcs, $icd10pcs. The first 2,000 lines of a file decide: enough to tell
-- the layout and diagnoses from procedures. Every line is checked against the result later.
-- Returns per file: lines with the ICD-9-source layout (target at column 7), lines with the
-- ICD-10-source layout (target at column 9), and lines whose codes fit each direction.
WITH fields AS (
    SELECT
        file_no,
        line_no,
        raw,
        gem_layout(raw) AS layout
    FROM gem_raw
    WHERE line_no <= 2000
),
coded AS (
    SELECT
        file_no,
        line_no,
        layout,
        upper(trim(CASE WHEN layout = 'icd9-source' THEN substr(raw, 1, 5) ELSE substr(raw, 1, 7) END)) AS source_code,
        upper(trim(CASE WHEN layout = 'icd9-source' THEN substr(raw, 7, 7) ELSE substr(raw, 9, 5) END)) AS target_code
    FROM fields
)
SELECT
    file_no,
    COUNT(*) FILTER (WHERE layout = 'icd9-source') AS icd9_source_lines,
    COUNT(*) FILTER (WHERE layout = 'icd10-source') AS icd10_source_lines,
    COUNT(*) FILTER (WHERE layout = 'icd9-source'
        AND regexp_full_match(source_code, $icd9cm)
        AND (target_code IN ('NODX', 'NOPCS', 'NOI9') OR regexp_full_match(target_code, $icd10cm))) AS icd9cm_fits,
    COUNT(*) FILTER (WHERE layout = 'icd9-source'
        AND regexp_full_match(source_code, $icd9pcs)
        AND (target_code IN ('NODX', 'NOPCS', 'NOI9') OR regexp_full_match(target_code, $icd10pcs))) AS icd9pcs_fits,
    COUNT(*) FILTER (WHERE layout = 'icd10-source'
        AND regexp_full_match(source_code, $icd10cm)
        AND (target_code IN ('NODX', 'NOPCS', 'NOI9') OR regexp_full_match(target_code, $icd9cm))) AS icd10cm_fits,
    COUNT(*) FILTER (WHERE layout = 'icd10-source'
        AND regexp_full_match(source_code, $icd10pcs)
        AND (target_code IN ('NODX', 'NOPCS', 'NOI9') OR regexp_full_match(target_code, $icd9pcs))) AS icd10pcs_fits
FROM coded
GROUP BY file_no
