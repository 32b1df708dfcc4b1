-- icd10cm_tabular_fill_code_rows: the codes derived from the ICD-10-CM tabular XML in the shape of the
-- shared table code_rows (sql/shapes.sql).
-- Input: the table tabular_rows (icd10cm_tabular_rows.sql), after the checks passed. The XML has
-- no short titles; ICD-10 files do not date single codes (effective_from, effective_to NULL).
-- A code with a 7th character points at the line of its leaf's <name>.
SELECT
    part,
    code_system,
    code,
    description,
    CAST(NULL AS VARCHAR) AS short_description,
    billable,
    CAST(NULL AS DATE) AS effective_from,  -- ICD-10 files date releases, not single codes
    CAST(NULL AS DATE) AS effective_to,
    source_file,
    line_no
FROM tabular_rows
WHERE kind IN ('diag', 'seventh') AND NOT withheld
