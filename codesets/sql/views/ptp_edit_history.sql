-- ptp_edit_history: every NCCI PTP edit of every loaded quarter, as that quarter published it.
-- Grain: one row per line of every PTP file loaded (each quarter whole: about 4.5 million rows a quarter).
-- Key: release_id, setting, source_file, line_no (a data test checks that no two rows share it)
-- Sources: edits_published (the ncci_ptp loader's cumulative storage, with each quarter's window). Stored as
-- what changed between quarters; every quarter is answerable exactly as published, line numbers included.
-- "As published in quarter Q": WHERE release_id = 'v322r0'. The edits in force on date of service D for
-- setting S as quarter Q states them: WHERE release_id = Q AND setting = S AND modifier_indicator <> '9'
-- AND effective_date <= D AND (deletion_date IS NULL OR D <= deletion_date) (a deletion date is the
-- edit's last day in force: see the README).
-- Example: SELECT release_id, COUNT(*) FROM ptp_edit_history GROUP BY 1 ORDER BY 1;
-- Columns:
--   setting: practitioner or outpatient_hospital
--   column1_code: column 1 (comprehensive) code
--   column2_code: column 2 (component) code
--   prior_1996: the edit existed before 1996 ('*' in the file)
--   effective_date: first date of service the edit applies to
--   deletion_date: last date of service the edit applies to; NULL while in force
--   modifier_indicator: 0 (no modifier bypasses), 1 (an NCCI-associated modifier may), 9 (not an edit)
--   rationale: CMS rationale text
--   release_id: the quarter (NCCI version, e.g. v322r0)
--   quarter_effective_from: first date of service the quarter's files apply to
--   quarter_effective_to: the day before the next loaded quarter of the setting; NULL for the latest
--   is_sample: the bundled hand-made sample
--   source_file: file of the quarter holding the row
--   line_no: line of source_file
--   first_release_id: the quarter that first published this exact row
SELECT
    e.setting,
    e.column1_code,
    e.column2_code,
    e.prior_1996,
    e.effective_date,
    e.deletion_date,
    e.modifier_indicator,
    e.rationale,
    e.release_id,
    e.release_effective_from AS quarter_effective_from,
    e.release_effective_to AS quarter_effective_to,
    e.is_sample,
    e.source_file,
    e.line_no,
    e.first_release_id
FROM edits_published AS e
WHERE e.source = 'ncci_ptp'
