-- ptp_changes: what each NCCI PTP quarter changed against the quarter it follows, edit by edit, per setting.
-- Grain: one row per edit line added, deleted, re-indicated, changed or removed, per (release_id, setting).
-- Key: release_id, setting, old_source_file, old_line_no, new_source_file, new_line_no (a data test checks that no two rows share it)
-- Sources: release_parts (which quarter each setting's quarter follows), edit_runs (the runs of the
-- cumulative storage, codesets.warehouse.history, as that view reads them) and edits. `codesets diff ncci_ptp A B` runs this same text
-- with the one pair it is asked for in place of the CTE pairs (codesets.warehouse.diff).
-- An edit is keyed by setting, column 1 code, column 2 code and effective date: CMS keeps every edit in
-- the file, a deleted one with its deletion date, and an edit deleted and added again comes back under a
-- new effective date. A quarter may publish one key on several lines (under indicators 9 and 0, or once
-- active and once deleted), and rarely the same line twice. So lines are first matched on their whole
-- content, one line to one line (of equal lines the earlier match first, the later ones are left over),
-- then what is left of a key is paired up under the same modifier indicator, then whatever the
-- indicator (each side in order of deletion date, rationale, prior-1996 flag, file and line); a line
-- left alone is added or removed. Every line of either quarter is in at most one row, never multiplied.
-- A paired line is, in this order of precedence:
--   deleted: no deletion date in the old quarter, one in the new (its indicator may change too);
--   reindicated: the modifier indicator changed;
--   changed: anything else (a deletion date moved or taken back, the rationale, the prior-1996 flag).
-- Cost: lines both quarters share are matched on the runs that point at them, never read; only the
-- lines one quarter holds and the other does not are read. A full quarter against the one it follows
-- takes one to two seconds; the view computes every pair, and a WHERE on release_id does not make it
-- cheaper: `codesets diff` (codesets.warehouse.query.diff) computes the one pair asked for. Quarters
-- loaded apart (not one on the other) still match, by content. DuckDB SQL: range(), hash(), structs.
-- Example: SELECT change, COUNT(*) FROM ptp_changes WHERE release_id = 'v323r0' GROUP BY change ORDER BY change;
-- Columns:
--   change: added, deleted, reindicated, changed or removed
--   setting: practitioner or outpatient_hospital
--   column1_code: column 1 (comprehensive) code
--   column2_code: column 2 (component) code
--   effective_date: first date of service of the edit (the key: the same on both sides of a pair)
--   old_modifier_indicator: modifier indicator in the older quarter; NULL for an added line
--   new_modifier_indicator: modifier indicator in the newer quarter; NULL for a removed line
--   old_deletion_date: deletion date in the older quarter; NULL while in force or for an added line
--   new_deletion_date: deletion date in the newer quarter; NULL while in force or for a removed line
--   old_rationale: rationale in the older quarter
--   new_rationale: rationale in the newer quarter
--   old_prior_1996: the prior-1996 flag in the older quarter
--   new_prior_1996: the prior-1996 flag in the newer quarter
--   old_source_file: file of the older quarter holding the line; NULL for an added line
--   old_line_no: its line
--   new_source_file: file of the newer quarter holding the line; NULL for a removed line
--   new_line_no: its line
--   release_id: the newer quarter
--   previous_release_id: the quarter it is compared against (release_parts.previous_release_id)
WITH pairs AS (
    SELECT part, release_id, previous_release_id
    FROM release_parts
    WHERE source = 'ncci_ptp' AND previous_release_id IS NOT NULL
),
-- a number per pair, so that the sorts below compare integers
compared AS (
    SELECT part, release_id, previous_release_id, ROW_NUMBER() OVER (ORDER BY part, release_id, previous_release_id) AS pair_no
    FROM pairs
),
-- both quarters' runs (edit_runs), each placed on the axis of the stored lines it points at: a run holds the
-- stored lines [origin_first_line, origin_end) of one file of one release, at its own line = stored line + shift
sides AS (
    SELECT c.pair_no, 'old' AS side, r.source_file, r.line_shift AS shift,
           r.origin_release_id, r.origin_source_file, hash(r.origin_release_id, r.origin_source_file) AS origin_key,
           r.origin_first_line, r.origin_last_line + 1 AS origin_end
    FROM compared AS c
    INNER JOIN edit_runs AS r
        ON r.source = 'ncci_ptp' AND r.part = c.part AND r.release_id = c.previous_release_id
    UNION ALL
    SELECT c.pair_no, 'new' AS side, r.source_file, r.line_shift,
           r.origin_release_id, r.origin_source_file, hash(r.origin_release_id, r.origin_source_file),
           r.origin_first_line, r.origin_last_line + 1
    FROM compared AS c
    INNER JOIN edit_runs AS r
        ON r.source = 'ncci_ptp' AND r.part = c.part AND r.release_id = c.release_id
),
-- where runs start and end; a start carries its run, so that the sweep below knows the run a
-- stretch lies in without joining back (exact while a quarter holds each stored line once)
bounds AS (
    SELECT pair_no, origin_key, origin_release_id, origin_source_file, origin_first_line AS at_line,
           CASE side WHEN 'old' THEN 1 ELSE 0 END AS old_step, CASE side WHEN 'new' THEN 1 ELSE 0 END AS new_step,
           CASE side WHEN 'old' THEN {'source_file': source_file, 'shift': shift, 'origin_end': origin_end} END AS old_run,
           CASE side WHEN 'new' THEN {'source_file': source_file, 'shift': shift, 'origin_end': origin_end} END AS new_run
    FROM sides
    UNION ALL
    SELECT pair_no, origin_key, origin_release_id, origin_source_file, origin_end,
           CASE side WHEN 'old' THEN -1 ELSE 0 END, CASE side WHEN 'new' THEN -1 ELSE 0 END, NULL, NULL
    FROM sides
),
steps AS (
    SELECT pair_no, origin_key, origin_release_id, origin_source_file, at_line,
           SUM(old_step) AS old_step, SUM(new_step) AS new_step, MAX(old_run) AS old_run, MAX(new_run) AS new_run
    FROM bounds
    GROUP BY pair_no, origin_key, origin_release_id, origin_source_file, at_line
),
-- stretches of stored lines between two bounds: how many times each quarter holds them, and the
-- run of each quarter that started last
stretches AS (
    SELECT
        pair_no, origin_release_id, origin_source_file,
        at_line AS start_line,
        LEAD(at_line) OVER w AS end_line,
        SUM(old_step) OVER w AS old_copies,
        SUM(new_step) OVER w AS new_copies,
        LAST_VALUE(old_run IGNORE NULLS) OVER w AS old_run,
        LAST_VALUE(new_run IGNORE NULLS) OVER w AS new_run
    FROM steps
    WINDOW w AS (
        PARTITION BY pair_no, origin_key, origin_release_id, origin_source_file ORDER BY at_line
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
-- the stretches one quarter holds more often than the other: the only stored lines read below
surplus AS (
    SELECT
        pair_no, origin_release_id, origin_source_file, start_line, end_line,
        CASE WHEN old_copies > new_copies THEN 'old' ELSE 'new' END AS side,
        GREATEST(old_copies, new_copies) AS copies,
        abs(old_copies - new_copies) AS extra,
        CASE WHEN old_copies > new_copies THEN old_run ELSE new_run END AS run
    FROM stretches
    WHERE old_copies <> new_copies
),
-- a quarter holding a stored line more than once (two equal lines in its files): every run of it
-- holding the stretch; the first as many as the other quarter holds match, the later ones are surplus
tangled AS (
    SELECT
        s.pair_no, s.origin_release_id, s.origin_source_file, s.start_line, s.end_line, s.side, s.copies, s.extra,
        r.source_file, r.shift,
        ROW_NUMBER() OVER (
            PARTITION BY s.pair_no, s.origin_release_id, s.origin_source_file, s.start_line
            ORDER BY r.source_file, r.shift
        ) AS copy
    FROM surplus AS s
    INNER JOIN sides AS r
        ON r.pair_no = s.pair_no AND r.side = s.side AND r.origin_release_id = s.origin_release_id
        AND r.origin_source_file = s.origin_source_file
        AND r.origin_first_line <= s.start_line AND s.start_line < r.origin_end
    WHERE NOT (s.copies = 1 AND s.start_line < s.run.origin_end)
),
holding AS (
    SELECT pair_no, side, origin_release_id, origin_source_file, start_line, end_line,
           run.source_file, run.shift
    FROM surplus
    WHERE copies = 1 AND start_line < run.origin_end
    UNION ALL
    SELECT pair_no, side, origin_release_id, origin_source_file, start_line, end_line, source_file, shift
    FROM tangled
    WHERE copy > copies - extra
),
-- the stored lines of those stretches (parts of runs, not whole runs: edits_published would expand both
-- quarters whole), one row per line the quarter holds, at stored line + shift
holding_lines AS (
    SELECT pair_no, side, source_file, shift, origin_release_id, origin_source_file,
           unnest(range(start_line, end_line)) AS origin_line
    FROM holding
),
unshared AS (
    SELECT
        h.pair_no, h.side, h.source_file,
        CAST(h.origin_line + h.shift AS INTEGER) AS line_no,
        e.setting, e.column1_code, e.column2_code, e.prior_1996, e.effective_date, e.deletion_date,
        e.modifier_indicator, e.rationale,
        hash(e.column1_code, e.column2_code, e.effective_date) AS key_hash,
        hash(e.column1_code, e.column2_code, e.effective_date, e.modifier_indicator, e.deletion_date, e.rationale,
             e.prior_1996) AS content_hash
    FROM holding_lines AS h
    INNER JOIN compared AS c ON c.pair_no = h.pair_no
    INNER JOIN edits AS e
        ON e.source = 'ncci_ptp' AND e.part = c.part AND e.release_id = h.origin_release_id
        AND e.source_file = h.origin_source_file AND e.line_no = h.origin_line
),
-- equal lines stored apart (quarters not loaded one on the other) still match, one to one: the
-- content hash finds the few contents both quarters hold here, which are then matched on their columns
mixed_contents AS (
    SELECT pair_no, content_hash
    FROM unshared
    GROUP BY pair_no, content_hash
    HAVING COUNT(DISTINCT side) = 2
),
netted AS (
    SELECT
        *,
        ROW_NUMBER() OVER same_side AS nth,
        COUNT(*) FILTER (WHERE side = 'old') OVER same AS old_count,
        COUNT(*) FILTER (WHERE side = 'new') OVER same AS new_count
    FROM (SELECT u.* FROM unshared AS u SEMI JOIN mixed_contents AS m USING (pair_no, content_hash))
    WINDOW
        same AS (
            PARTITION BY pair_no, content_hash, column1_code, column2_code, effective_date, modifier_indicator,
                deletion_date, rationale, prior_1996
        ),
        same_side AS (
            PARTITION BY pair_no, content_hash, column1_code, column2_code, effective_date, modifier_indicator,
                deletion_date, rationale, prior_1996, side
            ORDER BY source_file, line_no
        )
),
unmatched AS (
    SELECT u.* FROM unshared AS u ANTI JOIN mixed_contents AS m USING (pair_no, content_hash)
    UNION ALL
    SELECT * EXCLUDE (nth, old_count, new_count)
    FROM netted
    WHERE nth > CASE side WHEN 'old' THEN new_count ELSE old_count END
),
-- pairing: a key (setting, codes, effective date) with at most one line on each side pairs them, or
-- leaves one alone; a key with more lines goes through the two passes below
crowded_keys AS (
    SELECT pair_no, key_hash
    FROM unmatched
    GROUP BY pair_no, key_hash
    HAVING COUNT(*) FILTER (WHERE side = 'old') > 1 OR COUNT(*) FILTER (WHERE side = 'new') > 1
),
single AS (
    SELECT u.* FROM unmatched AS u ANTI JOIN crowded_keys AS c USING (pair_no, key_hash)
),
crowded AS (
    SELECT u.* FROM unmatched AS u SEMI JOIN crowded_keys AS c USING (pair_no, key_hash)
),
-- first pass: the k-th old and the k-th new line of a key under the same modifier indicator
first_pass AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY pair_no, key_hash, column1_code, column2_code, effective_date, modifier_indicator, side
            ORDER BY deletion_date NULLS FIRST, rationale, prior_1996, source_file, line_no
        ) AS first_k,
        COUNT(*) FILTER (WHERE side = 'old') OVER same AS old_count,
        COUNT(*) FILTER (WHERE side = 'new') OVER same AS new_count
    FROM crowded
    WINDOW same AS (PARTITION BY pair_no, key_hash, column1_code, column2_code, effective_date, modifier_indicator)
),
-- second pass: the k-th old and the k-th new line of what is left of a key, whatever the indicator
second_pass AS (
    SELECT
        * EXCLUDE (first_k, old_count, new_count),
        first_k <= CASE side WHEN 'old' THEN new_count ELSE old_count END AS first_paired,
        CASE WHEN first_k <= CASE side WHEN 'old' THEN new_count ELSE old_count END THEN first_k
            ELSE ROW_NUMBER() OVER (
                PARTITION BY pair_no, key_hash, column1_code, column2_code, effective_date, side,
                    first_k <= CASE side WHEN 'old' THEN new_count ELSE old_count END
                ORDER BY modifier_indicator, deletion_date NULLS FIRST, rationale, prior_1996, source_file, line_no
            )
        END AS k,
        COUNT(*) FILTER (WHERE side = 'old' AND first_k > new_count) OVER same AS old_left,
        COUNT(*) FILTER (WHERE side = 'new' AND first_k > old_count) OVER same AS new_left
    FROM first_pass
    WINDOW same AS (PARTITION BY pair_no, key_hash, column1_code, column2_code, effective_date)
),
placed AS (
    SELECT
        * EXCLUDE (old_left, new_left),
        CASE WHEN first_paired THEN modifier_indicator END AS paired_on,
        first_paired OR k <= CASE side WHEN 'old' THEN new_left ELSE old_left END AS paired
    FROM second_pass
),
-- every unmatched line once: with its partner, or alone (added, removed)
outcome AS (
    SELECT coalesce(o.pair_no, n.pair_no) AS pair_no, o AS old, n AS new
    FROM (SELECT * FROM single WHERE side = 'old') AS o
    FULL OUTER JOIN (SELECT * FROM single WHERE side = 'new') AS n
        ON n.pair_no = o.pair_no AND n.key_hash = o.key_hash AND n.column1_code = o.column1_code
        AND n.column2_code = o.column2_code AND n.effective_date = o.effective_date
    UNION ALL
    SELECT o.pair_no, o, n
    FROM (SELECT * FROM placed WHERE side = 'old' AND paired) AS o
    INNER JOIN (SELECT * FROM placed WHERE side = 'new' AND paired) AS n
        ON n.pair_no = o.pair_no AND n.key_hash = o.key_hash AND n.column1_code = o.column1_code
        AND n.column2_code = o.column2_code AND n.effective_date = o.effective_date
        AND n.paired_on IS NOT DISTINCT FROM o.paired_on AND n.k = o.k
    UNION ALL
    SELECT pair_no, CASE WHEN side = 'old' THEN p END, CASE WHEN side = 'new' THEN p END
    FROM placed AS p
    WHERE NOT paired
)
SELECT
    CASE
        WHEN x.old.line_no IS NULL THEN 'added'
        WHEN x.new.line_no IS NULL THEN 'removed'
        WHEN x.old.deletion_date IS NULL AND x.new.deletion_date IS NOT NULL THEN 'deleted'
        WHEN x.old.modifier_indicator <> x.new.modifier_indicator THEN 'reindicated'
        ELSE 'changed'
    END AS change,
    coalesce(x.new.setting, x.old.setting) AS setting,
    coalesce(x.new.column1_code, x.old.column1_code) AS column1_code,
    coalesce(x.new.column2_code, x.old.column2_code) AS column2_code,
    coalesce(x.new.effective_date, x.old.effective_date) AS effective_date,
    x.old.modifier_indicator AS old_modifier_indicator,
    x.new.modifier_indicator AS new_modifier_indicator,
    x.old.deletion_date AS old_deletion_date,
    x.new.deletion_date AS new_deletion_date,
    x.old.rationale AS old_rationale,
    x.new.rationale AS new_rationale,
    x.old.prior_1996 AS old_prior_1996,
    x.new.prior_1996 AS new_prior_1996,
    x.old.source_file AS old_source_file,
    x.old.line_no AS old_line_no,
    x.new.source_file AS new_source_file,
    x.new.line_no AS new_line_no,
    c.release_id,
    c.previous_release_id
FROM outcome AS x
INNER JOIN compared AS c ON c.pair_no = x.pair_no
