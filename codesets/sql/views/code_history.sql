-- code_history: every code of every loaded code-set release, with the dates it is valid in that release.
-- Grain: one row per code per code system and release (the part of the release that answers: code_releases).
-- Key: code_system, code, release_id (a data test checks that no two rows share it)
-- Sources: code_rows (ICD-10-CM order, code and tabular files; ICD-10-PCS; HCPCS; ICD-9-CM; a user's
--   CPT list) and code_releases. A code is valid on date of service D in release R when R answers
--   for D (release_effective_from <= D <= release_effective_to) and the code's own dates hold D
--   (HCPCS add and termination dates; ICD-9-CM ends 2015-09-30): effective_from <= D AND
--   (effective_to IS NULL OR D <= effective_to). HCPCS files keep a discontinued code for four
--   years, so effective_from may pass effective_to: listed, but valid on no date of that release.
-- Example: SELECT release_id, billable, description, effective_from, effective_to FROM code_history WHERE code_system = 'icd10cm' AND code = 'M545' ORDER BY release_effective_from;
-- Columns:
--   code_system: icd10cm, icd10pcs, hcpcs, hcpcs_modifier, icd9cm, icd9pcs or cpt
--   code: canonical code (undotted, upper case)
--   description: long title as the release states it
--   short_description: short title, where the files carry one
--   billable: a code to bill with; false for an ICD-10 header (a category with subdivisions)
--   effective_from: first date of service the code is valid in this release
--   effective_to: last such date; NULL while the release is open and the code not terminated
--   release_id: the release
--   release_effective_from: first date of service the release answers for
--   release_effective_to: last such date; NULL for the latest release
--   added: the date the file gives for the code's addition (HCPCS); NULL when the file gives none
--   terminated: the code's last date as the file gives it (HCPCS termination date; ICD-9-CM 2015-09-30)
--   action_code: HCPCS action code of the release (A added, D discontinued, C changed, N no change, ...)
--   action_effective_date: when that action took effect (HCPCS)
--   source: the loader
--   part: the file kind the row came from (order, tabular, codes, annual, ...)
--   is_sample: the bundled hand-made sample
--   source_file: file the row came from
--   line_no: line of source_file
SELECT
    c.code_system,
    c.code,
    c.description,
    c.short_description,
    c.billable,
    GREATEST(r.effective_from, c.effective_from) AS effective_from,
    LEAST(r.effective_to, c.effective_to) AS effective_to,
    c.release_id,
    r.effective_from AS release_effective_from,
    r.effective_to AS release_effective_to,
    c.effective_from AS added,
    c.effective_to AS terminated,
    c.action_code,
    c.action_effective_date,
    c.source,
    c.part,
    r.is_sample,
    c.source_file,
    c.line_no
FROM code_rows AS c
INNER JOIN code_releases AS r
    ON r.source = c.source AND r.release_id = c.release_id AND r.part = c.part
