-- ptp_edits: the NCCI PTP edits of the latest loaded quarter of each setting (practitioner, outpatient hospital).
-- Grain: one row per line of the latest quarter's PTP files of each setting.
-- Key: setting, source_file, line_no (a data test checks that no two rows share it)
-- Sources: row_runs, edits and release_parts. The files are cumulative, so the latest quarter states
-- every edit's own window: the edits in force on date of service D are those with
-- modifier_indicator <> '9' AND effective_date <= D AND (deletion_date IS NULL OR D <= deletion_date).
-- A bundled sample serves only while no real quarter of the setting is loaded. It expands the
-- latest quarter's runs itself rather than filtering edits_published: the join with release_parts
-- would come after every quarter's runs expanded (18 s instead of 3.5 s over four quarters).
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
WITH latest AS (
    SELECT source, part, release_id
    FROM release_parts
    WHERE source = 'ncci_ptp' AND serves AND effective_to IS NULL
),
runs AS (
    SELECT r.*
    FROM row_runs AS r
    INNER JOIN latest AS c ON c.source = r.source AND c.part = r.part AND c.release_id = r.release_id
),
lines AS (
    SELECT
        r.source, r.part, r.release_id, r.source_file,
        r.first_line + t.i AS line_no,
        r.origin_release_id, r.origin_source_file,
        r.origin_first_line + t.i AS origin_line_no
    FROM runs AS r, range(r.line_count) AS t(i)
)
SELECT
    e.setting,
    e.column1_code,
    e.column2_code,
    e.prior_1996,
    e.effective_date,
    e.deletion_date,
    e.modifier_indicator,
    e.rationale,
    l.release_id,
    l.source_file,
    CAST(l.line_no AS INTEGER) AS line_no
FROM lines AS l
INNER JOIN edits AS e
    ON e.source = l.source AND e.part = l.part AND e.release_id = l.origin_release_id
    AND e.source_file = l.origin_source_file AND e.line_no = l.origin_line_no
