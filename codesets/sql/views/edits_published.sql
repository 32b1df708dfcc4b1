-- edits_published: every row of every release of the edits shape, as that release published it.
-- Grain: one row per line of every published file of an edits source (NCCI PTP: about 4.5 million a quarter).
-- Key: source, release_id, part, source_file, line_no (a data test checks that no two rows share it)
-- Sources: edit_runs and edits. The edits shape is stored cumulatively (codesets.warehouse.history):
-- a release keeps the rows it published first, and its runs of lines point at the rows an earlier
-- release published first. Expanding the runs (edit_runs, the one reading of them) gives each release
-- whole, with its own file and line; this is the one place they are expanded.
-- Filter on source, release_id, part, serves or release_effective_to (the edits in force: serves AND
-- release_effective_to IS NULL): the filter is applied to the runs before they expand. A join (with
-- release_parts, say) is not: it would come after every release's runs expanded.
-- Example: SELECT COUNT(*) FROM edits_published WHERE source = 'ncci_ptp' AND release_id = 'v322r0';
-- Columns:
--   source: the loader
--   release_id: the release that published the row
--   part: the part of the release (practitioner, outpatient_hospital)
--   setting: practitioner or outpatient_hospital
--   column1_code: column 1 (comprehensive) code
--   column2_code: column 2 (component) code
--   prior_1996: the edit existed before 1996 ('*' in the file)
--   effective_date: first date of service the edit applies to
--   deletion_date: last date of service the edit applies to; NULL while in force
--   modifier_indicator: 0 (no modifier bypasses), 1 (an NCCI-associated modifier may), 9 (not an edit)
--   rationale: CMS rationale text
--   source_file: file of this release holding the row
--   line_no: line of source_file
--   first_release_id: the release that first published this exact row
--   first_source_file: its file
--   first_line_no: its line there
--   serves: false for a sample once a real release of the part is loaded (release_parts)
--   release_effective_from: first date of service the release's part applies to (release_parts)
--   release_effective_to: last date of service of the release's part; NULL while open: the latest (release_parts)
--   is_sample: the bundled hand-made sample
-- range(line_count), not range(origin_first_line, ...): DuckDB evaluates a correlated range once per
-- distinct argument, and runs share a few hundred lengths but not their starts (0.9 s more a quarter)
WITH lines AS (
    SELECT r.source, r.release_id, r.part, r.source_file, r.first_line + t.i AS line_no,
           r.origin_release_id, r.origin_source_file, r.origin_first_line + t.i AS origin_line_no,
           r.serves, r.effective_from, r.effective_to, r.is_sample
    FROM edit_runs AS r, range(r.line_count) AS t(i)
)
SELECT
    l.source,
    l.release_id,
    l.part,
    e.setting,
    e.column1_code,
    e.column2_code,
    e.prior_1996,
    e.effective_date,
    e.deletion_date,
    e.modifier_indicator,
    e.rationale,
    l.source_file,
    CAST(l.line_no AS INTEGER) AS line_no,
    l.origin_release_id AS first_release_id,
    l.origin_source_file AS first_source_file,
    CAST(l.origin_line_no AS INTEGER) AS first_line_no,
    l.serves,
    l.effective_from AS release_effective_from,
    l.effective_to AS release_effective_to,
    l.is_sample
FROM lines AS l
INNER JOIN edits AS e
    ON e.source = l.source AND e.part = l.part AND e.release_id = l.origin_release_id
    AND e.source_file = l.origin_source_file AND e.line_no = l.origin_line_no
