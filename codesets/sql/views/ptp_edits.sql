-- ptp_edits: the NCCI PTP edits of the latest loaded quarter of each setting (practitioner, outpatient hospital).
-- Grain: one row per line of the latest quarter's PTP files of each setting.
-- Key: setting, source_file, line_no (a data test checks that no two rows share it)
-- Sources: edits_published (the cumulative storage, expanded) filtered on the quarter in force: serves
-- AND release_effective_to IS NULL, which reaches the runs before they expand (a join with
-- release_parts would not: it would expand every quarter's runs, 18 s instead of 3.5 s over four
-- quarters). The files are cumulative, so the latest quarter states every edit's own window: the
-- edits in force on date of service D are those with modifier_indicator <> '9' AND effective_date <= D
-- AND (deletion_date IS NULL OR D <= deletion_date). A bundled sample serves only while no real quarter
-- of the setting is loaded.
-- Example: SELECT column2_code, modifier_indicator, effective_date, deletion_date FROM ptp_edits WHERE setting = 'practitioner' AND column1_code = '29881';
-- Columns:
--   setting: practitioner or outpatient_hospital
--   column1_code: column 1 (comprehensive) code
--   column2_code: column 2 (component) code
--   prior_1996: the edit existed before 1996 ('*' in the file)
--   effective_date: first date of service the edit applies to
--   deletion_date: last date of service the edit applies to; NULL while in force
--   modifier_indicator: 0 (no modifier bypasses), 1 (an NCCI-associated modifier may), 9 (not an edit)
--   rationale: CMS rationale text
--   release_id: the quarter (NCCI version)
--   source_file: file of the quarter holding the row
--   line_no: line of source_file
SELECT
    setting,
    column1_code,
    column2_code,
    prior_1996,
    effective_date,
    deletion_date,
    modifier_indicator,
    rationale,
    release_id,
    source_file,
    line_no
FROM edits_published
WHERE source = 'ncci_ptp' AND serves AND release_effective_to IS NULL
