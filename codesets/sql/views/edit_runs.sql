-- edit_runs: the stored runs of the edits shape, decoded: which lines of which release each run holds, and the stored rows they are.
-- Grain: one row per run of consecutive lines of a published file of an edits source (a few thousand a quarter).
-- Key: source, release_id, part, source_file, first_line (a data test checks that no two rows share it)
-- Sources: row_runs (codesets.warehouse.history writes them) and release_parts (the window of the run's part).
-- This is the one reading of row_runs: line first_line + i of source_file (0 <= i < line_count) is
-- the row stored at line origin_first_line + i of origin_source_file of origin_release_id; that is,
-- a stored line L in [origin_first_line, origin_last_line] is published at line L + line_shift.
-- edits_published expands the runs to lines (filter it on source, release_id, part, serves or
-- effective_to: the filter reaches the runs before they expand); the PTP scrub finds the run holding a
-- stored row (an ASOF join on origin_first_line), ptp_changes compares two quarters' runs.
-- Example: SELECT release_id, part, COUNT(*) AS runs, SUM(last_line - first_line + 1) AS lines FROM edit_runs GROUP BY ALL ORDER BY ALL;
-- Columns:
--   source: the loader
--   release_id: the release the run belongs to
--   part: the part of the release (practitioner, outpatient_hospital)
--   source_file: file of this release holding the run's lines
--   first_line: first line of the run in source_file
--   last_line: last line of the run in source_file
--   line_count: lines in the run (last_line - first_line + 1)
--   origin_release_id: the release that first published the run's rows (may be this one)
--   origin_source_file: its file
--   origin_first_line: line of origin_source_file holding the run's first row
--   origin_last_line: line of origin_source_file holding the run's last row
--   line_shift: first_line - origin_first_line: a stored line plus line_shift is its line in source_file
--   serves: false for a sample once a real release of the part is loaded (release_parts)
--   effective_from: first date of service the release's part applies to (release_parts)
--   effective_to: last date of service of the release's part; NULL while in force (release_parts)
--   is_sample: the bundled hand-made sample
SELECT
    r.source,
    r.release_id,
    r.part,
    r.source_file,
    r.first_line,
    r.first_line + r.line_count - 1 AS last_line,
    r.line_count,
    r.origin_release_id,
    r.origin_source_file,
    r.origin_first_line,
    r.origin_first_line + r.line_count - 1 AS origin_last_line,
    r.first_line - r.origin_first_line AS line_shift,
    p.serves,
    p.effective_from,
    p.effective_to,
    p.is_sample
FROM row_runs AS r
INNER JOIN release_parts AS p
    ON p.source = r.source AND p.release_id = r.release_id AND p.part = r.part
