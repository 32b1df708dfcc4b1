-- code_titles: the latest title of every code the loaded code sets list, for labelling other answers (GEM rows, map answers).
-- Grain: one row per (code_system, code).
-- Key: code_system, code (a data test checks that no two rows share it)
-- Sources: code_history: the title of the latest release (by first date of service) that lists the
--   code, so a code deleted since keeps the title it last had.
-- Example: SELECT code, description FROM code_titles WHERE code_system = 'icd10cm' AND code IN ('R6521', 'E119');
-- Columns:
--   code_system: icd10cm, icd10pcs, hcpcs, hcpcs_modifier, icd9cm, icd9pcs or cpt
--   code: canonical code (undotted, upper case)
--   description: long title
--   short_description: short title, where the files carry one
--   release_id: the release the title comes from
WITH ranked AS (
    SELECT
        code_system,
        code,
        description,
        short_description,
        release_id,
        ROW_NUMBER() OVER (PARTITION BY code_system, code ORDER BY release_effective_from DESC) AS recency
    FROM code_history
)
SELECT code_system, code, description, short_description, release_id
FROM ranked
WHERE recency = 1
